package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// fridgeRun drives a Check the way the gateway does: a reading every minute, a
// tick every 30 s; the clock is the times it passes.
type fridgeRun struct {
	t  *testing.T
	c  *Check
	r  *recorder
	at time.Time
}

// minute advances to the next minute with a reading of v and returns the
// transitions it caused.
func (f *fridgeRun) minute(v float64) []string {
	f.c.Tick(f.at.Add(30*time.Second), true)
	f.at = f.at.Add(time.Minute)
	f.c.Observe(temp(f.at, "fridge-probe", v, 0))
	f.c.Tick(f.at, true)
	return f.r.take()
}

func newRun(t *testing.T, path string, at time.Time, open []telemetry.Condition) *fridgeRun {
	t.Helper()
	r := newRecorder()
	c := New(r, Options{Sensors: []Sensor{fridge()}, StateFile: path, Open: open})
	if err := c.LoadError(); err != nil {
		t.Fatalf("load: %v", err)
	}
	c.Tick(at, true)
	return &fridgeRun{t: t, c: c, r: r, at: at}
}

// firstRaise runs readings of v until the minute `until` (counted from t0) and
// returns the minute at which kind was raised (-1: never).
func (f *fridgeRun) firstRaise(v float64, until int, kind string) int {
	for f.at.Before(t0.Add(time.Duration(until) * time.Minute)) {
		for _, l := range f.minute(v) {
			if strings.HasPrefix(l, "raise "+kind+"/") {
				return int(f.at.Sub(t0) / time.Minute)
			}
		}
	}
	return -1
}

// The med-fridge's 15-minute warning hold: the gateway restarts at minute 10 of
// the excursion; the alert fires at minute 15 (the hold goes on), not at minute 25
// (the hold starting again). Without a state file it is minute 26 (the hold starts
// again at the first reading after the restart, minute 11): the test tells the two
// apart.
func TestHoldContinuesAcrossRestart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		state bool
		want  int
	}{{"with state file", true, 15}, {"without state file", false, 26}} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.state {
				path = filepath.Join(t.TempDir(), "rules-state.json")
			}
			f := newRun(t, path, t0, nil)
			f.c.Observe(temp(t0, "fridge-probe", 9, 0)) // minute 0: warm
			f.c.Tick(t0, true)
			if got := f.firstRaise(9, 10, "temperature_high"); got != -1 {
				t.Fatalf("fired at minute %d before the restart", got)
			}
			// restart at minute 10: a new Check from the file, nothing open yet
			g := newRun(t, path, f.at, nil)
			if got := g.firstRaise(9, 40, "temperature_high"); got != tc.want {
				t.Fatalf("warning fired at minute %d, want %d", got, tc.want)
			}
			cond := g.r.open["temperature_high/fridge-probe"]
			if tc.state && !cond.Since.Equal(t0) {
				t.Errorf("since %v, want the first warm reading before the restart (%v)", cond.Since, t0)
			}
		})
	}
}

// A hold restored from the file whose time elapsed while the gateway was down
// fires only once a live reading says the value is still beyond; a normal reading
// ends it instead.
func TestRestoredHoldNeedsALiveReading(t *testing.T) {
	for _, v := range []float64{9, 5} {
		path := filepath.Join(t.TempDir(), "rules-state.json")
		f := newRun(t, path, t0, nil)
		f.c.Observe(temp(t0, "fridge-probe", 9, 0))
		f.c.Tick(t0, true)
		f.firstRaise(9, 10, "temperature_high")
		// down for 20 minutes: the hold's 15 minutes have passed by the restart
		g := newRun(t, path, f.at.Add(20*time.Minute), nil)
		g.c.Tick(g.at.Add(time.Second), true)
		if got := g.r.take(); len(got) > 0 {
			t.Fatalf("fired at the restart without a reading: %q", got)
		}
		g.c.Observe(temp(g.at.Add(2*time.Second), "fridge-probe", v, 0))
		got := g.r.take()
		switch {
		case v == 9 && !slices.Contains(got, "raise temperature_high/fridge-probe warning"):
			t.Errorf("still 9 °C after the restart: %q, want the warning at once", got)
		case v == 5 && len(got) > 0:
			t.Errorf("back to 5 °C after the restart: %q, want nothing", got)
		}
	}
}

// The cumulative accounting of a medicine fridge survives a restart: 50 minutes
// out of range before it and 15 after are more than an hour in 24 h.
func TestCumulativeAcrossRestart(t *testing.T) {
	for _, tc := range []struct {
		state bool
		fires bool
	}{{true, true}, {false, false}} {
		path := ""
		if tc.state {
			path = filepath.Join(t.TempDir(), "rules-state.json")
		}
		f := newRun(t, path, t0, nil)
		f.c.Observe(temp(t0, "fridge-probe", 5, 0))
		// five excursions of 10 min (none reaches the 15-min hold), 50 min each apart
		for range 5 {
			for m := range 60 {
				v := 5.0
				if m < 10 {
					v = 9
				}
				if got := f.minute(v); len(got) > 0 {
					t.Fatalf("before the restart: %q", got)
				}
			}
		}
		g := newRun(t, path, f.at, nil)
		fired := false
		for m := range 60 {
			v := 5.0
			if m < 10 || m >= 55 {
				v = 9
			}
			for _, l := range g.minute(v) {
				fired = fired || l == "raise temperature_cumulative/fridge-probe critical"
			}
		}
		if fired != tc.fires {
			t.Errorf("state file %v: cumulative fired = %v, want %v", tc.state, fired, tc.fires)
		}
	}
}

