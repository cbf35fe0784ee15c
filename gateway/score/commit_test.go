package score

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// dayPoints returns the day points among pts for the day starting at start.
func dayPoints(pts []telemetry.Event, start time.Time) int {
	n := 0
	for _, p := range pts {
		if _, period := fields(p); period == "day" && p.Time.Equal(start) {
			n++
		}
	}
	return n
}

// TestDayPointCommitted: a day point returned by Tick but never reported durable
// (no Committed: a crash or a failing spool) is written again after a restart from
// the state file, whether saved by the periodic save or at shutdown; once
// Committed, the state file says the day is written and a restart does not repeat
// it.
func TestDayPointCommitted(t *testing.T) {
	for _, tt := range []struct {
		name      string
		commit    bool // call Committed after every Tick, as the gateway does after a good append
		saveAtEnd bool // Save, as Run does at shutdown
		wantAgain bool
	}{
		{"not committed, periodic save", false, false, true},
		{"not committed, shutdown save", false, true, true},
		{"committed", true, false, false},
		{"committed, shutdown save", true, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "score-state.json")
			opt := Options{StateFile: path, SaveEvery: 10 * time.Minute}
			c1 := newTestCheck(t, stateSensors, opt)
			feed(c1, "corr", at(0, 0, 0), at(1, 0, 10), time.Minute, constant(19))
			feed(c1, "fridge", at(0, 0, 0), at(1, 0, 10), 5*time.Minute, constant(5))
			var pts []telemetry.Event
			for m := at(0, 0, 0); !m.After(at(1, 1, 30)); m = m.Add(time.Minute) {
				pts = append(pts, c1.Tick(m, true)...)
				if tt.commit {
					c1.Committed()
				}
			}
			if n := dayPoints(pts, at(0, 0, 0)); n != 1 {
				t.Fatalf("%d day points for day 0 before the restart, want 1", n)
			}
			if tt.saveAtEnd {
				if err := c1.Save(); err != nil {
					t.Fatal(err)
				}
			}
			c2 := newTestCheck(t, stateSensors, opt)
			if e := c2.Snapshot().StateError; e != "" {
				t.Fatal(e)
			}
			pts = tickRange(c2, at(1, 1, 31), at(1, 1, 40), time.Minute)
			n := dayPoints(pts, at(0, 0, 0))
			switch {
			case tt.wantAgain && n != 1:
				t.Errorf("%d day points for day 0 after the restart, want it again", n)
			case !tt.wantAgain && n != 0:
				t.Errorf("%d day points for day 0 after the restart, want none (committed)", n)
			}
			if tt.wantAgain && n == 1 {
				wantField(t, lastDay(t, pts, at(0, 0, 0)), "temperature", 1)
			}
		})
	}
}

// TestUncommittedDayKept: a day past the late-data horizon whose day point is not
// yet committed stays in the ledger (and the state file) until it is.
func TestUncommittedDayKept(t *testing.T) {
	c := newTestCheck(t, stateSensors, Options{KeepDays: 1})
	feed(c, "corr", at(0, 0, 0), at(1, 0, 10), time.Minute, constant(19))
	tickRange(c, at(0, 0, 0), at(0, 0, 0), time.Minute)
	// The first tick long after: day 0 is written now, and is already past the horizon.
	pts := c.Tick(at(3, 12, 0), true)
	if n := dayPoints(pts, at(0, 0, 0)); n != 1 {
		t.Fatalf("%d day points for day 0, want 1", n)
	}
	if _, ok := c.ledger.days["2025-03-10"]; !ok {
		t.Fatal("day 0 forgotten before its day point was committed")
	}
	c.Committed()
	c.Tick(at(3, 12, 1), true)
	if _, ok := c.ledger.days["2025-03-10"]; ok {
		t.Error("day 0 kept after its day point was committed")
	}
}

// TestUnsyncedDaysGetDayPoints: days spent running with an unsynchronised clock get
// a (low, unknown) day point once the clock is synchronised again, not only days
// spent switched off before the first tick.
func TestUnsyncedDaysGetDayPoints(t *testing.T) {
	c := newTestCheck(t, stateSensors, Options{})
	feed(c, "corr", at(0, 0, 0), at(1, 0, 0), time.Minute, constant(19))
	feed(c, "fridge", at(0, 0, 0), at(1, 0, 0), 5*time.Minute, constant(5))
	var pts []telemetry.Event
	pts = append(pts, tickRange(c, at(0, 0, 0), at(0, 23, 59), time.Minute)...)
	for m := at(1, 0, 0); m.Before(at(3, 0, 0)); m = m.Add(time.Minute) {
		pts = append(pts, c.Tick(m, false)...)
	}
	pts = append(pts, tickRange(c, at(3, 0, 0), at(3, 1, 30), time.Minute)...)
	day0 := lastDay(t, pts, at(0, 0, 0))
	// the last readings (23:59, 23:55) are not confirmed: nothing followed them
	wantField(t, day0, "availability", (1439.0/1440+287.0/288)/2)
	for _, d := range []int{1, 2} {
		f := lastDay(t, pts, at(d, 0, 0))
		for _, k := range []string{"total", "availability", "temperature"} {
			if v, _ := f[k].(float64); v != 0 {
				t.Errorf("day %d: %s = %v, want 0 (unknown)", d, k, v)
			}
		}
	}
}
