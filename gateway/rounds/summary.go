package rounds

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Counts are slot counts and the compliance they give.
type Counts struct {
	Due    int `json:"due"`
	OnTime int `json:"on_time"`
	Late   int `json:"late"`
	Missed int `json:"missed"`
	// Unjudged slots ended before the gateway judged the night (restart without
	// state, state lost).
	Unjudged int `json:"unjudged,omitempty"`
	// Compliance is OnTime/Due, 0 for an unknown night (unknown counts against the
	// centre), 1 when nothing was due.
	Compliance float64 `json:"compliance"`
}

func (k *Counts) add(status string) {
	k.Due++
	switch status {
	case statusOnTime:
		k.OnTime++
	case statusLate:
		k.Late++
	case statusMissed:
		k.Missed++
	case statusUnknown:
		k.Unjudged++
	}
}

func (k *Counts) finish(unknown bool) {
	switch {
	case unknown:
		k.Compliance = 0
	case k.Due == 0:
		k.Compliance = 1
	default:
		k.Compliance = float64(k.OnTime) / float64(k.Due)
	}
}

// Summary is a night's result, published retained on saqshy/<centre>/round/summary
// for the director's morning report.
type Summary struct {
	Centre        string            `json:"centre"`
	Night         string            `json:"night"` // local date the window starts on
	Timezone      string            `json:"timezone"`
	Start         time.Time         `json:"start"`
	End           time.Time         `json:"end"`
	Unknown       bool              `json:"unknown"`
	UnknownReason string            `json:"unknown_reason,omitempty"`
	Flagged       int               `json:"flagged_scans"`
	Overall       Counts            `json:"overall"`
	ZoneKinds     map[string]Counts `json:"zone_kinds"`
	Missed        []MissedSlot      `json:"missed_slots"`
}

