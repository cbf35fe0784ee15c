// Package deadband keeps points that carry no information off the uplink: the
// gateway's slowly changing values (a sensor's battery, link quality, voltage and
// online state; a camera's state; the live coverage and score) are written when they
// change beyond a deadband, and at least every so often, instead of with every
// reading or every minute. Climate readings are never touched: every temperature and
// humidity is written as read.
//
// The filter sits between the gateway's producers (the reading path, the checks'
// ticks) and the spool, so the spool and InfluxDB receive the thinned stream while
// the checks, the rules and the score keep seeing every event: they observe the
// reading path's events, not what was written.
//
// The state is in memory: per sensor and metric, and per point series (measurement
// and tags), the last value written and when. It is bounded ([MaxSeries]): a series
// beyond the bound is written unthinned. A restart forgets it, so the first value of
// every series after a restart is written again. A value counts as written only once
// the spool accepted it.
package deadband

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// MaxSeries bounds the filter's state: sensor metrics and point series. The series
// come from the centre config (sensors, cameras, zone kinds), so a centre stays far
// below it.
const MaxSeries = 10_000

// Rules say what is deadbanded and how.
type Rules struct {
	// Every is how often a deadbanded device value is written when it does not
	// change beyond its band.
	Every time.Duration
	// Device maps the device-health metrics of sensor readings to their deadband: a
	// value is written when it differs from the last one written by at least the band
	// (0: by anything). Metrics not listed are written as read.
	Device map[telemetry.Metric]float64
	// Points are the rules of the checks' derived points; a point no rule matches is
	// written as produced.
	Points []PointRule
}

// PointRule thins the points of one measurement (optionally only those with a tag
// value). A series is the measurement with all its tags. A point is written when its
// series has not been written yet, when a field it has differs from the last point
// written (floats by at least their band; a field missing or added counts), when
// its flags differ, or when Every has passed since the series was last written.
type PointRule struct {
	Measurement string
	Tag, Value  string // when Tag is set, only points with Tag=Value
	Every       time.Duration
	// Bands are the deadbands of float fields; a float field not listed is compared
	// exactly.
	Bands map[string]float64
	// Ignore lists fields whose change alone does not write a point (running
	// seconds that move every minute; the ratio they make is compared instead).
	Ignore []string
	// Final is for points that overwrite each other at one timestamp (a day's running
	// total stamped with the day's start): the last point of a timestamp is always
	// written, before the first point of the next timestamp of its series.
	Final bool
}

// Default returns the gateway's rules (docs/ARCHITECTURE.md, the schema section).
func Default() Rules {
	const every = 30 * time.Minute
	return Rules{
		Every: every,
		Device: map[telemetry.Metric]float64{
			telemetry.Battery:     2,    // %
			telemetry.LinkQuality: 10,   // LQI units, 0–255
			telemetry.Voltage:     0.05, // V
			telemetry.Online:      0,    // every change
		},
		Points: []PointRule{
			{Measurement: telemetry.MeasurementCamera, Every: 15 * time.Minute, Bands: map[string]float64{"fps": 1}},
			{Measurement: telemetry.MeasurementCoverage, Tag: "period", Value: "live", Every: 15 * time.Minute,
				Bands: map[string]float64{"ratio": 0.01}, Ignore: []string{"required_s", "covered_s"}},
			{Measurement: telemetry.MeasurementCoverage, Tag: "period", Value: "day", Every: 15 * time.Minute,
				Ignore: []string{"required_s", "covered_s", "ratio"}, Final: true},
			{Measurement: telemetry.MeasurementSafetyScore, Tag: "period", Value: "live", Every: 15 * time.Minute},
		},
	}
}

// Appender is the spool.
type Appender interface {
	Append(ctx context.Context, evs ...telemetry.Event) error
}

