package camera

import (
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// TestSetSight: a working camera whose stills show it does not see (here: taped)
// stops covering its zone at once, its point says why, the zone's gap opens and
// raises coverage_gap after its hold but no camera_offline (its watcher raises
// camera_tampered); a still that sees again restores the coverage.
func TestSetSight(t *testing.T) {
	day := time.Date(2026, 3, 10, 8, 0, 0, 0, almaty)
	cams := []config.Camera{{ID: "cam-v", Zones: []string{"room-1"}, Source: "generic", Topic: "v/state"}}
	cfg := testConfig(t, []config.Zone{{ID: "room-1", Kind: "living"}}, cams)
	now := day
	conds := newCondLog(func() time.Time { return now })
	c, err := New(cfg, conds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Message(msg("v/state", "online", now), true); err != nil {
		t.Fatal(err)
	}
	c.Tick(now, true)
	if got := states(c.Snapshot()); got != "cam-v=healthy//covers" {
		t.Fatalf("before: %s", got)
	}
	now = day.Add(time.Minute)
	evs, err := c.SetSight("cam-v", false, "covered", now, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := states(c.Snapshot()); got != "cam-v=degraded/view_covered/-" {
		t.Errorf("taped: %s", got)
	}
	if p := strings.Join(points(evs), "\n"); !strings.Contains(p, "covers=false") || !strings.Contains(p, `reason="view_covered"`) {
		t.Errorf("taped camera's point:\n%s", p)
	}
	if z := c.Snapshot().Zones[0]; z.Covered {
		t.Errorf("zone still covered by a taped camera: %+v", z)
	}
	for now = now.Add(time.Minute); now.Before(day.Add(time.Hour)); now = now.Add(time.Minute) {
		c.Tick(now, true)
	}
	ops := strings.Join(conds.take(), "\n")
	if !strings.Contains(ops, "raise coverage_gap room-1") || strings.Contains(ops, "camera_offline") {
		t.Errorf("conditions of an hour taped:\n%s", ops)
	}
	if _, err := c.SetSight("cam-v", true, "", now, true); err != nil {
		t.Fatal(err)
	}
	if got := states(c.Snapshot()); got != "cam-v=healthy//covers" {
		t.Errorf("untaped: %s", got)
	}
	if ops := strings.Join(conds.take(), "\n"); !strings.Contains(ops, "clear coverage_gap room-1") {
		t.Errorf("untaping cleared nothing:\n%s", ops)
	}
	// Covered 1 min of the hour (8:00–8:01) plus the restore minute's start.
	if r, ok := c.CoverageRatio(day, day.Add(time.Hour)); !ok || r > 0.05 {
		t.Errorf("coverage of the taped hour: %.3f (known %t), want at most 0.05", r, ok)
	}
}

// TestSetSightBadInput: an unknown camera and a blind verdict without a reason are
// refused with errors naming them.
func TestSetSightBadInput(t *testing.T) {
	cams := []config.Camera{{ID: "cam-v", Zones: []string{"room-1"}, Source: "generic", Topic: "v/state"}}
	c, _ := New(testConfig(t, []config.Zone{{ID: "room-1", Kind: "living"}}, cams), newCondLog(time.Now), nil)
	now := time.Date(2026, 3, 10, 8, 0, 0, 0, almaty)
	if _, err := c.SetSight("cam-x", false, "dark", now, true); err == nil || !strings.Contains(err.Error(), `"cam-x" is not configured`) {
		t.Errorf("unknown camera: %v", err)
	}
	if _, err := c.SetSight("cam-v", false, "", now, true); err == nil || !strings.Contains(err.Error(), "needs a reason") {
		t.Errorf("no reason: %v", err)
	}
}
