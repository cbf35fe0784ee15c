package gateway

import (
	"log/slog"
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
