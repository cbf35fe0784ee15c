package check

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

func TestMatchTopic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"frigate/stats", "frigate/stats", true},
		{"frigate/stats", "frigate/stats/x", false},
		{"frigate/+/status/+", "frigate/cam1/status/detect", true},
		{"frigate/+/status/+", "frigate/cam1/status", false},
		{"frigate/#", "frigate", true},
		{"frigate/#", "frigate/a/b/c", true},
		{"#", "anything/at/all", true},
		{"saqshy/c1/round/+/scan", "saqshy/c1/round/cp-1/scan", true},
		{"saqshy/c1/round/+/scan", "saqshy/c2/round/cp-1/scan", false},
		{"a/+", "a/", true},
		{"a/+", "a", false},
		{"a", "a/b", false},
		{"a/b", "a", false},
		{"+/+", "x/y", true},
	}
	for _, tt := range tests {
		if got := MatchTopic(tt.filter, tt.topic); got != tt.want {
			t.Errorf("MatchTopic(%q, %q) = %t, want %t", tt.filter, tt.topic, got, tt.want)
		}
	}
}

// floodCheck returns n points per tick and counts its ticks and confirmations.
type floodCheck struct {
	n                int
	ticks, committed atomic.Int64
}

func (c *floodCheck) Name() string { return "flood" }
func (c *floodCheck) Committed()   { c.committed.Add(1) }
func (c *floodCheck) Tick(now time.Time, _ bool) []telemetry.Event {
	c.ticks.Add(1)
	evs := make([]telemetry.Event, c.n)
	for i := range evs {
		evs[i] = telemetry.NewPoint(now, "flood", nil, telemetry.Int("i", int64(i)))
	}
	return evs
}

// failingSpool refuses appends until ok is set, then counts what it keeps.
type failingSpool struct {
	ok   atomic.Bool
	kept atomic.Int64
}

func (s *failingSpool) Append(_ context.Context, evs ...telemetry.Event) error {
	if !s.ok.Load() {
		return errors.New("disk full")
	}
	s.kept.Add(int64(len(evs)))
	return nil
}

// TestTicksStandStillWhileTheSpoolRefuses: while the spool refuses a backlog of
// points, the checks are not ticked (nothing is dropped, nothing confirmed); once
// it accepts, every point is kept, then confirmed, and the ticks resume.
func TestTicksStandStillWhileTheSpoolRefuses(t *testing.T) {
	ck := &floodCheck{n: maxPendingPoints/2 + 1}
	tk := Ticks{Log: slog.New(slog.DiscardHandler), Clock: syncedClock{}, Checks: []Check{ck}, Every: 5 * time.Millisecond}
	sp := &failingSpool{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tk.Run(ctx, sp); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(200 * time.Millisecond) // ~40 ticks of the ticker
	if n := ck.ticks.Load(); n != 2 {
		t.Fatalf("the check was ticked %d times while the spool refused; want 2 (then the backlog is full)", n)
	}
	if ck.committed.Load() != 0 {
		t.Fatal("points confirmed that the spool refused")
	}
	sp.ok.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for ck.committed.Load() == 0 || ck.ticks.Load() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("after the spool recovered: %d ticks, %d confirmations", ck.ticks.Load(), ck.committed.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if kept := sp.kept.Load(); kept < int64(2*ck.n) || kept%int64(ck.n) != 0 {
		t.Fatalf("the spool kept %d points, want every tick's %d", kept, ck.n)
	}
}

// syncedClock is the host's time, synchronised.
type syncedClock struct{}

func (syncedClock) Now() time.Time { return time.Now() }
func (syncedClock) Synced() bool   { return true }
