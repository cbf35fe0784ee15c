package score

import (
	"math"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

var almaty = mustLoc("Asia/Almaty")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at returns the local time on 2025-03-10 (plus days) in Almaty.
func at(days int, hh, mm int) time.Time {
	return time.Date(2025, 3, 10+days, hh, mm, 0, 0, almaty)
}

func reading(sensor string, t time.Time, temp float64) telemetry.Event {
	return telemetry.Event{Time: t, Sensor: sensor, Values: []telemetry.Value{{Metric: telemetry.Temperature, V: temp}}}
}

// feed observes one reading of sensor every `every` in [from, to), with temperature
// temp(t).
func feed(c *Check, sensor string, from, to time.Time, every time.Duration, temp func(time.Time) float64) {
	var evs []telemetry.Event
	for t := from; t.Before(to); t = t.Add(every) {
		evs = append(evs, reading(sensor, t, temp(t)))
	}
	c.Observe(evs)
}

func constant(v float64) func(time.Time) float64 { return func(time.Time) float64 { return v } }

// tickRange ticks the check every `every` in [from, to] with a synchronised clock and
// returns every point.
func tickRange(c *Check, from, to time.Time, every time.Duration) []telemetry.Event {
	var out []telemetry.Event
	for t := from; !t.After(to); t = t.Add(every) {
		out = append(out, c.Tick(t, true)...)
	}
	return out
}

// fields returns a point's fields as Go values, and its period tag.
func fields(e telemetry.Event) (map[string]any, string) {
	m := map[string]any{}
	for _, f := range e.Point.Fields {
		m[f.Key] = f.Value()
	}
	period := ""
	for _, t := range e.Point.Tags {
		if t.Key == "period" {
			period = t.Value
		}
	}
	return m, period
}

// lastDay returns the last day point for the day starting at start.
func lastDay(t *testing.T, pts []telemetry.Event, start time.Time) map[string]any {
	t.Helper()
	var got map[string]any
	for _, p := range pts {
		if f, period := fields(p); period == "day" && p.Time.Equal(start) {
			got = f
		}
	}
	if got == nil {
		t.Fatalf("no day point for %s among %d points", start, len(pts))
	}
	return got
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func wantField(t *testing.T, f map[string]any, key string, want float64) {
	t.Helper()
	v, ok := f[key].(float64)
	if !ok {
		t.Errorf("%s: missing or not a float in %v", key, f)
		return
	}
	if !near(v, want) {
		t.Errorf("%s = %.12g, want %.12g", key, v, want)
	}
}
