package score

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var stateSensors = []Sensor{
	{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: 5 * time.Minute},
	{ID: "corr", Zone: "c", ZoneKind: "corridor", Interval: time.Minute},
}

// TestStateSurvivesRestart: a day half-observed before a restart and finished after
// scores as if the gateway had never stopped.
func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool", "score-state.json")
	run := func(c *Check, from, to time.Time) {
		feed(c, "fridge", from, to, 5*time.Minute, func(t time.Time) float64 { return float64(t.Hour() % 10) })
		feed(c, "corr", from, to, time.Minute, constant(19))
		tickRange(c, from, to, 10*time.Minute)
	}
	ref := newTestCheck(t, stateSensors, Options{})
	run(ref, at(0, 0, 0), at(1, 0, 0))
	want := lastDay(t, tickRange(ref, at(1, 0, 0), at(1, 1, 0), time.Minute), at(0, 0, 0))

	c1 := newTestCheck(t, stateSensors, Options{StateFile: path})
	run(c1, at(0, 0, 0), at(0, 13, 0))
	if err := c1.Save(); err != nil {
		t.Fatal(err)
	}
	c2 := newTestCheck(t, stateSensors, Options{StateFile: path})
	if e := c2.Snapshot().StateError; e != "" {
		t.Fatal(e)
	}
	run(c2, at(0, 13, 0), at(1, 0, 0))
	got := lastDay(t, tickRange(c2, at(1, 0, 0), at(1, 1, 0), time.Minute), at(0, 0, 0))
	for _, k := range []string{"total", "temperature", "availability"} {
		wantField(t, got, k, want[k].(float64))
	}
	if got["caps"] != want["caps"] {
		t.Errorf("caps %v, want %v", got["caps"], want["caps"])
	}
}

// TestCorruptState: an unusable state file is reported with its path and cause,
// moved aside, and the check starts empty and saves a good file again.
func TestCorruptState(t *testing.T) {
	good := func(t *testing.T, path string) []byte {
		c := newTestCheck(t, stateSensors, Options{StateFile: path})
		feed(c, "corr", at(0, 0, 0), at(0, 1, 0), time.Minute, constant(19))
		tickRange(c, at(0, 0, 0), at(0, 1, 0), 10*time.Minute)
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name   string
		mangle func(b []byte) []byte
		want   string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, "not valid JSON"},
		{"garbage", func([]byte) []byte { return []byte("\x00\x01 nope") }, "not valid JSON"},
		{"other version", func(b []byte) []byte { return bytes.Replace(b, []byte(`"version":2`), []byte(`"version":7`), 1) }, "version 7, want 2"},
		{"other centre", func(b []byte) []byte { return bytes.Replace(b, []byte(`"centre":"c1"`), []byte(`"centre":"c2"`), 1) }, `written for centre "c2"`},
		{"bad date", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"date":"2025-03-10"`), []byte(`"date":"10.03.2025"`), 1)
		}, "days[0].date"},
		{"bad readings", func(b []byte) []byte { return bytes.Replace(b, []byte(`"reads":"`), []byte(`"reads":"AAAA`), 1) }, "days[0].sensors[corr].reads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "score-state.json")
			if err := os.WriteFile(path, tt.mangle(good(t, path)), 0o644); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			c, err := New(Options{Centre: "c1", Location: almaty, Sensors: stateSensors, StateFile: path,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			msg := c.Snapshot().StateError
			if !strings.Contains(msg, path) || !strings.Contains(msg, tt.want) || !strings.Contains(msg, "moved to "+path+".corrupt") {
				t.Errorf("state error %q: want the path, %q and where it went", msg, tt.want)
			}
			if !strings.Contains(logs.String(), "score state unusable") {
				t.Errorf("not logged: %s", logs.String())
			}
			if len(c.ledger.days) != 0 {
				t.Errorf("started with %d days", len(c.ledger.days))
			}
			if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 1 {
				t.Errorf("not moved aside: %v", aside)
			}
			if err := c.Save(); err != nil {
				t.Fatal(err)
			}
			c2 := newTestCheck(t, stateSensors, Options{StateFile: path})
			if e := c2.Snapshot().StateError; e != "" {
				t.Errorf("saved file unusable: %s", e)
			}
		})
	}
}
