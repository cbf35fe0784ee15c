package sim

import (
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/camera"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// nopConds takes conditions and forgets them.
type nopConds struct{}

func (nopConds) Raise(telemetry.Condition)       {}
func (nopConds) Clear(string, string, time.Time) {}

// TestDemoCameras: the demo centre's config with cameras is valid, its Frigate
// messages decode, and over a simulated half day the flaky cameras fail and recover so
// that coverage moves, while the steady ones stay healthy.
func TestDemoCameras(t *testing.T) {
	c := NewCentre("demo", 7)
	c.Config.ApplyDefaults()
	if err := c.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Cameras) != 11 {
		t.Fatalf("%d cameras", len(c.Cameras))
	}
	chk, err := camera.New(c.Config, nopConds{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 10, 0, 0, 0, 0, c.loc)
	feed := func(msgs []Message, at time.Time) {
		for _, m := range msgs {
			if _, err := chk.Message(telemetry.Message{Topic: m.Topic, Payload: m.Payload, Retained: m.Retained, Received: at}, true); err != nil {
				t.Fatalf("%s: %v", m.Topic, err)
			}
		}
	}
	feed(c.CameraAvailability(), t0)
	minCovered, maxCovered := 1<<30, 0
	for now := t0; now.Before(t0.Add(12 * time.Hour)); now = now.Add(5 * time.Second) {
		feed(c.CameraTick(now), now)
		chk.Tick(now, true)
		if now.Second() == 0 && now.After(t0) {
			all := chk.Snapshot().Kinds
			n := all[len(all)-1].CoveredNow
			minCovered, maxCovered = min(minCovered, n), max(maxCovered, n)
		}
	}
	s := chk.Snapshot()
	total := s.Kinds[len(s.Kinds)-1]
	if maxCovered != total.Zones || minCovered >= total.Zones {
		t.Errorf("covered zones ranged %d..%d of %d: the flaky cameras should make it move", minCovered, maxCovered, total.Zones)
	}
	if r := total.Today.Ratio(); r < 0.8 || r >= 1 {
		t.Errorf("day ratio %.3f", r)
	}
	for _, cam := range s.Cameras {
		if cam.ID == "cam-101" && cam.State != camera.Healthy {
			t.Errorf("steady camera %s: %s %s", cam.ID, cam.State, cam.Reason)
		}
	}
}