// Filter thins events on their way to an Appender. Safe for concurrent use; the
// appends it makes are serialised.
type Filter struct {
	next  Appender
	rules Rules
	now   func() time.Time

	mu      sync.Mutex
	metrics map[metricKey]*written
	series  map[string]*seriesState
	out     []telemetry.Event
	values  []telemetry.Value
	// What the append being made writes: the state it moves to once the spool
	// accepted it, and the state later events of the same append are judged by.
	pendMetrics map[metricKey]float64
	pendSeries  map[string]*seriesState
}

type metricKey struct {
	sensor string
	metric telemetry.Metric
}

type written struct {
	v  float64
	at time.Time
}

type seriesState struct {
	fields []telemetry.Field
	flags  telemetry.Flags
	time   time.Time // the point's own time
	at     time.Time // when it was written (by the clock)
	held   *telemetry.Event
}

// New returns a filter writing to next; now is the gateway's clock.
func New(next Appender, rules Rules, now func() time.Time) *Filter {
	return &Filter{next: next, rules: rules, now: now,
		metrics: map[metricKey]*written{}, series: map[string]*seriesState{},
		pendMetrics: map[metricKey]float64{}, pendSeries: map[string]*seriesState{}}
}

// Append thins evs and appends what is left to the spool; the filter's state moves
// on only when that append succeeds.
func (f *Filter) Append(ctx context.Context, evs ...telemetry.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	f.out, f.values = f.out[:0], f.values[:0]
	clear(f.pendMetrics)
	clear(f.pendSeries)
	for i := range evs {
		if evs[i].Point != nil {
			f.point(&evs[i], now)
		} else {
			f.reading(&evs[i], now)
		}
	}
	defer clear(f.out)
	if len(f.out) > 0 {
		if err := f.next.Append(ctx, f.out...); err != nil {
			return err
		}
	}
	f.commit(now)
	return nil
}

// commit records what the last append wrote.
func (f *Filter) commit(now time.Time) {
	for k, v := range f.pendMetrics {
		if w := f.metrics[k]; w != nil {
			w.v, w.at = v, now
		} else if len(f.metrics)+len(f.series) < MaxSeries {
			f.metrics[k] = &written{v: v, at: now}
		}
	}
	for key, ps := range f.pendSeries {
		st := f.series[key]
		if st == nil {
			if len(f.metrics)+len(f.series) >= MaxSeries {
				continue
			}
			st = &seriesState{}
			f.series[key] = st
		}
		st.fields, st.flags, st.time, st.at = ps.fields, ps.flags, ps.time, ps.at
		if st.held != nil && st.held.Time.Equal(st.time) {
			st.held = nil // superseded by this point
		}
	}
}

// reading keeps every climate value of a sensor event and the device values that
// are due.
func (f *Filter) reading(ev *telemetry.Event, now time.Time) {
	drop := false
	for _, v := range ev.Values {
		if !f.due(ev.Sensor, v, now) {
			drop = true
			break
		}
	}
	if !drop {
		f.keep(ev.Sensor, ev.Values)
		f.out = append(f.out, *ev)
		return
	}
	start := len(f.values)
	for _, v := range ev.Values {
		if f.due(ev.Sensor, v, now) {
			f.values = append(f.values, v)
		}
	}
	if len(f.values) == start {
		return
	}
	vals := f.values[start:len(f.values):len(f.values)]
	f.keep(ev.Sensor, vals)
	e := *ev
	e.Values = vals
	f.out = append(f.out, e)
}

// due reports whether v of sensor is written.
func (f *Filter) due(sensor string, v telemetry.Value, now time.Time) bool {
	band, ok := f.rules.Device[v.Metric]
	if !ok {
		return true
	}
	k := metricKey{sensor, v.Metric}
	var last float64
	if pv, ok := f.pendMetrics[k]; ok { // written earlier in this append
		last = pv
	} else {
		w := f.metrics[k]
		if w == nil || now.Sub(w.at) >= f.rules.Every || now.Before(w.at) {
			return true
		}
		last = w.v
	}
	d := math.Abs(v.V - last)
	if band == 0 {
		return d != 0
	}
	return d >= band || math.IsNaN(d)
}

