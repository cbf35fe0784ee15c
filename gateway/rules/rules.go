package rules

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Sensor is one configured sensor as the rules see it.
type Sensor struct {
	ID, Zone, ZoneKind string
	// Interval is how often the sensor is expected to report (0: never stale).
	Interval time.Duration
	// Limits are the sensor's thresholds: its zone's overrides, or its zone kind's
	// defaults.
	Limits []Limit
}

// Options configure a Check.
type Options struct {
	Sensors []Sensor
	// StaleFactor × a sensor's interval without data is a warning (default 3);
	// StaleCritical without data is critical (default 60 min, or the warning
	// delay when longer).
	StaleFactor   int
	StaleCritical time.Duration
	// BatteryLow is the battery percentage below which a warning is raised (default 20).
	BatteryLow float64
	// TempHysteresis (°C, default 0.5) and HumidHysteresis (%, default 3).
	TempHysteresis, HumidHysteresis float64
	// Health, when set, is read at every tick for the gateway-health rules.
	Health HealthSource
	// Open are conditions already open (remembered across a restart): the rules
	// take them as their own so that they clear them when the value is back.
	Open []telemetry.Condition
	// StateFile, when set, keeps the running holds, the devices offline and the
	// medicine fridges' cumulative accounting across a restart (see state.go).
	StateFile string
	// Logger receives state-file errors (nil: none logged).
	Logger *slog.Logger
}

// Check evaluates the rules. It is safe for concurrent use.
type Check struct {
	opt    Options
	raiser telemetry.Conditions

	mu       sync.Mutex
	sensors  map[string]*sensorState
	order    []*sensorState
	lastTick time.Time
	health   healthState

	// the state file
	dirty    bool // a hold, an offline device or an excursion changed: save at the next tick
	soft     bool // only a fridge's last reading moved: save within softSaveEvery
	savedAt  time.Time
	saveErrs int
	loadErr  error
}

type sensorState struct {
	Sensor
	lastSeen     time.Time // when the sensor was last heard (or the first tick); never goes back but at a clock step
	offlineSince time.Time
	batteryLow   bool
	limits       []limitState
	raised       map[string]raised // kind → what is raised now

	// the medicine fridge's cumulative rule
	fridge     bool
	staleAfter time.Duration // silence longer than this counts as out of range
	outAbove   float64       // out of range above this
	outBelow   float64       // or below this
	lastTemp   float64
	lastTempAt time.Time
	haveTemp   bool
	outSpans   []span
}

type limitState struct {
	since  time.Time // when the value went beyond; zero when within
	active bool
	value  float64
	// restored: a hold running before a restart; it fires only after a live
	// reading confirms the value is still beyond.
	restored bool
}

type raised struct {
	sev   telemetry.Severity
	since time.Time
}

type span struct{ from, to time.Time }

// New returns a Check raising into r.
func New(r telemetry.Conditions, opt Options) *Check {
	if opt.StaleFactor <= 0 {
		opt.StaleFactor = DefaultStaleFactor
	}
	if opt.StaleCritical <= 0 {
		opt.StaleCritical = DefaultStaleCritical
	}
	if opt.BatteryLow == 0 {
		opt.BatteryLow = DefaultBatteryLow
	}
	if opt.TempHysteresis == 0 {
		opt.TempHysteresis = DefaultTempHysteresis
	}
	if opt.HumidHysteresis == 0 {
		opt.HumidHysteresis = DefaultHumidHysteresis
	}
	c := &Check{opt: opt, raiser: r, sensors: map[string]*sensorState{}}
	for _, s := range opt.Sensors {
		st := &sensorState{Sensor: s, limits: make([]limitState, len(s.Limits)), raised: map[string]raised{}}
		if s.ZoneKind == "med-fridge" {
			st.fridge, st.outAbove, st.outBelow = true, math.Inf(1), math.Inf(-1)
			st.staleAfter = time.Duration(opt.StaleFactor) * s.Interval
			for _, l := range s.Limits {
				if l.Metric != telemetry.Temperature || l.Kind != "" {
					continue
				}
				if l.Above {
					st.outAbove = math.Min(st.outAbove, l.Value)
				} else {
					st.outBelow = math.Max(st.outBelow, l.Value)
				}
			}
		}
		c.sensors[s.ID] = st
		c.order = append(c.order, st)
	}
	if opt.StateFile != "" {
		st, err := loadStateFile(file(opt.StateFile, opt.Logger)) // logs a file moved aside
		switch {
		case err != nil:
			c.loadErr = err
			if !errors.Is(err, ErrCorruptState) && opt.Logger != nil {
				opt.Logger.Error("rules state unreadable: running holds and the medicine fridges' 24 h accounting start from empty", "err", err)
			}
		case st != nil:
			c.restore(st)
		}
	}
	for _, o := range opt.Open {
		if o.Subject == GatewaySubject {
			c.health.raised(o.Kind, o.Severity, o.Since)
			continue
		}
		st := c.sensors[o.Subject]
		if st == nil {
			continue
		}
		st.raised[o.Kind] = raised{o.Severity, o.Since}
		for i, l := range st.Limits {
			if l.ConditionKind() == o.Kind && l.Severity <= o.Severity {
				ls := &st.limits[i]
				if ls.since.IsZero() {
					ls.since, ls.value = o.Since, o.Value
				} else if o.Since.Before(ls.since) {
					ls.since = o.Since
				}
				ls.active, ls.restored = true, false
			}
		}
		if o.Kind == KindOffline {
			st.offlineSince = o.Since
		}
		if o.Kind == KindStale && !o.Since.IsZero() {
			// A stale condition's Since is when the sensor was last heard: it stays
			// silent since then, not since the restart.
			st.lastSeen = o.Since
		}
		if o.Kind == KindBattery {
			st.batteryLow = true
		}
	}
	return c
}

