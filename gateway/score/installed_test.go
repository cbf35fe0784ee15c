package score

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestFirstStartIsNoSilence: a gateway installed at 14:00 whose fridge reads 5 °C
// from then on is not capped: the morning before it ran is no silence of its
// sensors (issue 19: the demo showed "medicine fridge at or below 0 °C" while the
// fridge read 5.1 °C). Its today and live scores count from the installation.
func TestFirstStartIsNoSilence(t *testing.T) {
	fridge := Sensor{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: time.Minute}
	room := Sensor{ID: "room", Zone: "r", ZoneKind: "living", Interval: time.Minute}
	c := newTestCheck(t, []Sensor{fridge, room}, Options{})
	c.Tick(at(0, 14, 0), true)
	feed(c, "fridge", at(0, 14, 0), at(0, 14, 30), time.Minute, constant(5.1))
	feed(c, "room", at(0, 14, 0), at(0, 14, 30), time.Minute, constant(21))
	tickRange(c, at(0, 14, 1), at(0, 14, 20), time.Minute)
	s := c.Snapshot()
	for name, r := range map[string]*Result{"live": s.Live, "today": s.Today} {
		if r == nil {
			t.Fatalf("%s: no score", name)
		}
		if r.Capped() {
			t.Errorf("%s: capped %v right after the first start, with every sensor reporting in band", name, r.Caps)
		}
		if p := r.Parts[CompTemperature]; !near(p.Ratio, 1) {
			t.Errorf("%s: temperature %v, want 1: the time before the installation is not the centre's", name, p.Ratio)
		}
	}
}

// TestSilenceIsNotAnEvent: a medicine fridge silent for an hour caps the score as
// the worst case, under the no-data cap, never as a freeze; a real freeze still
// caps as one.
func TestSilenceIsNotAnEvent(t *testing.T) {
	fridge := Sensor{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: time.Minute}
	room := Sensor{ID: "room", Zone: "r", ZoneKind: "living", Interval: time.Minute}
	hw := Sensor{ID: "tap", Zone: "bath", ZoneKind: "hot-water", Interval: time.Minute}
	c := newTestCheck(t, []Sensor{fridge, room, hw}, Options{})
	c.Tick(at(0, 8, 0), true)
	feed(c, "fridge", at(0, 8, 0), at(0, 9, 0), time.Minute, constant(5.1)) // then silent
	feed(c, "room", at(0, 8, 0), at(0, 12, 0), time.Minute, constant(21))
	feed(c, "tap", at(0, 8, 0), at(0, 12, 0), time.Minute, constant(40))
	tickRange(c, at(0, 8, 1), at(0, 11, 0), time.Minute)
	live := c.Snapshot().Live
	if !slices.Equal(live.Caps, []string{CapFreezeNoData}) {
		t.Fatalf("caps %v, want [%s]: a silent fridge is no freeze", live.Caps, CapFreezeNoData)
	}
	if live.Total > 70 {
		t.Errorf("total %v: the silence still caps at 70 (missing data is the worst case)", live.Total)
	}
	feed(c, "fridge", at(0, 11, 0), at(0, 12, 0), time.Minute, func(tm time.Time) float64 {
		if tm.Equal(at(0, 11, 30)) {
			return -0.5
		}
		return 5
	})
	tickRange(c, at(0, 11, 1), at(0, 11, 45), time.Minute)
	if got := c.Snapshot().Live.Caps; !slices.Contains(got, CapFreeze) {
		t.Fatalf("caps %v, want the freeze that happened", got)
	}
}

// TestInstalledSurvivesRestart: the installation time is kept in the state file,
// so a gateway that was off for hours after it was installed shows that silence
// after a restart, while the time before the installation stays no silence.
func TestInstalledSurvivesRestart(t *testing.T) {
	fridge := Sensor{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: time.Minute}
	path := filepath.Join(t.TempDir(), "score.json")
	c := newTestCheck(t, []Sensor{fridge}, Options{StateFile: path})
	c.Tick(at(0, 10, 0), true)
	feed(c, "fridge", at(0, 10, 0), at(0, 10, 30), time.Minute, constant(5))
	tickRange(c, at(0, 10, 1), at(0, 10, 29), time.Minute)
	if caps := c.Snapshot().Live.Caps; len(caps) != 0 {
		t.Fatalf("caps %v before the restart", caps)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	// Off from 10:30 to 13:00.
	c2 := newTestCheck(t, []Sensor{fridge}, Options{StateFile: path})
	if got, want := c2.ledger.installed, at(0, 10, 0); !got.Equal(want) {
		t.Fatalf("installed %v after the restart, want %v", got, want)
	}
	c2.Tick(at(0, 13, 0), true)
	feed(c2, "fridge", at(0, 13, 0), at(0, 13, 10), time.Minute, constant(5))
	tickRange(c2, at(0, 13, 1), at(0, 13, 5), time.Minute)
	if caps := c2.Snapshot().Live.Caps; !slices.Equal(caps, []string{CapFreezeNoData}) {
		t.Fatalf("caps %v after 2.5 h off, want [%s]", caps, CapFreezeNoData)
	}
}
