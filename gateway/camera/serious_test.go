package camera

import (
	"log/slog"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// TestSeriousEventsOnlyRequiredCameras: only a camera that covers a required zone
// can cap the score when it is down.
func TestSeriousEventsOnlyRequiredCameras(t *testing.T) {
	cfg := config.Default()
	cfg.Zones = []config.Zone{{ID: "room", Kind: "living"}, {ID: "office", Kind: "office"}}
	cfg.Cameras = []config.Camera{{ID: "cam-room", Zones: []string{"room"}}, {ID: "cam-office", Zones: []string{"office"}}}
	cs := check.NewConditions(slog.New(slog.DiscardHandler))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, cam := range []string{"cam-room", "cam-office"} {
		cs.Raise(telemetry.Condition{Kind: "camera_offline", Subject: cam, Severity: telemetry.Critical, Since: t0})
	}
	got := NewSeriousEvents(cfg, cs).Serious(t0, t0.Add(48*time.Hour))
	if len(got) != 1 || got[0].Subject != "cam-room" || got[0].Kind != "camera_down" {
		t.Fatalf("serious events %+v, want camera_down of cam-room only", got)
	}
}