// Name labels the check's counters.
func (c *Check) Name() string { return "rules" }

// Observe judges durable sensor readings. Retained readings are ignored; replayed
// ones only tell that the sensor is alive.
func (c *Check) Observe(evs []telemetry.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range evs {
		e := &evs[i]
		if e.Point != nil || e.Flags.Has(telemetry.Retained) {
			continue
		}
		st := c.sensors[e.Sensor]
		if st == nil {
			continue
		}
		heard := c.heard(e.Time)
		if heard.After(st.lastSeen) {
			st.lastSeen = heard
		}
		if e.Flags.Has(telemetry.Replayed) {
			continue
		}
		for _, v := range e.Values {
			c.value(st, e.Time, v)
		}
		c.settle(st, heard)
	}
}

// heard returns when a reading stamped at was heard. Silence is a matter of
// arrival, not of the device's clock: a reading carrying a device time ten minutes
// old still tells that the sensor is alive now (issue 18, item 10). The reading
// arrived after the last tick (ticks run every second on the gateway's clock), so
// the last tick bounds its arrival from below.
func (c *Check) heard(at time.Time) time.Time {
	if at.Before(c.lastTick) {
		return c.lastTick
	}
	return at
}

// value applies one live value.
func (c *Check) value(st *sensorState, at time.Time, v telemetry.Value) {
	switch v.Metric {
	case telemetry.Online:
		if v.V == 0 {
			if st.offlineSince.IsZero() {
				st.offlineSince, c.dirty = at, true
			}
		} else if !st.offlineSince.IsZero() {
			st.offlineSince, c.dirty = time.Time{}, true
		}
		return
	case telemetry.Battery:
		if v.V < c.opt.BatteryLow {
			st.batteryLow = true
		} else if v.V >= c.opt.BatteryLow+5 {
			st.batteryLow = false
		}
		return
	case telemetry.Temperature:
		if st.fridge {
			c.fridgeReading(st, at, v.V)
		}
	}
	hyst := c.opt.TempHysteresis
	if v.Metric == telemetry.Humidity {
		hyst = c.opt.HumidHysteresis
	}
	for i, l := range st.Limits {
		if l.Metric != v.Metric {
			continue
		}
		ls := &st.limits[i]
		before := *ls
		ls.restored = false // a live reading: the value is known again
		switch {
		case l.Beyond(v.V):
			if ls.since.IsZero() {
				ls.since = at
			}
			ls.value = v.V
			if at.Sub(ls.since) >= l.Hold {
				ls.active = true
			}
		case l.Back(v.V, hyst):
			*ls = limitState{}
		default: // within the hysteresis: keep the state, remember the value
			if !ls.since.IsZero() {
				ls.value = v.V
			}
		}
		if !ls.since.Equal(before.since) || ls.active != before.active {
			c.dirty = true
		}
	}
}

// fridgeReading accounts the time since the previous reading of a medicine fridge.
func (c *Check) fridgeReading(st *sensorState, at time.Time, v float64) {
	gap := at.Sub(st.lastTempAt)
	if st.haveTemp && gap > 0 && (st.out(st.lastTemp) || st.staleAfter > 0 && gap > st.staleAfter) {
		st.outSpans = append(st.outSpans, span{st.lastTempAt, at})
		c.dirty = true
	}
	if !st.haveTemp || !at.Before(st.lastTempAt) {
		if !st.haveTemp || st.out(v) != st.out(st.lastTemp) {
			c.dirty = true
		}
		st.lastTemp, st.lastTempAt, st.haveTemp = v, at, true
		c.soft = true
	}
}

func (st *sensorState) out(v float64) bool { return v > st.outAbove || v < st.outBelow }

