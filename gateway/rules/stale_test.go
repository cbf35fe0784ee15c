package rules

import (
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// timedRecorder is a Raiser like the gateway's registry that also checks every
// resolution: a condition is never resolved before it was raised (open_for is
// never negative), and it counts the openings.
type timedRecorder struct {
	t      *testing.T
	open   map[string]telemetry.Condition
	raised int
	clears int
}

func (r *timedRecorder) Raise(c telemetry.Condition) {
	k := c.Kind + "/" + c.Subject
	if old, ok := r.open[k]; ok {
		old.Severity = c.Severity
		r.open[k] = old
		return
	}
	r.open[k] = c
	r.raised++
}

func (r *timedRecorder) Clear(kind, subject string, at time.Time) {
	k := kind + "/" + subject
	c, ok := r.open[k]
	if !ok {
		return
	}
	delete(r.open, k)
	r.clears++
	if d := at.Sub(c.Since); d < 0 {
		r.t.Errorf("%s resolved at %s, before it was raised (since %s): open_for %s",
			k, at.Format(time.TimeOnly), c.Since.Format(time.TimeOnly), d)
	}
}

// TestStaleWithOldDeviceTimes is issue 18 item 10: a sensor whose readings carry
// device times ten minutes old (a device clock behind, the gateway's clock not yet
// synchronised so the router keeps them) mixed with readings without a time
// (stamped on arrival). The sensor is heard every second, so it is not stale; the
// rules used to measure silence against the device times and to settle at them:
// the sensor_stale alert was raised at each tick and resolved ten minutes in the
// past at each old reading — 29 alerts in 40 s, each with a negative open_for.
func TestStaleWithOldDeviceTimes(t *testing.T) {
	r := &timedRecorder{t: t, open: map[string]telemetry.Condition{}}
	s := Sensor{ID: "room", Zone: "room-101", ZoneKind: "living", Interval: 5 * time.Second}
	c := New(r, Options{Sensors: []Sensor{s}})
	now := t0
	c.Tick(now, false)
	reading := func(at time.Time, flags telemetry.Flags) {
		c.Observe([]telemetry.Event{{Time: at, Sensor: "room", Flags: flags,
			Values: []telemetry.Value{{Metric: telemetry.Temperature, V: 21}}}})
	}
	reading(now, telemetry.ClockUnsynced) // without a time: stamped on arrival
	for i := 1; i <= 60; i++ {
		now = now.Add(time.Second)
		if i%20 == 0 {
			reading(now, telemetry.ClockUnsynced)
		} else {
			reading(now.Add(-10*time.Minute), telemetry.ClockUnsynced|telemetry.DeviceTime)
		}
		c.Tick(now, false)
	}
	if r.raised != 0 {
		t.Errorf("a sensor heard every second raised sensor_stale %d times in 60 s", r.raised)
	}

	// Now it does fall silent: one alert, resolved once by its next reading —
	// even one with an old device time — and not raised again while it reports.
	for i := 0; i < 30; i++ {
		now = now.Add(time.Second)
		c.Tick(now, false)
	}
	if _, ok := r.open[KindStale+"/room"]; !ok || r.raised != 1 {
		t.Fatalf("30 s of silence (interval 5 s): want one sensor_stale open, got %d raised, open %v", r.raised, r.open)
	}
	for i := 0; i < 40; i++ {
		now = now.Add(time.Second)
		reading(now.Add(-10*time.Minute), telemetry.ClockUnsynced|telemetry.DeviceTime)
		c.Tick(now, false)
	}
	if r.raised != 1 || r.clears != 1 {
		t.Errorf("silent then heard for 40 s: want 1 alert raised and resolved once, got %d raised, %d resolved", r.raised, r.clears)
	}
}

// A clock stepping back (NTP correcting a clock ahead) must not resolve a sensor
// known to be silent, nor resolve anything before it was raised.
func TestStaleClockStepsBack(t *testing.T) {
	r := &timedRecorder{t: t, open: map[string]telemetry.Condition{}}
	s := Sensor{ID: "room", Zone: "room-101", ZoneKind: "living", Interval: time.Minute}
	c := New(r, Options{Sensors: []Sensor{s}})
	c.Tick(t0, true)
	c.Observe(temp(t0, "room", 21, 0))
	tickTo(c, t0, t0.Add(5*time.Minute))
	if r.raised != 1 {
		t.Fatalf("5 min silent (interval 1 min): want sensor_stale raised, got %d", r.raised)
	}
	back := t0.Add(-time.Hour) // the clock was an hour ahead
	tickTo(c, back, back.Add(2*time.Minute))
	if _, ok := r.open[KindStale+"/room"]; !ok || r.clears != 0 {
		t.Errorf("the clock stepped back an hour: the silent sensor was resolved (%d resolutions)", r.clears)
	}
	c.Observe(temp(back.Add(3*time.Minute), "room", 21, 0))
	if r.clears != 1 {
		t.Errorf("heard again after the step: want the alert resolved once, got %d", r.clears)
	}
}
