package score

import (
	"testing"
	"time"
)

// spans is a Plausibility holding fixed implausible spans per sensor.
type spans map[string][][2]time.Time

func (s spans) Implausible(sensor string, from, to time.Time) bool {
	for _, sp := range s[sensor] {
		if sp[0].Before(to) && sp[1].After(from) {
			return true
		}
	}
	return false
}

// TestImplausibleNotInBand: a fridge in band all day whose second half is held
// implausible scores temperature 0.5 (its readings there do not count as in band),
// availability stays 1 (they did arrive), and nothing is capped; a sensor that is
// not held scores as before.
func TestImplausibleNotInBand(t *testing.T) {
	fridge := Sensor{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: 5 * time.Minute}
	corr := Sensor{ID: "corr", Zone: "c", ZoneKind: "corridor", Interval: 10 * time.Minute}
	c := newTestCheck(t, []Sensor{fridge, corr}, Options{Plausibility: spans{"fridge": {{at(0, 12, 0), at(1, 3, 0)}}}})
	c.Tick(at(0, 0, 0), true)
	feed(c, "fridge", at(0, 0, 0), at(1, 0, 10), 5*time.Minute, constant(5)) // past midnight: the last reading is confirmed by the next (time-weighted rule)
	feed(c, "corr", at(0, 0, 0), at(1, 0, 20), 10*time.Minute, constant(19))
	f := closeDay(t, c)
	wantField(t, f, "temperature", (0.5*3+1*1)/4) // zone weights: med-fridge 3, corridor 1
	wantField(t, f, "availability", 1)
	if f["caps"] != "" {
		t.Errorf("caps = %q", f["caps"])
	}
}
