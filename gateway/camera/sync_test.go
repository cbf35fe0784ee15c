package camera

import (
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// TestClockSyncAfterPowerCut: the gateway boots after a power cut of 3 days with a
// clock 3 days behind and unsynchronised for 10 minutes; at NTP sync the clock
// jumps to the true time and Frigate reports within a minute. Nothing was seen
// uncovered for as long as a hold, so no condition is raised — none dated with the
// stale clock, and none raised while the clock was unsynchronised.
func TestClockSyncAfterPowerCut(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, almaty)
	cams := []config.Camera{{ID: "cam-a", Zones: []string{"room-1"}, Source: "frigate", Name: "salon"}}
	cfg := testConfig(t, []config.Zone{{ID: "room-1", Kind: "living"}}, cams)
	stale := day.Add(8*time.Hour).AddDate(0, 0, -3) // the clock at boot
	now := stale
	conds := newCondLog(func() time.Time { return now })
	c, err := New(cfg, conds, nil)
	if err != nil {
		t.Fatal(err)
	}
	for ; now.Before(stale.Add(10 * time.Minute)); now = now.Add(10 * time.Second) {
		c.Tick(now, false)
	}
	if got := conds.take(); len(got) != 0 {
		t.Errorf("conditions while unsynchronised: %q", got)
	}
	stats := `{"cameras":{"salon":{"camera_fps":5.0,"pid":10,"capture_pid":11}},"service":{"version":"0.17.2"}}`
	synced := day.Add(8*time.Hour + 10*time.Minute)
	for now = synced; now.Before(synced.Add(20 * time.Minute)); now = now.Add(10 * time.Second) {
		if now.Equal(synced.Add(30 * time.Second)) {
			if _, err := c.Message(msg("frigate/available", "online", now), true); err != nil {
				t.Fatal(err)
			}
		}
		if now.Sub(synced) >= 30*time.Second && now.Second() == 30 {
			if _, err := c.Message(msg("frigate/stats", stats, now), true); err != nil {
				t.Fatal(err)
			}
		}
		c.Tick(now, true)
	}
	if got := conds.take(); len(got) != 0 {
		t.Errorf("conditions after the sync: %q", got)
	}
	if s := c.Snapshot(); !s.Cameras[0].Covers {
		t.Errorf("cam-a does not cover: %s", states(s))
	}

	// Still down a hold after the sync: raised, dated at the sync, not 3 days ago.
	d, _ := New(cfg, conds, nil)
	for now = stale; now.Before(stale.Add(10 * time.Minute)); now = now.Add(10 * time.Second) {
		d.Tick(now, false)
	}
	for now = synced; !now.After(synced.Add(5 * time.Minute)); now = now.Add(10 * time.Second) {
		d.Tick(now, true)
	}
	want := []string{
		"08:15:00 raise coverage_gap room-1 warning since 08:10:00",
		"08:15:00 raise camera_offline cam-a warning since 08:10:00",
	}
	if got := conds.take(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("conditions of a camera still down:\n got %q\nwant %q", got, want)
	}
	for k, cond := range conds.open {
		if !cond.Since.Equal(synced) {
			t.Errorf("%s since %s, want the sync %s", k, cond.Since, synced)
		}
	}
}
