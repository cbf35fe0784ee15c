package plausibility

import (
	"math"
	"math/rand/v2"
	"time"
)

// This file generates realistic sensor-days for the tests only. gateway/sim's
// generators are too smooth to tune on: Centre.reading is a bounded random walk
// and the fleet generator an AR(1) around the band's centre, so a simulated
// medicine fridge has no compressor cycle at all (this detector flags every one of
// them "no_compressor_cycles") and a room has no heating cycle or occupancy.
//
// The shapes here follow the published measurements cited in
// testdata/SOURCES.md: a household fridge cycles 68 times a day (on ~195 s, off
// ~1064 s: a ~21-minute period) and its air swings "within 2 degrees" in a
// sawtooth; a probe in a glycol bottle (the CDC's recommended set-up) damps the
// swing to a few tenths; rooms follow the day with heating and people.

// reading is one generated reading.
type reading struct {
	t time.Time
	v float64
}

// sensorStyle is how a sensor reports: interval, jitter, noise, resolution, loss.
type sensorStyle struct {
	every time.Duration
	noise float64 // °C, standard deviation
	res   float64 // resolution, 0.1 or 0.01
	loss  float64 // share of readings lost
}

func randomStyle(rng *rand.Rand) sensorStyle {
	st := sensorStyle{noise: 0.01 + rng.Float64()*0.04, res: 0.1, loss: rng.Float64() * 0.03}
	if rng.IntN(2) == 0 {
		st.res = 0.01
	}
	switch rng.IntN(3) {
	case 0:
		st.every = time.Minute
	case 1:
		st.every = 2 * time.Minute
	default:
		st.every = 5 * time.Minute // Tasmota and zigbee2mqtt defaults
	}
	return st
}

// sample turns a true trace into readings the way a sensor reports them.
func (st sensorStyle) sample(rng *rand.Rand, start time.Time, day time.Duration, truth func(h float64) float64) []reading {
	var out []reading
	for d := time.Duration(rng.IntN(int(st.every))); d < day; d += st.every {
		t := start.Add(d + time.Duration(rng.IntN(20)-10)*time.Second)
		if rng.Float64() < st.loss {
			continue
		}
		v := truth(d.Hours()) + rng.NormFloat64()*st.noise
		v = math.Round(v/st.res) * st.res
		out = append(out, reading{t, v})
	}
	return out
}

// fridgeTruth returns an honest fridge's true temperature by hour: a sawtooth
// compressor cycle with jittered periods, door openings by day, and (freezers)
// a defrost every 8 hours.
func fridgeTruth(rng *rand.Rand, kind string) func(h float64) float64 {
	set := 4 + rng.Float64()*2
	switch kind {
	case "food-fridge":
		set = 2.5 + rng.Float64()*2
	case "freezer":
		set = -22 + rng.Float64()*4
	}
	swing := 0.5 + rng.Float64()*1.5 // air probe, p2p
	if rng.Float64() < 0.3 {
		swing = 0.3 + rng.Float64()*0.4 // probe in a glycol bottle
	}
	period := (12 + rng.Float64()*48) / 60 // hours
	duty := 0.15 + rng.Float64()*0.35
	// Pre-draw the cycles of the day (and a little more) with jitter.
	type cyc struct{ start, length, amp float64 }
	var cycles []cyc
	for h := -rng.Float64() * period; h < 25; {
		l := period * (0.85 + rng.Float64()*0.3)
		cycles = append(cycles, cyc{h, l, swing * (0.9 + rng.Float64()*0.2)})
		h += l
	}
	type bump struct{ at, size float64 }
	var doors []bump
	for range 4 + rng.IntN(16) {
		doors = append(doors, bump{8 + rng.Float64()*12, 0.3 + rng.Float64()*2.5})
	}
	return func(h float64) float64 {
		v := set
		for _, c := range cycles { // few dozen: fine for a test
			if h >= c.start && h < c.start+c.length {
				x := (h - c.start) / c.length
				if x < 1-duty { // compressor off: warming
					v += c.amp * (x/(1-duty) - 0.5)
				} else { // on: cooling fast
					v += c.amp * (0.5 - (x-(1-duty))/duty)
				}
				break
			}
		}
		for _, d := range doors {
			if h >= d.at {
				v += d.size * math.Exp(-(h-d.at)*6) // τ = 10 min
			}
		}
		if kind == "freezer" {
			if m := math.Mod(h, 8); m < 0.4 {
				v += 6 * math.Sin(m/0.4*math.Pi)
			}
		}
		return v
	}
}

