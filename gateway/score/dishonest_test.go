package score

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// dishonestSensors are the registered sensors of the simulated centre: two
// sensors in one resident room, a medicine fridge, a corridor and an unscored
// kitchen.
var dishonestSensors = []Sensor{
	{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: 5 * time.Minute},
	{ID: "room", Zone: "r101", ZoneKind: "living", Interval: 5 * time.Minute},
	{ID: "room-b", Zone: "r101", ZoneKind: "living", Interval: 10 * time.Minute},
	{ID: "corr", Zone: "c1", ZoneKind: "corridor", Interval: time.Minute},
	{ID: "kit", Zone: "k", ZoneKind: "kitchen", Interval: 10 * time.Minute},
}

// honestDay is a random day of what really happened: every sensor reports about
// every interval (±5 % jitter), with out-of-band (not serious) episodes and real
// outages; the gateway runs all day.
func honestDay(rng *rand.Rand, start time.Time) dDay {
	var d dDay
	for _, s := range dishonestSensors {
		b, banded := SensorBand(s)
		in, out := 20.0, 20.0
		if banded {
			in = (max(b.Min, -40) + min(b.Max, 60)) / 2
			if b.Max < 60 {
				out = b.Max + 1 + 2*rng.Float64() // too warm; never serious
			} else {
				out = b.Min - 0.5
			}
		}
		bad, silent := false, false
		t := start.Add(-s.Interval + time.Duration(rng.Int64N(int64(s.Interval))))
		for t.Before(start.Add(25 * time.Hour)) {
			if rng.Float64() < 0.02 {
				bad = !bad
			}
			if rng.Float64() < 0.005 {
				silent = !silent
			}
			if !silent {
				v := in
				if bad {
					v = out
				}
				d.readings = append(d.readings, dReading{sensor: s.ID, t: t, v: v, in: !banded || b.In(v)})
			}
			jitter := time.Duration((rng.Float64() - 0.5) * 0.1 * float64(s.Interval))
			t = t.Add(s.Interval + jitter)
		}
	}
	return d
}

type dReading struct {
	sensor string
	t      time.Time
	v      float64
	in     bool
}

type dDay struct{ readings []dReading }

func (d dDay) clone() dDay { return dDay{readings: slices.Clone(d.readings)} }

func (d dDay) events() []telemetry.Event {
	out := make([]telemetry.Event, 0, len(d.readings))
	for _, r := range d.readings {
		out = append(out, telemetry.Event{Time: r.t, Sensor: r.sensor, Values: []telemetry.Value{{Metric: telemetry.Temperature, V: r.v}}})
	}
	return out
}

func interval(id string) time.Duration {
	for _, s := range dishonestSensors {
		if s.ID == id {
			return s.Interval
		}
	}
	return 0
}

// removeOutOfBand drops each out-of-band reading with probability p.
func removeOutOfBand(rng *rand.Rand, d dDay, p float64) dDay {
	out := dDay{}
	for _, r := range d.readings {
		if !r.in && rng.Float64() < p {
			continue
		}
		out.readings = append(out.readings, r)
	}
	return out
}

// addComfortableSensor adds a sensor nobody registered, in the fridge's zone,
// always in band, every minute.
func addComfortableSensor(d dDay, start time.Time) dDay {
	out := d.clone()
	for t := start; t.Before(start.Add(24 * time.Hour)); t = t.Add(time.Minute) {
		out.readings = append(out.readings, dReading{sensor: "comfy", t: t, v: 5, in: true})
	}
	return out
}

// replaceWithBackfill removes the out-of-band readings of each sensor's bad runs
// and backfills the silence with in-band readings at long intervals (every gap
// around a backfilled reading longer than the sensor's interval plus slack).
func replaceWithBackfill(rng *rand.Rand, d dDay) dDay {
	bySensor := map[string][]dReading{}
	for _, r := range d.readings {
		bySensor[r.sensor] = append(bySensor[r.sensor], r)
	}
	out := dDay{}
	for id, rs := range bySensor {
		iv := interval(id)
		gap := holdLimit(iv) + time.Second + time.Duration(rng.Int64N(int64(3*iv)))
		var kept []dReading
		for _, r := range rs {
			if r.in {
				kept = append(kept, r)
			}
		}
		// Backfill between consecutive kept readings, keeping clear of both.
		var fill []dReading
		for i := 0; i+1 < len(kept); i++ {
			a, b := kept[i].t, kept[i+1].t
			for t := a.Add(gap); b.Sub(t) > holdLimit(iv); t = t.Add(gap) {
				fill = append(fill, dReading{sensor: id, t: t, v: kept[i].v, in: true})
			}
		}
		out.readings = append(out.readings, kept...)
		out.readings = append(out.readings, fill...)
	}
	return out
}