// keep records vals of sensor as written, once the append succeeds.
func (f *Filter) keep(sensor string, vals []telemetry.Value) {
	for _, v := range vals {
		if _, ok := f.rules.Device[v.Metric]; !ok {
			continue
		}
		f.pendMetrics[metricKey{sensor, v.Metric}] = v.V
	}
}

func (f *Filter) rule(p *telemetry.Point) *PointRule {
	for i := range f.rules.Points {
		r := &f.rules.Points[i]
		if r.Measurement != p.Measurement {
			continue
		}
		if r.Tag == "" {
			return r
		}
		for _, t := range p.Tags {
			if t.Key == r.Tag && t.Value == r.Value {
				return r
			}
		}
	}
	return nil
}

// point writes a derived point when its rule says it is due.
func (f *Filter) point(ev *telemetry.Event, now time.Time) {
	r := f.rule(ev.Point)
	if r == nil {
		f.out = append(f.out, *ev)
		return
	}
	key := seriesKey(ev.Point)
	s := f.series[key]
	if s == nil && r.Final && len(f.metrics)+len(f.series) < MaxSeries {
		s = &seriesState{} // holds the held point; due at once (never written)
		f.series[key] = s
	}
	cmp := s
	if ps := f.pendSeries[key]; ps != nil {
		cmp = ps // written earlier in this append
	} else if s != nil && s.at.IsZero() {
		cmp = nil
	}
	if s != nil && r.Final && s.held != nil && !s.held.Time.Equal(ev.Time) {
		// The series moved to a new timestamp: its held point was the last of its own.
		// If the append fails, the producer offers the same points again and the
		// held point is held, and written, again.
		f.out = append(f.out, *s.held)
		s.held = nil
	}
	if cmp != nil && !f.pointDue(r, cmp, ev, now) {
		if r.Final {
			e := *ev
			s.held = &e
		}
		return
	}
	f.out = append(f.out, *ev)
	f.pendSeries[key] = &seriesState{fields: slices.Clone(ev.Point.Fields), flags: ev.Flags, time: ev.Time, at: now}
}

func (f *Filter) pointDue(r *PointRule, s *seriesState, ev *telemetry.Event, now time.Time) bool {
	if now.Sub(s.at) >= r.Every || now.Before(s.at) || ev.Flags != s.flags {
		return true
	}
	if r.Final && !ev.Time.Equal(s.time) {
		return true // a new timestamp: a point of its own
	}
	seen := 0
	for _, fl := range ev.Point.Fields {
		if slices.Contains(r.Ignore, fl.Key) {
			continue
		}
		seen++
		i := slices.IndexFunc(s.fields, func(o telemetry.Field) bool { return o.Key == fl.Key })
		if i < 0 {
			return true
		}
		o := s.fields[i]
		if fl.Kind != o.Kind {
			return true
		}
		if fl.Kind == telemetry.FloatField {
			d := math.Abs(fl.Num - o.Num)
			if band := r.Bands[fl.Key]; (band == 0 && d != 0) || (band > 0 && d >= band) || math.IsNaN(d) {
				return true
			}
			continue
		}
		if fl.Int != o.Int || fl.Str != o.Str {
			return true
		}
	}
	for _, o := range s.fields {
		if !slices.Contains(r.Ignore, o.Key) {
			seen--
		}
	}
	return seen != 0 // a field appeared or went missing
}

// seriesKey is the measurement and the tags, sorted.
func seriesKey(p *telemetry.Point) string {
	tags := slices.Clone(p.Tags)
	slices.SortFunc(tags, func(a, b telemetry.Tag) int { return strings.Compare(a.Key, b.Key) })
	var b strings.Builder
	b.WriteString(p.Measurement)
	for _, t := range tags {
		b.WriteByte(0)
		b.WriteString(t.Key)
		b.WriteByte('=')
		b.WriteString(t.Value)
	}
	return b.String()
}