// A device that said offline before the restart is still offline after it (its
// LWT comes back only as a retained message, which the rules ignore).
func TestOfflineAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules-state.json")
	s := Sensor{ID: "plug", Zone: "z", ZoneKind: "other", Interval: time.Minute}
	c := New(newRecorder(), Options{Sensors: []Sensor{s}, StateFile: path})
	c.Tick(t0, true)
	c.Observe([]telemetry.Event{{Time: t0, Sensor: "plug", Values: []telemetry.Value{{Metric: telemetry.Online, V: 0}}}})
	c.Tick(t0.Add(time.Minute), true)
	r := newRecorder()
	c2 := New(r, Options{Sensors: []Sensor{s}, StateFile: path})
	c2.Tick(t0.Add(2*time.Minute), true)
	c2.Observe([]telemetry.Event{{Time: t0.Add(2 * time.Minute), Sensor: "plug", Values: []telemetry.Value{{Metric: telemetry.Temperature, V: 20}}}})
	c2.Tick(t0.Add(3*time.Minute+time.Second), true)
	if _, ok := r.open["device_offline/plug"]; !ok {
		t.Fatalf("offline since minute 0 should be raised after 3 min: %v", r.log)
	}
}

// A corrupt or truncated state file is logged with its name, moved aside, and the
// rules start empty: the hold starts again, nothing is raised from it, and the next
// save writes a good file.
func TestCorruptStateFile(t *testing.T) {
	good := func(t *testing.T, path string) []byte {
		f := newRun(t, path, t0, nil)
		f.c.Observe(temp(t0, "fridge-probe", 9, 0))
		f.firstRaise(9, 10, "temperature_high")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for _, tc := range []struct {
		name string
		mk   func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty", func([]byte) []byte { return nil }},
		{"not json", func([]byte) []byte { return []byte("\x00\x00garbage") }},
		{"unknown version", func(b []byte) []byte { return bytes.Replace(b, []byte(`"version":1`), []byte(`"version":99`), 1) }},
		{"bad hold", func(b []byte) []byte {
			return []byte(`{"version":1,"saved":"2026-11-22T02:10:00Z","sensors":{"fridge-probe":{"holds":[{"limit":""}]}}}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "rules-state.json")
			if err := os.WriteFile(path, tc.mk(good(t, path)), 0o640); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			r := newRecorder()
			c := New(r, Options{Sensors: []Sensor{fridge()}, StateFile: path,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err := c.LoadError(); !errors.Is(err, ErrCorruptState) {
				t.Fatalf("LoadError = %v, want ErrCorruptState", err)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), path) {
				t.Errorf("log should be an error naming the file: %s", logs.String())
			}
			aside, _ := filepath.Glob(path + ".corrupt-*")
			if len(aside) != 1 {
				t.Errorf("moved aside: %v", aside)
			}
			f := &fridgeRun{t: t, c: c, r: r, at: t0.Add(10 * time.Minute)}
			c.Tick(f.at, true)
			if got := f.firstRaise(9, 40, "temperature_high"); got != 26 {
				t.Errorf("after a lost state the hold starts again: fired at minute %d, want 26", got)
			}
			var st stateFile
			data, _ := os.ReadFile(path)
			if err := json.Unmarshal(data, &st); err != nil || validState(&st) != nil || len(st.Sensors["fridge-probe"].Holds) == 0 {
				t.Errorf("the next save should write a good file: %s (%v)", data, err)
			}
		})
	}
}

// Saves are atomic (no temporary file left behind, the file always parses) and a
// failed save is counted and tried again at the next tick.
func TestStateSaveAtomicAndRetried(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "rules-state.json")
	f := &fridgeRun{t: t, r: newRecorder(), at: t0}
	f.c = New(f.r, Options{Sensors: []Sensor{fridge()}, StateFile: path, Logger: slog.New(slog.DiscardHandler)})
	// A regular file where the state's directory should be: saves fail.
	if err := os.WriteFile(filepath.Dir(path), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.c.Tick(t0, true)
	f.minute(9) // a hold starts: the save fails
	if f.c.SaveErrors() == 0 {
		t.Fatal("a save that cannot be written should be counted as failed")
	}
	if err := os.Remove(filepath.Dir(path)); err != nil {
		t.Fatal(err)
	}
	errs := f.c.SaveErrors()
	f.c.Tick(f.at.Add(time.Second), true)
	if f.c.SaveErrors() != errs {
		t.Fatal("the retry failed")
	}
	if _, err := loadState(path); err != nil {
		t.Fatalf("retried save: %v", err)
	}
	for range 30 {
		f.minute(9)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	st, err := loadState(path)
	if err != nil || len(st.Sensors["fridge-probe"].Holds) == 0 {
		t.Fatalf("state %+v, %v", st, err)
	}
}

// Nothing changing means nothing written: a fridge at 5 °C is saved at most once a
// minute, not at every one-second tick.
func TestStateSavedSparingly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules-state.json")
	c := New(newRecorder(), Options{Sensors: []Sensor{fridge()}, StateFile: path})
	c.Tick(t0, true)
	c.Observe(temp(t0, "fridge-probe", 5, 0))
	c.Tick(t0, true)
	st0, err := loadState(path)
	if err != nil || st0 == nil {
		t.Fatalf("first reading not saved: %v", err)
	}
	saves := 0
	last := st0.Saved
	for s := 1; s <= 120; s++ {
		at := t0.Add(time.Duration(s) * time.Second)
		if s%10 == 0 {
			c.Observe(temp(at, "fridge-probe", 5, 0))
		}
		c.Tick(at, true)
		st, _ := loadState(path)
		if !st.Saved.Equal(last) {
			saves++
			last = st.Saved
		}
	}
	if saves < 1 || saves > 2 {
		t.Errorf("%d saves in 2 minutes of normal readings, want 1 or 2", saves)
	}
}