// TestDishonestNeverRaisesScore: over random honest days, no dishonest action —
// removing out-of-band readings, adding a comfortable (unregistered) sensor,
// replacing bad runs with in-band readings backfilled at long intervals, or all of
// them — raises the day's total or its temperature above the honest day's.
func TestDishonestNeverRaisesScore(t *testing.T) {
	set := Settings{Location: almaty, Sensors: dishonestSensors}
	start := at(0, 0, 0)
	var alive []time.Time
	for m := start.Add(-24 * time.Hour); m.Before(start.Add(26 * time.Hour)); m = m.Add(time.Minute) {
		alive = append(alive, m)
	}
	others := Others{Coverage: Part{Applicable: true, Known: true, Ratio: 0.9}, Rounds: Part{Applicable: true, Known: true, Ratio: 0.8},
		Response: Part{Applicable: true, Known: true, Ratio: 1}}
	now := start.Add(26 * time.Hour)
	compute := func(d dDay) Result {
		r, err := ComputeDay(set, start, DayData{Readings: d.events(), Alive: alive, Others: others}, now)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	n := 150
	if testing.Short() {
		n = 30
	}
	raisedCheck := 0
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), 16))
		honest := honestDay(rng, start)
		h := compute(honest)
		actions := map[string]dDay{
			"remove out-of-band":         removeOutOfBand(rng, honest, 0.3+0.7*rng.Float64()),
			"comfortable sensor":         addComfortableSensor(honest, start),
			"backfill at long intervals": replaceWithBackfill(rng, honest),
		}
		actions["all"] = addComfortableSensor(replaceWithBackfill(rng, removeOutOfBand(rng, honest, 0.5)), start)
		for name, d := range actions {
			r := compute(d)
			if r.Total > h.Total+1e-9 || r.Parts[CompTemperature].Ratio > h.Parts[CompTemperature].Ratio+1e-9 {
				t.Errorf("day %d, %s: total %.4f temperature %.4f, honest %.4f %.4f", i, name,
					r.Total, r.Parts[CompTemperature].Ratio, h.Total, h.Parts[CompTemperature].Ratio)
			}
			if r.Total < h.Total-1e-9 {
				raisedCheck++
			}
		}
	}
	// The generator must produce days the actions change at all.
	if raisedCheck == 0 {
		t.Error("no dishonest day scored differently from its honest one: the generator is wrong")
	}
}

// TestRegisteredComfortableSensorCannotLiftZone: even a registered second sensor
// placed somewhere comfortable does not raise the zone's temperature: a zone is in
// band only while all its sensors are.
func TestRegisteredComfortableSensorCannotLiftZone(t *testing.T) {
	fridge := Sensor{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: 5 * time.Minute}
	comfy := Sensor{ID: "comfy", Zone: "mf", ZoneKind: "med-fridge", Interval: 5 * time.Minute}
	var evs []telemetry.Event
	for tm := at(0, 0, 0); tm.Before(at(1, 0, 10)); tm = tm.Add(5 * time.Minute) {
		v := 5.0
		if tm.Hour() < 12 {
			v = 11
		}
		evs = append(evs, reading("fridge", tm, v), reading("comfy", tm, 5))
	}
	one, _ := ComputeDay(Settings{Location: almaty, Sensors: []Sensor{fridge}}, at(0, 0, 0), DayData{Readings: evs}, at(2, 0, 0))
	two, _ := ComputeDay(Settings{Location: almaty, Sensors: []Sensor{fridge, comfy}}, at(0, 0, 0), DayData{Readings: evs}, at(2, 0, 0))
	if !near(one.Parts[CompTemperature].Ratio, 0.5) || !near(two.Parts[CompTemperature].Ratio, 0.5) {
		t.Errorf("temperature alone %v, with a comfortable sensor %v; want 0.5 both", one.Parts[CompTemperature].Ratio, two.Parts[CompTemperature].Ratio)
	}
}
