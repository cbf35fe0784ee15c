package camera

import (
	"slices"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Span is time that had to be covered and time that was.
type Span struct {
	Required time.Duration
	Covered  time.Duration
}

// Ratio is Covered / Required; 0 when nothing was required.
func (s Span) Ratio() float64 {
	if s.Required <= 0 {
		return 0
	}
	return float64(s.Covered) / float64(s.Required)
}

func (s *Span) add(o Span) { s.Required += o.Required; s.Covered += o.Covered }

// zone is one zone whose coverage is required.
type zone struct {
	cfg      config.Zone
	need     int
	kind     int // index into Check.kinds
	cams     []*cam
	covering int       // cameras covering it now
	covered  bool      //
	since    time.Time // uncovered since; zero while covered
	stale    bool      // since was stamped with an unsynchronised clock
	sev      telemetry.Severity
	day      Span // today so far
}

// maxGap: time between two advances longer than this (the process stalled, the
// clock jumped) is counted as unknown: required and not covered.
const maxGap = 2 * time.Minute

// ring holds the last 24 hours per minute, per kind (the last entry is "all"), for
// the live coverage.
type ring struct {
	minute [minutesPerDay]int64 // the Unix minute each bucket holds
	spans  [minutesPerDay][]Span
}

const minutesPerDay = 24 * 60

func (r *ring) bucket(minute int64, kinds int) []Span {
	i := int(minute % minutesPerDay)
	if r.minute[i] != minute || r.spans[i] == nil {
		r.minute[i] = minute
		if r.spans[i] == nil {
			r.spans[i] = make([]Span, kinds)
		} else {
			clear(r.spans[i])
		}
	}
	return r.spans[i]
}

// live sums the buckets of the 24 hours up to now into out (one per kind).
func (r *ring) live(now time.Time, out []Span) {
	clear(out)
	cur := now.Unix() / 60
	for i := range r.minute {
		if m := r.minute[i]; r.spans[i] != nil && m > cur-minutesPerDay && m <= cur {
			for k, s := range r.spans[i] {
				out[k].add(s)
			}
		}
	}
}

// midnight returns the start of t's calendar day in loc.
func midnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// How integrate counts a stretch of time.
type account uint8

const (
	observed    account = iota // with the zones' current coverage
	unknown                    // required, not covered: the gateway could not tell
	beforeStart                // like unknown, for the day only: the gateway was not running
)

// integrate accounts [from, to) as mode says. It splits at minute boundaries and
// local midnights, closing the day at each midnight.
func (c *Check) integrate(from, to time.Time, mode account) {
	for t := from; t.Before(to); {
		if day := midnight(t, c.loc); !day.Equal(c.dayStart) {
			c.closeDay(day)
		}
		next := t.Truncate(time.Minute).Add(time.Minute)
		if nd := c.dayStart.AddDate(0, 0, 1); nd.Before(next) {
			next = nd
		}
		if to.Before(next) {
			next = to
		}
		dt := next.Sub(t)
		var b []Span
		if mode != beforeStart {
			b = c.ring.bucket(t.Unix()/60, len(c.kinds)+1)
		}
		all := len(c.kinds)
		for _, z := range c.zones {
			covered := z.covered && mode == observed
			z.day.Required += dt
			if covered {
				z.day.Covered += dt
			}
			if b != nil {
				b[z.kind].Required += dt
				b[all].Required += dt
				if covered {
					b[z.kind].Covered += dt
					b[all].Covered += dt
				}
			}
		}
		t = next
	}
}

// closeDay writes the final `period=day` points of the day that ends, keeps it as
// yesterday, and starts the day beginning at day.
func (c *Check) closeDay(day time.Time) {
	if !c.dayStart.IsZero() {
		spans := c.daySpans()
		c.pending = append(c.pending, c.coveragePoints(c.dayStart, "day", spans)...)
		c.yesterday = spans
		c.yesterdayStart = c.dayStart
		c.days = append(c.days, closedDay{Start: c.dayStart, Span: spans[len(spans)-1]})
		if n := len(c.days); n > keepDays {
			c.days = slices.Delete(c.days, 0, n-keepDays)
		}
	}
	for _, z := range c.zones {
		z.day = Span{}
	}
	c.dayStart = day
}

// closedDay is a closed day's overall total.
type closedDay struct {
	Start time.Time // its local midnight
	Span
}

// keepDays: CoverageRatio answers for this many closed days.
const keepDays = 8

// daySpans returns today's spans per kind, and overall last.
func (c *Check) daySpans() []Span {
	out := make([]Span, len(c.kinds)+1)
	for _, z := range c.zones {
		out[z.kind].add(z.day)
		out[len(c.kinds)].add(z.day)
	}
	return out
}

// coveragePoints returns one `coverage` point per kind and one with zone_kind=all.
func (c *Check) coveragePoints(t time.Time, period string, spans []Span) []telemetry.Event {
	evs := make([]telemetry.Event, 0, len(spans))
	for k, s := range spans {
		if s.Required <= 0 {
			continue
		}
		kind := "all"
		if k < len(c.kinds) {
			kind = c.kinds[k]
		}
		evs = append(evs, telemetry.NewPoint(t, "coverage",
			[]telemetry.Tag{{Key: "period", Value: period}, {Key: "zone_kind", Value: kind}},
			telemetry.Float("required_s", s.Required.Seconds()),
			telemetry.Float("covered_s", s.Covered.Seconds()),
			telemetry.Float("ratio", s.Ratio())))
	}
	return evs
}

// CoverageRatio is the share of the required zone-time in [from, to) that cameras
// covered, for the safety score. The denominator is every required zone over the
// whole of [from, to) (up to the time accounted so far), so that time the gateway did
// not watch — stopped, or with its clock unsynchronised — counts as not covered.
// Answers come from today's totals, the last keepDays closed days' (kept across
// restarts by the state file) and, for other periods within the
// last 24 hours, from the per-minute ring (to the minute); an older period is not
// known. With no required zone it is (1, true). Safe for concurrent use.
func (c *Check) CoverageRatio(from, to time.Time) (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.zones) == 0 {
		return 1, true
	}
	if to.After(c.last) {
		to = c.last
	}
	if !to.After(from) {
		return 0, false
	}
	all := len(c.kinds)
	var covered time.Duration
	switch {
	case from.Equal(c.dayStart):
		covered = c.daySpans()[all].Covered
	case c.yesterday != nil && from.Equal(c.yesterdayStart) && !to.After(c.dayStart):
		covered = c.yesterday[all].Covered
	case c.closedDay(from, to) != nil:
		covered = c.closedDay(from, to).Covered
	case !from.Before(c.last.Add(-24 * time.Hour)):
		lo, hi := (from.Unix()+59)/60, (to.Unix()+59)/60 // minutes starting in [from, to)
		for i := range c.ring.minute {
			if m := c.ring.minute[i]; c.ring.spans[i] != nil && m >= lo && m < hi {
				covered += c.ring.spans[i][all].Covered
			}
		}
	default:
		return 0, false
	}
	return min(1, float64(covered)/(float64(len(c.zones))*float64(to.Sub(from)))), true
}

// closedDay returns the kept closed day that starts at from and ends at or after
// to; nil if none.
func (c *Check) closedDay(from, to time.Time) *closedDay {
	for i := range c.days {
		if d := &c.days[i]; from.Equal(d.Start) {
			if to.After(midnight(d.Start.In(c.loc).Add(36*time.Hour), c.loc)) {
				return nil
			}
			return d
		}
	}
	return nil
}
