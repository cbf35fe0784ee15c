package mqttsrc

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// TestBacklogDrainIsBounded: draining a persistent session's backlog, the source
// holds at most its queue and one batch of unacknowledged messages, even though
// Mosquitto 2.0 stops enforcing max_inflight_messages for a resumed session whose
// client acknowledges in batches (and then sends the whole backlog at once).
func TestBacklogDrainIsBounded(t *testing.T) {
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	opt := Options{URL: m.URL(), ClientID: "gw-flow", Topics: []string{"sensors/#"}, MaxInflight: 100}
	c := &collector{}
	_, stop := start(t, opt, c.handle)
	stop()
	const n = 20_000
	publish(t, m.URL(), n, "sensors", false) // queued for the session
	slow := func(ctx context.Context, msgs []Message) error {
		time.Sleep(2 * time.Millisecond) // an fsync
		return c.handle(ctx, msgs)
	}
	s, stop := start(t, opt, slow)
	defer stop()
	var most atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c.count() < n {
			st := s.Stats()
			if out := st.Received - st.Acked; out > most.Load() {
				most.Store(out)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%d of %d messages after 60s", c.count(), n)
	}
	// Queue (MaxInflight) + the batch being handled (MaxBatch) + the one paho's router
	// is handing over.
	if limit := uint64(2*opt.MaxInflight + 1); most.Load() > limit {
		t.Fatalf("%d messages received and not acknowledged at once, want at most %d", most.Load(), limit)
	}
	t.Logf("at most %d unacknowledged", most.Load())
}
