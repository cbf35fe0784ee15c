package gateway

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

func TestConditionsRaiseRefreshClear(t *testing.T) {
	cs := newConditions(slog.New(slog.DiscardHandler))
	t0 := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	cs.Raise(telemetry.Condition{Kind: "probe_error", Subject: "boiler-out", Zone: "boiler", Severity: telemetry.Warning, Since: t0, Reason: "crc"})
	cs.Raise(telemetry.Condition{Kind: "probe_error", Subject: "boiler-out", Zone: "boiler", Severity: telemetry.Warning, Since: t0.Add(time.Minute), Reason: "disconnected"})
	cs.Raise(telemetry.Condition{Kind: "probe_error", Subject: "fridge", Zone: "med-fridge", Severity: telemetry.Warning, Since: t0.Add(time.Second), Reason: "bus"})
	got := cs.list()
	if len(got) != 2 || got[0].Subject != "boiler-out" || !got[0].Since.Equal(t0) || got[0].Reason != "disconnected" {
		t.Fatalf("open: %+v; want boiler-out first, since its first raise, with the latest reason", got)
	}
	cs.Clear("probe_error", "boiler-out", t0.Add(time.Hour))
	cs.Clear("probe_error", "nobody", t0.Add(time.Hour)) // not open: nothing happens
	if got := cs.list(); len(got) != 1 || got[0].Subject != "fridge" {
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
	cs := newConditions(slog.New(slog.DiscardHandler))
	l := &condLog{}
	cs.listen(l)
	t0 := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	cs.restore(telemetry.Condition{Kind: "camera_offline", Subject: "cam-01", Severity: telemetry.Critical, Since: t0})
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