// MissedSlot is one slot without a scan.
type MissedSlot struct {
	Checkpoint string    `json:"checkpoint"`
	Zone       string    `json:"zone"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
}

// summarize counts a night's slots.
func (c *Check) summarize(n *night) Summary {
	s := Summary{Centre: c.centre, Night: n.Date, Timezone: c.sched.loc.String(), Start: n.Start, End: n.End,
		Unknown: n.Unknown, UnknownReason: n.UnknownReason, Flagged: n.Flagged, ZoneKinds: map[string]Counts{}, Missed: []MissedSlot{}}
	for _, cp := range c.cps {
		k := s.ZoneKinds[cp.kind]
		for _, sl := range n.Slots[cp.id] {
			s.Overall.add(sl.Status)
			k.add(sl.Status)
			if sl.Status == statusMissed {
				s.Missed = append(s.Missed, MissedSlot{Checkpoint: cp.id, Zone: cp.zone, Start: sl.Start, End: sl.End})
			}
		}
		s.ZoneKinds[cp.kind] = k
	}
	s.Overall.finish(n.Unknown)
	for kind, k := range s.ZoneKinds {
		k.finish(n.Unknown)
		s.ZoneKinds[kind] = k
	}
	return s
}

func countFields(k Counts, unknown bool) []telemetry.Field {
	return []telemetry.Field{
		telemetry.Int("due", int64(k.Due)), telemetry.Int("on_time", int64(k.OnTime)),
		telemetry.Int("late", int64(k.Late)), telemetry.Int("missed", int64(k.Missed)),
		telemetry.Int("unjudged", int64(k.Unjudged)),
		telemetry.Float("compliance", k.Compliance), telemetry.Bool("unknown", unknown),
	}
}

// finalize ends a night: missed slots still open, one `round` point per slot, the
// `round_night` points (overall and per zone kind), the conditions cleared, and the
// summary queued for MQTT. Called with c.mu held.
func (c *Check) finalize(n *night, now time.Time) []telemetry.Event {
	c.markMissed(n, now)
	var out []telemetry.Event
	for _, cp := range c.cps {
		for _, sl := range n.Slots[cp.id] {
			status := sl.Status
			if status == statusOpen {
				status = statusMissed
			}
			out = append(out, telemetry.NewPoint(sl.Start, "round", []telemetry.Tag{
				{Key: "event", Value: "slot"}, {Key: "checkpoint", Value: cp.id}, {Key: "zone", Value: cp.zone},
				{Key: "zone_kind", Value: cp.kind}, {Key: "status", Value: status},
			}, telemetry.Bool("on_time", status == statusOnTime), telemetry.Int("late_s", sl.LateS),
				telemetry.Bool("flagged", false), telemetry.Int("slot_s", int64(sl.End.Sub(sl.Start)/time.Second))))
		}
		c.clear(cp.id, now)
	}
	sum := c.summarize(n)
	nightTag := telemetry.Tag{Key: "night", Value: n.Date}
	out = append(out, telemetry.NewPoint(n.Start, "round_night", []telemetry.Tag{nightTag},
		append(countFields(sum.Overall, n.Unknown), telemetry.Int("flagged_scans", int64(n.Flagged)))...))
	kinds := make([]string, 0, len(sum.ZoneKinds))
	for k := range sum.ZoneKinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		out = append(out, telemetry.NewPoint(n.Start, "round_night", []telemetry.Tag{nightTag, {Key: "zone_kind", Value: k}},
			countFields(sum.ZoneKinds[k], n.Unknown)...))
	}
	if c.loadErr != nil {
		c.opt.Conditions.Clear(KindStateLost, "rounds", now)
	}
	payload, err := json.Marshal(sum)
	if err == nil {
		c.st.Pending = append(c.st.Pending, pendingSummary{Night: n.Date, Payload: payload})
		if len(c.st.Pending) > 30 { // a month unpublished: keep the newest
			c.st.Pending = slices.Delete(c.st.Pending, 0, len(c.st.Pending)-30)
		}
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	n.Final = true
	c.rememberHistory(n, now)
	c.log.Info("night rounds judged", "night", n.Date, "due", sum.Overall.Due, "on_time", sum.Overall.OnTime,
		"late", sum.Overall.Late, "missed", sum.Overall.Missed, "compliance", sum.Overall.Compliance, "unknown", n.Unknown)
	return out
}

// SummaryTopic is where night summaries are published, retained.
func SummaryTopic(centre string) string { return "saqshy/" + centre + "/round/summary" }

// Run publishes the pending night summaries, oldest first, retrying with backoff
// (1 s doubling to 1 min) while publishing fails; a summary stays in the state file
// until the broker has it. It returns when ctx is cancelled.
func (c *Check) Run(ctx context.Context) error {
	if c.opt.Publisher == nil {
		<-ctx.Done()
		return nil
	}
	backoff := time.Second
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.wake:
		case <-retry.C:
		}
		for {
			c.mu.Lock()
			if len(c.st.Pending) == 0 {
				c.mu.Unlock()
				break
			}
			p := c.st.Pending[0]
			c.mu.Unlock()
			pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := c.opt.Publisher.Publish(pctx, SummaryTopic(c.centre), true, p.Payload)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				c.log.Warn("publishing the night-round summary; will retry", "night", p.Night, "err", err, "in", backoff)
				retry.Reset(backoff)
				backoff = min(2*backoff, time.Minute)
				break
			}
			backoff = time.Second
			c.mu.Lock()
			if len(c.st.Pending) > 0 && c.st.Pending[0].Night == p.Night {
				c.st.Pending = c.st.Pending[1:]
				c.save()
			}
			c.mu.Unlock()
		}
	}
}

// Status is a snapshot of tonight's rounds for the status page.
type Status struct {
	Night         string    // local date the window starts on; "" before the first night
	Start, End    time.Time // the window
	Final         bool      // the night is over and judged
	Unknown       bool
	UnknownReason string
	Due           int // slots that have begun
	Done          int // on time
	Late          int
	Missed        int
	Flagged       int // scans flagged tonight
	NextNight     time.Time
	Pending       int    // summaries not yet published on MQTT
	StateError    string // the state file could not be read at start
	Checkpoints   []CheckpointStatus
}

// CheckpointStatus is one checkpoint tonight.
type CheckpointStatus struct {
	ID, Zone, ZoneKind      string
	Interval                time.Duration
	Due, Done, Late, Missed int
	// NextDue is when the next scan is due: the end of the open slot not yet
	// scanned, else the end of the next slot; zero when none is left tonight.
	NextDue    time.Time
	LastScan   time.Time
	LastReason string // why the last scan was flagged; "" if it was not
}

// Snapshot returns tonight's state at now. Safe for concurrent use.
func (c *Check) Snapshot(now time.Time) Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := Status{NextNight: c.sched.nextStart(now), Pending: len(c.st.Pending)}
	if c.loadErr != nil {
		st.StateError = c.loadErr.Error()
	}
	n := c.st.Night
	if n == nil {
		return st
	}
	st.Night, st.Start, st.End, st.Final, st.Unknown, st.UnknownReason, st.Flagged =
		n.Date, n.Start, n.End, n.Final, n.Unknown, n.UnknownReason, n.Flagged
	for _, cp := range c.cps {
		cs := CheckpointStatus{ID: cp.id, Zone: cp.zone, ZoneKind: cp.kind, Interval: cp.every}
		for _, sl := range n.Slots[cp.id] {
			if sl.Start.After(now) {
				if cs.NextDue.IsZero() {
					cs.NextDue = sl.End
				}
				continue
			}
			cs.Due++
			switch sl.Status {
			case statusOnTime:
				cs.Done++
			case statusLate:
				cs.Late++
			case statusMissed:
				cs.Missed++
			case statusOpen:
				if cs.NextDue.IsZero() {
					cs.NextDue = sl.End
				}
			}
		}
		if r, ok := c.st.Last[cp.id]; ok {
			cs.LastScan, cs.LastReason = r.At, r.Reason
		}
		st.Due += cs.Due
		st.Done += cs.Done
		st.Late += cs.Late
		st.Missed += cs.Missed
		st.Checkpoints = append(st.Checkpoints, cs)
	}
	return st
}

// rememberHistory keeps the outcome of every slot of a judged night, and forgets
// those older than historyDays.
func (c *Check) rememberHistory(n *night, now time.Time) {
	for _, sl := range n.Slots {
		for _, s := range sl {
			c.st.History = append(c.st.History, slotOutcome{End: s.End, OnTime: s.Status == statusOnTime && !n.Unknown})
		}
	}
	horizon := now.AddDate(0, 0, -historyDays)
	c.st.History = slices.DeleteFunc(c.st.History, func(o slotOutcome) bool { return o.End.Before(horizon) })
}

// Compliance is the share of the slots that ended in [from, to) and were checked on
// time, for the safety score. Judged slots count (on time, late, missed, and every
// slot of a night that is unknown — clock unsynchronised, or the gateway not
// watching — as not on time); a slot still open does not count yet. A period in
// which no slot ended is (1, true). Periods older than the kept history (8 days)
// have no slots and so answer (1, true) only if asked: the score asks for the
// last day and the rolling 24 hours. Safe for concurrent use.
func (c *Check) Compliance(from, to time.Time) (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	due, on := 0, 0
	count := func(end time.Time, onTime bool) {
		if !end.Before(from) && end.Before(to) {
			due++
			if onTime {
				on++
			}
		}
	}
	for _, o := range c.st.History {
		count(o.End, o.OnTime)
	}
	if n := c.st.Night; n != nil && !n.Final {
		for _, sl := range n.Slots {
			for _, s := range sl {
				if s.Status != statusOpen {
					count(s.End, s.Status == statusOnTime && !n.Unknown)
				}
			}
		}
	}
	if due == 0 {
		return 1, true
	}
	return float64(on) / float64(due), true
}