// building is what the rooms of one centre share: the day's outdoor swing and
// the heating schedule.
type building struct {
	diurnal float64 // amplitude, °C
	phase   float64 // hour of the peak
	heatOn  float64 // hour the heating boosts
}

func newBuilding(rng *rand.Rand) building {
	return building{diurnal: 0.3 + rng.Float64()*1.2, phase: 14 + rng.Float64()*3, heatOn: 5 + rng.Float64()*2}
}

// roomTruth returns an honest room's true temperature by hour: the building's day
// scaled and shifted for the room, a radiator cycle in some rooms, a slow drift of
// its own and people coming and going. stable makes a well-controlled room whose
// day swings only ~0.2 °C.
func roomTruth(rng *rand.Rand, b building, stable bool) func(h float64) float64 {
	base := 19 + rng.Float64()*5
	amp := b.diurnal * (0.6 + rng.Float64()*0.8)
	if stable {
		amp = 0.1 + rng.Float64()*0.15
	}
	shift := rng.Float64()*2 - 1
	rad, radP := 0.0, 0.5+rng.Float64()*1.5
	if rng.IntN(2) == 0 {
		rad = 0.1 + rng.Float64()*0.3
	}
	// A drift of the room's own: a sum of slow sines with random phases.
	var dr [4]struct{ a, f, ph float64 }
	for i := range dr {
		dr[i].a = 0.05 + rng.Float64()*0.15
		if stable {
			dr[i].a /= 3
		}
		dr[i].f = 2 * math.Pi / (1 + rng.Float64()*7)
		dr[i].ph = rng.Float64() * 2 * math.Pi
	}
	type bump struct{ at, size, len float64 }
	var people []bump
	for range rng.IntN(8) {
		people = append(people, bump{7 + rng.Float64()*15, 0.1 + rng.Float64()*0.5, 0.5 + rng.Float64()*2})
	}
	return func(h float64) float64 {
		v := base + amp*math.Cos((h-b.phase-shift)/24*2*math.Pi)
		if hh := math.Mod(h, 24); hh >= b.heatOn && hh < b.heatOn+2 {
			v += 0.3 * amp
		}
		v += rad * math.Sin(h/radP*2*math.Pi)
		for _, d := range dr {
			v += d.a * math.Sin(h*d.f+d.ph)
		}
		for _, p := range people {
			if h >= p.at && h < p.at+p.len {
				v += p.size
			}
		}
		return v
	}
}

// Dishonest traces.

// outsideTruth is a fridge probe left in the room air beside the fridge: the
// room's day, no compressor.
func outsideTruth(rng *rand.Rand, b building) func(h float64) float64 {
	return roomTruth(rng, b, rng.Float64() < 0.3)
}

// thermosTruth is a fridge probe in a flask of cold water: it warms slowly.
func thermosTruth(rng *rand.Rand) func(h float64) float64 {
	start, rate := 2+rng.Float64()*3, 0.02+rng.Float64()*0.1
	return func(h float64) float64 { return start + rate*h }
}

// cabinetTruth is a room sensor kept in a closed cabinet of an air-conditioned
// office: the day barely moves it.
func cabinetTruth(rng *rand.Rand) func(h float64) float64 {
	base, amp := 21+rng.Float64()*2, rng.Float64()*0.04
	return func(h float64) float64 { return base + amp*math.Sin(h/24*2*math.Pi) }
}

func feed(s *Sensor, rs []reading) {
	for _, r := range rs {
		if err := s.Observe(r.t, r.v); err != nil {
			panic(err)
		}
	}
}
