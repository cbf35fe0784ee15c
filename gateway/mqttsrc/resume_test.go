package mqttsrc

import (
	"context"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// TestPublishAcrossReconnects: QoS 1 publishes in flight while the broker restarts,
// on a persistent session. paho replays stored publishes on resume and claims their
// ids again (messageIds.claimID completes the old token while another goroutine may
// complete it too): "close of closed channel" and a data race under load. The source
// keeps its own publishes out of paho's store, so nothing is replayed: a publish cut by
// a disconnect fails and its caller retries.
func TestPublishAcrossReconnects(t *testing.T) {
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	c := &collector{}
	s, stop := start(t, Options{URL: m.URL(), ClientID: "gw-resume", Topics: []string{"sensors/#"},
		HeartbeatTopic: "saqshy/c1/gateway/heartbeat", Heartbeat: 10 * time.Millisecond, MaxReconnect: 100 * time.Millisecond}, c.handle)
	defer stop()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
				_ = s.Publish(pctx, "saqshy/c1/out", false, []byte("x"))
				pcancel()
			}
		})
	}
	for i := range 40 {
		time.Sleep(50 * time.Millisecond)
		if i%10 == 9 {
			m.Stop()
			m.Start()
			continue
		}
		// Another client with the same id cuts the connection at once.
		thief := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.URL()).SetClientID("gw-resume").SetCleanSession(false))
		if tok := thief.Connect(); tok.WaitTimeout(2*time.Second) && tok.Error() == nil {
			thief.Disconnect(0)
		}
	}
	time.Sleep(500 * time.Millisecond)
	cancel()
	wg.Wait()
	waitFor(t, "reconnected", s.Connected)
	if err := s.Publish(t.Context(), "saqshy/c1/out", false, []byte("after")); err != nil {
		t.Fatalf("publish after the restarts: %v", err)
	}
}
