// Package plauscheck runs package plausibility in the gateway: one detector per
// configured sensor whose zone kind has a variation rule, fed every resolved
// temperature reading (not retained last-known values, not readings stamped by an
// unsynchronised clock). Every 10 minutes it judges each sensor's last day, every
// hour it looks for twins (two sensors in different zones tracking each other),
// and while a sensor is implausible it holds the condition `implausible`
// (warning, subject the sensor) with the reason. The safety score asks
// [Check.Implausible]: an implausible sensor's time does not count as in band,
// from the day that showed it until it clears.
package plauscheck

import (
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/plausibility"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Kind is the condition kind; subject: the sensor id.
const Kind = "implausible"

// How often the verdicts and the twins are computed.
const (
	VerdictEvery = 10 * time.Minute
	TwinsEvery   = time.Hour
)

// keepSpans: implausible spans older than this are forgotten (the score keeps 7
// days for late data).
const keepSpans = 9 * 24 * time.Hour

// span is a time the sensor counts as implausible; to is zero while it lasts.
type span struct{ from, to time.Time }

type sensor struct {
	id, zone, kind string
	det            *plausibility.Sensor
	own            plausibility.Verdict
	twinOf         string // the other sensor of a twin pair, "" when none
	twinReason     string
	flagged        bool
	since          time.Time
	reason         string
	spans          []span
}

// Check is the plausibility check. Safe for concurrent use.
type Check struct {
	log   *slog.Logger
	conds telemetry.Conditions
	p     plausibility.Params

	mu          sync.Mutex
	sensors     []*sensor
	byID        map[string]*sensor
	lastVerdict time.Time
	lastTwins   time.Time
	rejected    uint64
}

// New returns the check of cfg's sensors whose zone kind has a variation rule;
// nil when there is none. log may be nil.
func New(cfg *config.Config, conds telemetry.Conditions, log *slog.Logger) *Check {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Check{log: log, conds: conds, p: plausibility.DefaultParams(), byID: map[string]*sensor{}}
	kinds := cfg.KindByZone()
	for _, s := range cfg.Sensors {
		kind := kinds[s.Zone]
		class := plausibility.ClassOf(kind)
		if class == plausibility.Unjudged || c.byID[s.ID] != nil {
			continue
		}
		x := &sensor{id: s.ID, zone: s.Zone, kind: kind, det: plausibility.NewSensor(class, c.p)}
		c.sensors = append(c.sensors, x)
		c.byID[s.ID] = x
	}
	if len(c.sensors) == 0 {
		return nil
	}
	return c
}

// Name implements the gateway's check.
func (c *Check) Name() string { return "plausibility" }

// Observe feeds the durable temperature readings to their sensors' detectors.
func (c *Check) Observe(evs []telemetry.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range evs {
		e := &evs[i]
		if e.Point != nil || e.Flags&(telemetry.Retained|telemetry.ClockUnsynced) != 0 {
			continue
		}
		s := c.byID[e.Sensor]
		if s == nil {
			continue
		}
		for _, v := range e.Values {
			if v.Metric != telemetry.Temperature {
				continue
			}
			if err := s.det.Observe(e.Time, v.V); err != nil {
				c.rejected++ // the reading path refuses such values first; a guard
			}
		}
	}
}

// Tick implements the gateway's ticker: with a synchronised clock, every
// VerdictEvery it judges every sensor and every TwinsEvery it looks for twins,
// raising and clearing `implausible`. It writes no points (the condition's
// transitions are the alerts' `alert` points).
func (c *Check) Tick(now time.Time, synced bool) []telemetry.Event {
	if !synced {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	twins := now.Sub(c.lastTwins) >= TwinsEvery || now.Before(c.lastTwins)
	if !twins && now.Sub(c.lastVerdict) < VerdictEvery && !now.Before(c.lastVerdict) {
		return nil
	}
	c.lastVerdict = now
	for _, s := range c.sensors {
		s.own = s.det.Verdict(now)
	}
	if twins {
		c.lastTwins = now
		c.findTwins(now)
	}
	for _, s := range c.sensors {
		c.apply(s, now)
	}
	return nil
}

func (c *Check) findTwins(now time.Time) {
	list := make([]plausibility.Named, 0, len(c.sensors))
	for _, s := range c.sensors {
		list = append(list, s.named())
	}
	twins := plausibility.TwinReasons(list, now, c.p)
	for _, s := range c.sensors {
		tw := twins[s.id]
		s.twinOf, s.twinReason = tw.ID, tw.Reason
	}
}

func (s *sensor) named() plausibility.Named {
	return plausibility.Named{ID: s.id, Zone: s.zone, Kind: s.kind, S: s.det}
}

// apply raises or clears s's condition and keeps its spans.
func (c *Check) apply(s *sensor, now time.Time) {
	var reasons []string
	if s.own.Implausible {
		reasons = append(reasons, s.own.Reason)
	}
	if s.twinOf != "" {
		reasons = append(reasons, s.twinReason)
	}
	if len(reasons) == 0 {
		if s.flagged {
			s.flagged, s.since, s.reason = false, time.Time{}, ""
			if n := len(s.spans); n > 0 && s.spans[n-1].to.IsZero() {
				s.spans[n-1].to = now
			}
			c.conds.Clear(Kind, s.id, now)
			c.log.Info("sensor plausible again", "sensor", s.id)
		}
		return
	}
	reason := plausibility.Reason(s.named(), reasons)
	if !s.flagged {
		s.flagged, s.since = true, now
		// The day that showed it is the day whose readings do not count.
		from := now.Add(-plausibility.Slots * plausibility.SlotLen)
		if n := len(s.spans); n > 0 && !s.spans[n-1].to.Before(from) {
			s.spans[n-1].to = time.Time{} // continues the last span
		} else {
			s.spans = append(s.spans, span{from: from})
		}
		c.log.Warn("sensor implausible", "sensor", s.id, "zone", s.zone, "reason", reason)
	}
	s.reason = reason
	c.conds.Raise(telemetry.Condition{Kind: Kind, Subject: s.id, Zone: s.zone, Severity: telemetry.Warning,
		Since: s.since, Reason: reason})
	// Forget spans past the score's horizon.
	s.spans = slices.DeleteFunc(s.spans, func(sp span) bool { return !sp.to.IsZero() && now.Sub(sp.to) > keepSpans })
}

// Implausible reports whether sensor was held implausible at any time in
// [from, to): the score's question (score.Plausibility). Safe for concurrent use.
func (c *Check) Implausible(sensor string, from, to time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.byID[sensor]
	if s == nil {
		return false
	}
	for _, sp := range s.spans {
		if sp.from.Before(to) && (sp.to.IsZero() || sp.to.After(from)) {
			return true
		}
	}
	return false
}

// Status is one sensor's plausibility, for the status page.
type Status struct {
	Sensor, Zone, Kind string
	Class              string // cycling, room
	Judged             bool
	Implausible        bool
	Code               string // the sensor's own rule's code, or tracks_other_sensor
	Reason             string // why implausible, or why not judged
	Since              time.Time
	TwinOf             string
	Hours, Readings    int
	RangeC, Cycles     float64
}

// Snapshot returns every judged sensor's last verdict, in config order.
func (c *Check) Snapshot() []Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Status, 0, len(c.sensors))
	for _, s := range c.sensors {
		st := Status{Sensor: s.id, Zone: s.zone, Kind: s.kind, Class: s.det.Class().String(), Judged: s.own.Judged,
			Implausible: s.flagged, Reason: s.own.Reason, Since: s.since, TwinOf: s.twinOf,
			Hours: s.own.Hours, Readings: s.own.Readings, RangeC: s.own.RangeC, Cycles: s.own.Cycles}
		if s.flagged {
			st.Reason = s.reason
			st.Code = string(s.own.Code)
			if st.Code == "" {
				st.Code = string(plausibility.Twin)
			}
		}
		out = append(out, st)
	}
	return out
}
