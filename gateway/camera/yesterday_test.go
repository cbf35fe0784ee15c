package camera

import (
	"bytes"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// TestRestartAfterMidnight: a restart at 00:30, before the safety score closes the
// day at 01:00, keeps the closed days' coverage known: CoverageRatio of yesterday
// equals the value without a restart, whether the last save was after midnight or
// (a power cut at 23:59) before it, when the minute of the cut counts as unknown.
// The days before yesterday stay known too.
func TestRestartAfterMidnight(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, almaty)
	cams := []config.Camera{{ID: "cam-v", Zones: []string{"room-1"}, Source: "generic", Topic: "v/state"}}
	cfg := testConfig(t, []config.Zone{{ID: "room-1", Kind: "living"}}, cams)
	// The camera is down one hour a day, a different hour each day.
	run := func(c *Check, from, to time.Time) {
		t.Helper()
		for now := from; !now.After(to); now = now.Add(time.Minute) {
			v := "online"
			if h := now.In(almaty).Hour(); h == 2+now.In(almaty).Day()%5 {
				v = "offline"
			}
			if _, err := c.Message(msg("v/state", v, now), true); err != nil {
				t.Fatal(err)
			}
			c.Tick(now, true)
		}
	}
	first := day.AddDate(0, 0, -2)
	ref, _ := New(cfg, newCondLog(time.Now), nil)
	run(ref, first, day.Add(24*time.Hour+time.Hour))
	want := map[time.Time]float64{}
	for d := first; d.Before(day.AddDate(0, 0, 1)); d = d.AddDate(0, 0, 1) {
		r, known := ref.CoverageRatio(d, d.AddDate(0, 0, 1))
		if !known || r <= 0 || r >= 1 {
			t.Fatalf("reference CoverageRatio(%s) = %v, %t", d, r, known)
		}
		want[d] = r
	}

	for _, tc := range []struct {
		name    string
		saved   time.Time // the last save before the restart
		unknown time.Duration
	}{
		{"saved after midnight", day.Add(24*time.Hour + 29*time.Minute), 0},
		{"saved before midnight", day.Add(24*time.Hour - time.Minute), time.Minute},
	} {
		a, _ := New(cfg, newCondLog(time.Now), nil)
		run(a, first, tc.saved)
		var saved bytes.Buffer
		if err := a.SaveState(&saved); err != nil {
			t.Fatal(err)
		}
		b, _ := New(cfg, newCondLog(time.Now), nil)
		if err := b.LoadState(&saved); err != nil {
			t.Fatal(err)
		}
		run(b, day.Add(24*time.Hour+30*time.Minute), day.Add(25*time.Hour))
		for d, w := range want {
			if d.Equal(day) {
				w -= float64(tc.unknown) / float64(24*time.Hour) // covered without the cut
			}
			if r, known := b.CoverageRatio(d, d.AddDate(0, 0, 1)); !known || r != w {
				t.Errorf("%s: CoverageRatio(%s) = %v, %t; want %v", tc.name, d.Format(time.DateOnly), r, known, w)
			}
		}
		if s := b.Snapshot(); !s.YesterdayStart.Equal(day) || !s.Kinds[len(s.Kinds)-1].HasYesterday {
			t.Errorf("%s: no yesterday in the snapshot: %v", tc.name, s.YesterdayStart)
		}
	}
}
