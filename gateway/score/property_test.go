package score

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// propSensors is the simulated centre: a capped zone of each kind, banded and
// unbanded zones, different intervals.
var propSensors = []Sensor{
	{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: 5 * time.Minute},
	{ID: "tmv", Zone: "bath-tmv", ZoneKind: "hot-water", Interval: time.Minute},
	{ID: "room", Zone: "r101", ZoneKind: "living", Interval: 5 * time.Minute},
	{ID: "room-b", Zone: "r101", ZoneKind: "living", Interval: 10 * time.Minute},
	{ID: "corr", Zone: "c1", ZoneKind: "corridor", Interval: time.Minute},
	{ID: "kit", Zone: "k", ZoneKind: "kitchen", Interval: 10 * time.Minute},
}

// ratioSource is a deterministic pseudo-random component source; after `from` it
// can be switched off (covered camera): lower ratios or unknown.
type ratioSource struct {
	seed    uint64
	offFrom time.Time // zero: never off
	unknown bool      // when off: unknown instead of halved
}

func (r ratioSource) ratio(from, to time.Time) (float64, bool) {
	h := fnv.New64a()
	fmt.Fprint(h, r.seed, from.Unix(), to.Unix())
	v := float64(h.Sum64()%1000) / 999
	if !r.offFrom.IsZero() && to.After(r.offFrom) {
		if r.unknown {
			return v, false
		}
		return v * 0.5, true
	}
	return v, true
}

func (r ratioSource) CoverageRatio(from, to time.Time) (float64, bool) { return r.ratio(from, to) }

