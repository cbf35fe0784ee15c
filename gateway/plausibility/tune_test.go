package plausibility

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// The rates below are measured on 1,000 generated sensor-days per case (gen_test.go)
// with DefaultParams, and the test fails when a rate crosses its threshold. The
// figures are logged (go test -v -run TestRates) and quoted in the report.

var day0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

const sensorDays = 1000

// dayVerdict feeds one generated day to a fresh sensor and judges it at its end.
func dayVerdict(class Class, rs []reading) Verdict {
	s := NewSensor(class, DefaultParams())
	feed(s, rs)
	return s.Verdict(day0.Add(24*time.Hour - time.Second))
}

type rate struct {
	name      string
	class     Class
	honest    bool
	threshold float64 // max share flagged (honest) or min share flagged (dishonest)
	truth     func(rng *rand.Rand) func(h float64) float64
}

func TestRates(t *testing.T) {
	cases := []rate{
		{"med-fridge honest", Cycling, true, 0.01, func(r *rand.Rand) func(float64) float64 { return fridgeTruth(r, "med-fridge") }},
		{"food-fridge honest", Cycling, true, 0.01, func(r *rand.Rand) func(float64) float64 { return fridgeTruth(r, "food-fridge") }},
		{"freezer honest", Cycling, true, 0.01, func(r *rand.Rand) func(float64) float64 { return fridgeTruth(r, "freezer") }},
		{"room honest", Room, true, 0.005, func(r *rand.Rand) func(float64) float64 { return roomTruth(r, newBuilding(r), false) }},
		{"room honest, well controlled", Room, true, 0.01, func(r *rand.Rand) func(float64) float64 { return roomTruth(r, newBuilding(r), true) }},
		// Room air with a radiator cycling or people coming and going swings like a
		// fridge: about half pass. Such a probe reads ~22 °C, out of every
		// cycling kind's band, so the temperature rule already scores it 0.
		{"fridge probe in the room air", Cycling, false, 0.35, func(r *rand.Rand) func(float64) float64 { return outsideTruth(r, newBuilding(r)) }},
		{"fridge probe in a flask of cold water", Cycling, false, 0.99, thermosTruth},
		{"room sensor in an office cabinet", Room, false, 0.95, cabinetTruth},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i)+1, 16))
			flagged, judged := 0, 0
			minCycles, minRange := 1e9, 1e9
			codes := map[Code]int{}
			for range sensorDays {
				st := randomStyle(rng)
				v := dayVerdict(c.class, st.sample(rng, day0, 24*time.Hour, c.truth(rng)))
				if v.Judged {
					judged++
					minCycles, minRange = min(minCycles, v.Cycles), min(minRange, v.RangeC)
				}
				if v.Implausible {
					flagged++
					codes[v.Code]++
				}
			}
			share := float64(flagged) / sensorDays
			t.Logf("%-40s flagged %4d of %d (%.1f%%), judged %d, by code %v; fewest cycles %.1f, smallest range %.2f °C",
				c.name, flagged, sensorDays, share*100, judged, codes, minCycles, minRange)
			if judged < sensorDays*95/100 {
				t.Errorf("only %d of %d days judged", judged, sensorDays)
			}
			if c.honest && share > c.threshold {
				t.Errorf("false positives %.1f%% > %.1f%%", share*100, c.threshold*100)
			}
			if !c.honest && share < c.threshold {
				t.Errorf("detection %.1f%% < %.1f%%", share*100, c.threshold*100)
			}
		})
	}
}

// honestCentre generates the sensors of one centre-day: 14 rooms sharing the
// building, a medicine fridge, a food fridge, a freezer and a cool room.
func honestCentre(rng *rand.Rand) []Named {
	b := newBuilding(rng)
	var out []Named
	add := func(zone string, class Class, truth func(float64) float64) {
		s := NewSensor(class, DefaultParams())
		feed(s, randomStyle(rng).sample(rng, day0, 24*time.Hour, truth))
		out = append(out, Named{ID: zone + "-t", Zone: zone, S: s})
	}
	for i := range 14 {
		add(fmt.Sprintf("room-%d", i), Room, roomTruth(rng, b, rng.Float64() < 0.2))
	}
	for _, k := range []string{"med-fridge", "food-fridge", "freezer", "cool-room"} {
		add(k, Cycling, fridgeTruth(rng, k))
	}
	return out
}

func TestTwinRates(t *testing.T) {
	now := day0.Add(24*time.Hour - time.Second)
	p := DefaultParams()
	rng := rand.New(rand.NewPCG(99, 16))
	// Honest: every pair of sensors in different zones of 60 centres.
	pairs, twins := 0, 0
	minDif, minRatio := 1e9, 1e9
	for range 60 {
		c := honestCentre(rng)
		pairs += len(c) * (len(c) - 1) / 2
		twins += len(FindTwins(c, now, p))
		for i := range c {
			for j := i + 1; j < len(c); j++ {
				pr := Twins(c[i].S, c[j].S, now, p)
				if pr.Judged {
					minDif = min(minDif, pr.StdDif)
					minRatio = min(minRatio, pr.StdDif/min(pr.StdA, pr.StdB))
				}
			}
		}
	}
	t.Logf("closest honest pair: difference deviation %.3f °C, ratio %.3f", minDif, minRatio)
	t.Logf("honest pairs: %d twins of %d pairs (%.3f%%)", twins, pairs, 100*float64(twins)/float64(pairs))
	if float64(twins) > 0.001*float64(pairs) {
		t.Errorf("false twins: %d of %d pairs", twins, pairs)
	}

	// Dishonest: a second sensor that republishes the first one's readings with an
	// offset (duplicated), and two sensors side by side in one office (relocated).
	cases := []struct {
		name string
		min  float64
		make func(rng *rand.Rand) (a, b []reading)
	}{
		{"duplicated with an offset", 0.99, func(rng *rand.Rand) ([]reading, []reading) {
			a := randomStyle(rng).sample(rng, day0, 24*time.Hour, roomTruth(rng, newBuilding(rng), false))
			off := rng.Float64()*3 - 1.5
			var b []reading
			for _, r := range a {
				if rng.Float64() < 0.02 {
					continue
				}
				b = append(b, reading{r.t.Add(time.Duration(rng.IntN(30)) * time.Second), r.v + off})
			}
			return a, b
		}},
		{"two sensors side by side in an office", 0.90, func(rng *rand.Rand) ([]reading, []reading) {
			truth := roomTruth(rng, newBuilding(rng), false)
			off := rng.Float64() - 0.5
			shifted := func(h float64) float64 { return truth(h) + off }
			return randomStyle(rng).sample(rng, day0, 24*time.Hour, truth),
				randomStyle(rng).sample(rng, day0, 24*time.Hour, shifted)
		}},
	}
	for _, c := range cases {
		found, maxDif := 0, 0.0
		for range sensorDays {
			a, b := c.make(rng)
			sa, sb := NewSensor(Room, p), NewSensor(Room, p)
			feed(sa, a)
			feed(sb, b)
			pr := Twins(sa, sb, now, p)
			maxDif = max(maxDif, pr.StdDif)
			if pr.Twin {
				found++
			}
		}
		share := float64(found) / sensorDays
		t.Logf("%-40s detected %4d of %d (%.1f%%), largest difference deviation %.3f °C", c.name, found, sensorDays, share*100, maxDif)
		if share < c.min {
			t.Errorf("%s: detection %.1f%% < %.1f%%", c.name, share*100, c.min*100)
		}
	}
}
