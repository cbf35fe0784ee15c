package check

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

func TestConditionsRaiseRefreshClear(t *testing.T) {
	cs := NewConditions(slog.New(slog.DiscardHandler))
	t0 := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	cs.Raise(telemetry.Condition{Kind: "probe_error", Subject: "boiler-out", Zone: "boiler", Severity: telemetry.Warning, Since: t0, Reason: "crc"})
	cs.Raise(telemetry.Condition{Kind: "probe_error", Subject: "boiler-out", Zone: "boiler", Severity: telemetry.Warning, Since: t0.Add(time.Minute), Reason: "disconnected"})
	cs.Raise(telemetry.Condition{Kind: "probe_error", Subject: "fridge", Zone: "med-fridge", Severity: telemetry.Warning, Since: t0.Add(time.Second), Reason: "bus"})
	got := cs.List()
	if len(got) != 2 || got[0].Subject != "boiler-out" || !got[0].Since.Equal(t0) || got[0].Reason != "disconnected" {
		t.Fatalf("open: %+v; want boiler-out first, since its first raise, with the latest reason", got)
	}
	cs.Clear("probe_error", "boiler-out", t0.Add(time.Hour))
	cs.Clear("probe_error", "nobody", t0.Add(time.Hour)) // not open: nothing happens
	if got := cs.List(); len(got) != 1 || got[0].Subject != "fridge" {
		t.Fatalf("after clear: %+v", got)
	}
}

// condLog is a listener that records what reaches it.
type condLog struct{ got []string }

func (l *condLog) Raise(c telemetry.Condition) {
	l.got = append(l.got, "raise "+c.Kind+"/"+c.Subject+" "+c.Severity.String())
}
func (l *condLog) Clear(kind, subject string, at time.Time) {
	l.got = append(l.got, "clear "+kind+"/"+subject)
}

// Every transition reaches the listeners, whoever raised it; refreshes do not.
func TestConditionsFanOut(t *testing.T) {
	cs := NewConditions(slog.New(slog.DiscardHandler))
	l := &condLog{}
	cs.Listen(l)
	t0 := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	cs.Restore(telemetry.Condition{Kind: "camera_offline", Subject: "cam-01", Severity: telemetry.Critical, Since: t0})
	cs.Raise(telemetry.Condition{Kind: "round_missed", Subject: "cp-101", Severity: telemetry.Warning, Since: t0})
	cs.Raise(telemetry.Condition{Kind: "round_missed", Subject: "cp-101", Severity: telemetry.Warning, Since: t0, Reason: "again"})
	cs.Raise(telemetry.Condition{Kind: "round_missed", Subject: "cp-101", Severity: telemetry.Critical, Since: t0})
	cs.Clear("round_missed", "cp-101", t0)
	cs.Clear("round_missed", "cp-101", t0)
	cs.Clear("camera_offline", "cam-01", t0) // restored: its clear reaches the listener
	want := []string{"raise round_missed/cp-101 warning", "raise round_missed/cp-101 critical", "clear round_missed/cp-101", "clear camera_offline/cam-01"}
	if strings.Join(l.got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("listener got %q, want %q", l.got, want)
	}
}

// TestConditionsBetween: the conditions open at any time in a period, resolved ones
// included, for the score's caps.
func TestConditionsBetween(t *testing.T) {
	cs := NewConditions(slog.New(slog.DiscardHandler))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cs.Raise(telemetry.Condition{Kind: "a", Subject: "1", Since: t0})
	cs.Raise(telemetry.Condition{Kind: "b", Subject: "2", Since: t0.Add(time.Hour)})
	cs.Clear("a", "1", t0.Add(2*time.Hour))
	got := func(from, to time.Time) string {
		var kinds []string
		for _, c := range cs.Between(from, to) {
			kinds = append(kinds, c.Kind)
		}
		slices.Sort(kinds)
		return strings.Join(kinds, "")
	}
	for _, tt := range []struct {
		from, to time.Duration
		want     string
	}{
		{-time.Hour, 0, ""},                     // before both
		{0, 30 * time.Minute, "a"},              // a open
		{90 * time.Minute, 3 * time.Hour, "ab"}, // b open, a resolved at 2 h
		{3 * time.Hour, 4 * time.Hour, "b"},     // a resolved before
	} {
		if g := got(t0.Add(tt.from), t0.Add(tt.to)); g != tt.want {
			t.Errorf("between(%v, %v) = %q, want %q", tt.from, tt.to, g, tt.want)
		}
	}
}

// blockingListener blocks in its first Raise until release is closed, and records
// every transition.
type blockingListener struct {
	entered, release chan struct{}
	once             sync.Once

	mu  sync.Mutex
	got []string
}

func (l *blockingListener) Raise(c telemetry.Condition) {
	l.once.Do(func() { close(l.entered); <-l.release })
	l.mu.Lock()
	l.got = append(l.got, "raise "+c.Subject+" "+c.Severity.String())
	l.mu.Unlock()
}

func (l *blockingListener) Clear(kind, subject string, at time.Time) {
	l.mu.Lock()
	l.got = append(l.got, "clear "+subject)
	l.mu.Unlock()
}

// TestConditionsSlowListenerBlocksNobody: a listener that is slow (the alert engine
// saving its state and writing the outbox) does not hold the registry's lock: while
// it works on one transition, another goroutine raises, clears and lists without
// waiting, and every transition still reaches the listener once, in order.
func TestConditionsSlowListenerBlocksNobody(t *testing.T) {
	cs := NewConditions(slog.New(slog.DiscardHandler))
	l := &blockingListener{entered: make(chan struct{}), release: make(chan struct{})}
	cs.Listen(l)
	t0 := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	first := make(chan struct{})
	go func() {
		cs.Raise(telemetry.Condition{Kind: "stale", Subject: "a", Severity: telemetry.Warning, Since: t0})
		close(first)
	}()
	<-l.entered
	done := make(chan struct{})
	go func() {
		cs.Raise(telemetry.Condition{Kind: "stale", Subject: "b", Severity: telemetry.Warning, Since: t0})
		cs.Raise(telemetry.Condition{Kind: "stale", Subject: "b", Severity: telemetry.Critical, Since: t0})
		cs.Clear("stale", "b", t0.Add(time.Minute))
		cs.List()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		close(l.release)
		t.Fatal("Raise, Clear and List waited for a listener working on another goroutine's transition")
	}
	close(l.release)
	<-first
	l.mu.Lock()
	defer l.mu.Unlock()
	want := "raise a warning; raise b warning; raise b critical; clear b"
	if got := strings.Join(l.got, "; "); got != want {
		t.Fatalf("listener got %q, want %q", got, want)
	}
}