// genDays makes three days of readings (day -1 to day 1) for propSensors.
func genDays(rng *rand.Rand) []telemetry.Event {
	var evs []telemetry.Event
	for _, s := range propSensors {
		b, banded := SensorBand(s)
		centre := 20.0
		if banded {
			switch {
			case b.Min > -inf && b.Max < inf:
				centre = (b.Min + b.Max) / 2
			case b.Min > -inf:
				centre = b.Min + 2
			default:
				centre = b.Max - 3
			}
		}
		pGot := 0.85 + 0.15*rng.Float64()
		for t := at(-1, 0, 0); t.Before(at(2, 0, 0)); t = t.Add(s.Interval) {
			if rng.Float64() > pGot {
				continue
			}
			v := centre + rng.NormFloat64()
			switch x := rng.Float64(); {
			case x < 0.002 && banded && b.Serious != nil: // a serious reading
				for !b.Serious(v) {
					v = centre + 30*rng.NormFloat64()
				}
			case x < 0.05: // an excursion
				v = centre + 8*rng.NormFloat64()
			}
			v = min(max(v, telemetry.MinTemperatureC), telemetry.MaxTemperatureC)
			off := time.Duration(rng.Int64N(int64(s.Interval)))
			evs = append(evs, reading(s.ID, t.Add(off), v))
			if rng.Float64() < 0.1 { // a second reading in the same slot
				evs = append(evs, reading(s.ID, t.Add(off/2), centre+3*rng.NormFloat64()))
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b telemetry.Event) int { return a.Time.Compare(b.Time) })
	return evs
}

// scenario is a switch-off applied to a simulated run.
type scenario struct {
	name string
	// event filters or flags an event; false drops it.
	event func(e *telemetry.Event) bool
	// synced and ticks say whether the gateway ticks at t and with what clock.
	ticks  func(t time.Time) (tick, synced bool)
	camera ratioSource
	// after is when the switch-off's effect is complete: live points before it are
	// not compared (a silence shorter than the cap hold can hide a single serious
	// reading from the live score; see docs/SAFETY_SCORE.md).
	after time.Time
}

type scorePoint struct {
	total float64
	comps map[string]float64
}

// simulate runs the check over the three days with a tick every 15 minutes and
// returns the last point written per (period, time).
func simulate(t *testing.T, evs []telemetry.Event, sc scenario) map[string]scorePoint {
	t.Helper()
	c, err := New(Options{Centre: "c1", Location: almaty, Sensors: propSensors, Coverage: sc.camera,
		Rounds: fixed{0.9, true}, Response: fixed{1, true}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]scorePoint{}
	i := 0
	for now := at(-1, 0, 0); !now.After(at(2, 1, 30)); now = now.Add(15 * time.Minute) {
		var batch []telemetry.Event
		for ; i < len(evs) && !evs[i].Time.After(now); i++ {
			e := evs[i]
			if sc.event == nil || sc.event(&e) {
				batch = append(batch, e)
			}
		}
		c.Observe(batch)
		tick, synced := true, true
		if sc.ticks != nil {
			tick, synced = sc.ticks(now)
		}
		if !tick {
			continue
		}
		for _, p := range c.Tick(now, synced) {
			f, period := fields(p)
			sp := scorePoint{total: f["total"].(float64), comps: map[string]float64{}}
			for k, v := range f {
				if x, ok := v.(float64); ok && k != "total" {
					sp.comps[k] = x
				}
			}
			out[period+"@"+p.Time.Format(time.RFC3339)] = sp
		}
	}
	return out
}

// TestNeverRises: for seeded random days, switching monitoring off — a sensor
// unplugged, a camera covered, the gateway offline, the clock unsynchronised — never
// raises a day score, a live score, or any component.
func TestNeverRises(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		evs := genDays(rng)
		cam := ratioSource{seed: seed}
		base := simulate(t, evs, scenario{name: "base", camera: cam})
		if len(base) < 250 {
			t.Fatalf("seed %d: only %d points", seed, len(base))
		}
		minute := func(lo, hi time.Time) time.Time {
			return lo.Add(time.Duration(rng.Int64N(int64(hi.Sub(lo)/time.Minute))) * time.Minute)
		}
		unplugAt := minute(at(-1, 6, 0), at(1, 20, 0))
		victim := propSensors[rng.IntN(len(propSensors))].ID
		offA := minute(at(-1, 2, 0), at(1, 12, 0))
		offB := offA.Add(SilentFor + time.Duration(rng.Int64N(int64(30*time.Hour))))
		unA := minute(at(-1, 2, 0), at(1, 12, 0))
		unB := unA.Add(SilentFor + time.Duration(rng.Int64N(int64(10*time.Hour))))
		camAt := minute(at(-1, 2, 0), at(1, 20, 0))
		inSpan := func(x, a, b time.Time) bool { return !x.Before(a) && x.Before(b) }
		scenarios := []scenario{
			{name: "sensor " + victim + " unplugged at " + unplugAt.Format(time.DateTime), camera: cam,
				event: func(e *telemetry.Event) bool { return e.Sensor != victim || e.Time.Before(unplugAt) },
				after: unplugAt.Add(SilentFor)},
			{name: "camera covered (coverage halved) at " + camAt.Format(time.DateTime),
				camera: ratioSource{seed: seed, offFrom: camAt}},
			{name: "camera covered (coverage unknown) at " + camAt.Format(time.DateTime),
				camera: ratioSource{seed: seed, offFrom: camAt, unknown: true}},
			{name: "gateway offline " + offA.Format(time.DateTime) + " to " + offB.Format(time.DateTime), camera: cam,
				event: func(e *telemetry.Event) bool { return !inSpan(e.Time, offA, offB) },
				ticks: func(x time.Time) (bool, bool) { return !inSpan(x, offA, offB), true },
				after: offB},
			{name: "clock unsynchronised " + unA.Format(time.DateTime) + " to " + unB.Format(time.DateTime), camera: cam,
				event: func(e *telemetry.Event) bool {
					if inSpan(e.Time, unA, unB) {
						e.Flags |= telemetry.ClockUnsynced | telemetry.DeviceTime
					}
					return true
				},
				ticks: func(x time.Time) (bool, bool) { return true, !inSpan(x, unA, unB) },
				after: unB},
		}
		for _, sc := range scenarios {
			got := simulate(t, evs, sc)
			compared, lower := 0, 0
			for key, b := range base {
				g, ok := got[key]
				if !ok {
					continue
				}
				if key[:4] == "live" {
					ts, _ := time.Parse(time.RFC3339, key[5:])
					if ts.Before(sc.after) {
						continue
					}
				}
				compared++
				if g.total < b.total-1e-9 {
					lower++
				}
				if g.total > b.total+1e-9 {
					t.Errorf("seed %d, %s: %s total rose %.6f -> %.6f", seed, sc.name, key, b.total, g.total)
				}
				for k, bv := range b.comps {
					if gv, ok := g.comps[k]; !ok || gv > bv+1e-9 {
						t.Errorf("seed %d, %s: %s %s rose %.6f -> %.6f (present %t)", seed, sc.name, key, k, bv, gv, ok)
					}
				}
			}
			if compared < 20 || lower == 0 {
				t.Errorf("seed %d, %s: %d points compared, %d lower: the switch-off did nothing", seed, sc.name, compared, lower)
			}
		}
	}
}