// outOfRange returns the time out of range within the window ending at now,
// counting the time since the last reading if it was out of range or the sensor
// has gone stale (missing data counts as out of range).
func (st *sensorState) outOfRange(now time.Time, stale bool) time.Duration {
	from := now.Add(-CumulativeWindow)
	keep := st.outSpans[:0]
	var d time.Duration
	for _, s := range st.outSpans {
		if !s.to.After(from) {
			continue
		}
		keep = append(keep, s)
		d += s.to.Sub(maxTime(s.from, from))
	}
	st.outSpans = keep
	if st.haveTemp && now.After(st.lastTempAt) && (st.out(st.lastTemp) || stale) {
		d += now.Sub(maxTime(st.lastTempAt, from))
	}
	return d
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Tick advances time: holds that have elapsed fire, silent sensors go stale, and
// the gateway's health is read. It returns no points.
func (c *Check) Tick(now time.Time, synced bool) []telemetry.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastTick.IsZero() {
		for _, st := range c.order {
			if st.lastSeen.IsZero() {
				st.lastSeen = now // never seen yet: stale counts from the start
			}
		}
	} else if jump := now.Sub(c.lastTick); jump < 0 || jump > 10*time.Minute {
		// The clock stepped (NTP after boot): silence is measured from now — except
		// for a sensor already known to be silent, which stays so (a step back moves
		// its last-heard time back by the step, so the silence measured so far holds).
		for _, st := range c.order {
			if _, stale := st.raised[KindStale]; !stale {
				st.lastSeen = now
			} else if jump < 0 {
				st.lastSeen = st.lastSeen.Add(jump)
			}
		}
	}
	c.lastTick = now
	for _, st := range c.order {
		for i, l := range st.Limits {
			ls := &st.limits[i]
			if !ls.active && !ls.restored && !ls.since.IsZero() && now.Sub(ls.since) >= l.Hold {
				ls.active, c.dirty = true, true
			}
		}
		c.settle(st, now)
	}
	if c.opt.Health != nil {
		c.health.tick(c.raiser, now, c.opt.Health.Health())
	}
	c.maybeSave(now)
	return nil
}

// settle raises and clears the sensor's conditions to match its state at now.
func (c *Check) settle(st *sensorState, now time.Time) {
	want := map[string]raised{}
	up := func(kind string, sev telemetry.Severity, since time.Time) {
		w, ok := want[kind]
		if !ok || sev > w.sev {
			w.sev = sev
		}
		if !ok || since.Before(w.since) {
			w.since = since
		}
		want[kind] = w
	}
	values := map[string]float64{}
	for i, l := range st.Limits {
		if ls := st.limits[i]; ls.active {
			k := l.ConditionKind()
			up(k, l.Severity, ls.since)
			values[k] = ls.value
		}
	}
	silent := now.Sub(st.lastSeen)
	warnAfter := time.Duration(c.opt.StaleFactor) * st.Interval
	critAfter := max(c.opt.StaleCritical, warnAfter)
	stale := st.Interval > 0 && silent > warnAfter
	if stale {
		sev := telemetry.Warning
		if silent > critAfter {
			sev = telemetry.Critical
		}
		up(KindStale, sev, st.lastSeen)
		values[KindStale] = silent.Minutes()
	}
	if !st.offlineSince.IsZero() {
		off := now.Sub(st.offlineSince)
		if off > warnAfter {
			sev := telemetry.Warning
			if off > critAfter {
				sev = telemetry.Critical
			}
			up(KindOffline, sev, st.offlineSince)
			values[KindOffline] = off.Minutes()
		}
	}
	if st.batteryLow {
		up(KindBattery, telemetry.Warning, now)
	}
	if st.fridge && st.haveTemp {
		if d := st.outOfRange(now, stale); d > CumulativeMax {
			up(KindCumulative, telemetry.Critical, now)
			values[KindCumulative] = d.Minutes()
		}
	}
	var kinds [8]string // on the stack: a sensor has a few condition kinds
	for _, kind := range sortedKinds(kinds[:0], want) {
		w := want[kind]
		old, ok := st.raised[kind]
		if ok && old.sev == w.sev {
			continue
		}
		if ok {
			w.since = old.since
		}
		st.raised[kind] = w
		v, hasV := values[kind]
		c.raiser.Raise(telemetry.Condition{
			Kind: kind, Subject: st.ID, Zone: st.Zone, Severity: w.sev, Since: w.since,
			Reason: reason(kind, v, hasV), Value: v, HasValue: hasV,
		})
	}
	for _, kind := range sortedKinds(kinds[:0], st.raised) {
		if _, ok := want[kind]; !ok {
			at := now
			if since := st.raised[kind].since; at.Before(since) {
				at = since // never resolved before it was raised: open_for is never negative
			}
			delete(st.raised, kind)
			c.raiser.Clear(kind, st.ID, at)
		}
	}
}

// sortedKinds appends m's keys to buf, sorted (raises and clears go out in a
// stable order), without allocating when they fit buf's capacity: settle runs for
// every reading.
func sortedKinds(buf []string, m map[string]raised) []string {
	for k := range m {
		buf = append(buf, k)
	}
	slices.Sort(buf)
	return buf
}

func reason(kind string, v float64, hasV bool) string {
	if !hasV {
		return kind
	}
	switch kind {
	case KindStale, KindOffline, KindCumulative:
		return fmt.Sprintf("%s: %.0f min", kind, v)
	case "humidity_high", "humidity_low":
		return fmt.Sprintf("%s: %.0f %%", kind, v)
	}
	return fmt.Sprintf("%s: %.1f °C", kind, v)
}
