package score

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/statefile"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Coverage is the camera check as the score sees it.
type Coverage interface {
	// CoverageRatio returns the time-weighted share of the required zones covered
	// by healthy cameras in [from, to), 0–1. known is false when the camera check
	// has no data for the period (not running, every camera silent): it counts as 0.
	// Called from Tick, at most a few times a minute; must be safe for concurrent use.
	CoverageRatio(from, to time.Time) (ratio float64, known bool)
}

// Rounds is the night-round check as the score sees it.
type Rounds interface {
	// Compliance returns the share of the round slots due in [from, to) that were
	// checked on time, 0–1. known is false when slots were due but the check cannot
	// judge them (its clock was not synchronised): it counts as 0. A period in which
	// no slot was due returns (1, true).
	Compliance(from, to time.Time) (ratio float64, known bool)
}

// Response is the alerting as the score sees it.
type Response interface {
	// ResponseScore returns, over the critical alerts raised in [from, to), the
	// share acknowledged within 15 minutes of being raised; an alert not (yet)
	// acknowledged counts as 0. A period with no critical alert returns (1, true).
	// known is false when alerting cannot tell (its state was lost).
	ResponseScore(from, to time.Time) (ratio float64, known bool)
}

// Plausibility is the implausible-sensor check as the score sees it.
type Plausibility interface {
	// Implausible reports whether the sensor was held implausible at any time in
	// [from, to): its readings there do not count as in band.
	Implausible(sensor string, from, to time.Time) bool
}

// Events lists the serious conditions that other checks hold.
type Events interface {
	// Serious returns the conditions that were open at any time in [from, to),
	// resolved or not. Only kinds in [EventCaps] matter; the rest are ignored.
	Serious(from, to time.Time) []telemetry.Condition
}

// EventCap says which cap a condition kind from [Events] triggers and how long the
// condition must have been open for it.
type EventCap struct {
	Cap string
	Min time.Duration
}

// EventCaps maps the condition kinds that [Events] may report to caps.
var EventCaps = map[string]EventCap{
	"scald":             {Cap: CapScald},
	"med_fridge_freeze": {Cap: CapFreeze},
	"room_below_16":     {Cap: CapRoomCold},
	"camera_down":       {Cap: CapCameraDown, Min: 24 * time.Hour},
	"gateway_silent":    {Cap: CapGatewaySilent, Min: 24 * time.Hour},
}

// Publisher publishes on the gateway's MQTT connection.
type Publisher interface {
	Publish(ctx context.Context, topic string, retained bool, payload []byte) error
}

// Options configure a Check.
type Options struct {
	Centre   string         // the centre id, for the MQTT topic
	Location *time.Location // the centre's time zone; required
	Sensors  []Sensor
	// Weights and WeightsVersion; zero Weights mean DefaultWeights (and version).
	Weights        Weights
	WeightsVersion string
	// NoCaps turns the caps off (they are then neither applied nor listed).
	NoCaps bool
	// CloseAfter is how long after a local day ends its day point is first written,
	// to fold in late data (default 1h). Later data still corrects it.
	CloseAfter time.Duration
	// KeepDays is how many closed days are kept for late data (default 7).
	KeepDays int
	// StateFile keeps the day accumulators across restarts; "" keeps them in memory.
	StateFile string
	// SaveEvery is how often the state file is written (default 5m) besides at
	// shutdown.
	SaveEvery time.Duration

	// The other checks; nil when the centre has nothing configured for them (the
	// component is then not applicable).
	Coverage Coverage
	Rounds   Rounds
	Response Response
	Events   Events
	// Plausibility, when set, keeps an implausible sensor's time out of band.
	Plausibility Plausibility

	Publisher Publisher // nil: the live score is not published on MQTT
	Logger    *slog.Logger
}

// Check computes the safety score; see the package documentation. It is safe for
// concurrent use.
type Check struct {
	opt   Options
	log   *slog.Logger
	topic string
	pubc  chan []byte

	mu         sync.Mutex
	ledger     *ledger
	lastMinute time.Time
	lastSave   time.Time
	synced     bool
	ticked     bool
	live       *Result
	liveAt     time.Time
	today      *Result
	days       []DayScore // the latest day points, oldest first (at most KeepDays+1)
	stateErr   error
	ignored    uint64 // readings older than the kept days
	saveMu     sync.Mutex
}

// DayScore is a day's score as last written.
type DayScore struct {
	Date   string // 2006-01-02, local
	Result Result
}

// New builds the check and loads its state file. A missing state file starts
// empty; a corrupt one is moved aside (to StateFile+".corrupt-<UTC time>"); an
// unreadable or corrupt one is logged, reported by Snapshot, and the check starts
// empty.
func New(opt Options) (*Check, error) {
	if opt.Location == nil {
		return nil, errors.New("score: no time zone")
	}
	if opt.Weights == (Weights{}) {
		opt.Weights = DefaultWeights
		if opt.WeightsVersion == "" {
			opt.WeightsVersion = DefaultWeightsVersion
		}
	}
	if opt.WeightsVersion == "" {
		return nil, errors.New("score: weights without a weights_version")
	}
	if opt.CloseAfter <= 0 {
		opt.CloseAfter = time.Hour
	}
	if opt.KeepDays <= 0 {
		opt.KeepDays = 7
	}
	if opt.SaveEvery <= 0 {
		opt.SaveEvery = 5 * time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Check{opt: opt, log: opt.Logger, topic: "saqshy/" + opt.Centre + "/score", pubc: make(chan []byte, 1)}
	c.ledger = newLedger(opt.Location, opt.Sensors)
	if opt.Plausibility != nil {
		c.ledger.implausible = opt.Plausibility.Implausible
	}
	if opt.StateFile != "" {
		if err := c.load(); err != nil { // a file moved aside is logged by statefile
			c.stateErr = err
			if !errors.Is(err, statefile.ErrCorrupt) {
				c.log.Error("score state unreadable; starting empty", "err", err)
			}
		}
	}
	return c, nil
}

// Name implements the gateway's check.
func (c *Check) Name() string { return "score" }

// Topics implements the gateway's check: the score reads no MQTT topic.
func (c *Check) Topics() []string { return nil }

// Message implements the gateway's check; it is never called (no topics).
func (c *Check) Message(telemetry.Message, bool) ([]telemetry.Event, error) { return nil, nil }

// Observe folds durable sensor events into their days, by each event's own time.
// Events for a day already written mark it for a corrected day point.
func (c *Check) Observe(evs []telemetry.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var floor time.Time
	if c.ticked {
		floor, _, _ = c.ledger.bounds(c.lastMinute.AddDate(0, 0, -c.opt.KeepDays))
	}
	for i := range evs {
		e := &evs[i]
		if c.ticked && e.Time.Before(floor) {
			if counts(e) {
				c.ignored++
			}
			continue
		}
		c.ledger.observe(e)
	}
}

// Tick implements the gateway's check. Once a minute, with a synchronised clock, it
// writes the live point, the day points of days that ended at least CloseAfter ago
// and have not been written (or changed since), and publishes the live score. With
// an unsynchronised clock it does nothing: that time counts as unknown, and the days
// it spanned get an (unknown) day point once the clock is synchronised again. A day
// point is saved as written only once Committed reports it durable.
func (c *Check) Tick(now time.Time, synced bool) []telemetry.Event {
	c.mu.Lock()
	c.synced = synced
	if !synced {
		c.mu.Unlock()
		return nil
	}
	c.ledger.install(now)
	c.ledger.markAlive(now)
	m := now.Truncate(time.Minute)
	if c.ticked && !m.After(c.lastMinute) {
		c.mu.Unlock()
		return nil
	}
	first, prev := !c.ticked, c.lastMinute
	c.ticked, c.lastMinute = true, m
	out := c.minute(now, m, prev, first)
	var state []byte
	if c.opt.StateFile != "" && now.Sub(c.lastSave) >= c.opt.SaveEvery {
		c.lastSave = now
		state = c.marshal()
	}
	payload := c.livePayload()
	c.mu.Unlock()

	if state != nil {
		if err := c.writeState(state); err != nil {
			c.log.Error("saving score state", "err", err)
		}
	}
	if c.opt.Publisher != nil && payload != nil {
		select { // keep only the newest
		case <-c.pubc:
		default:
		}
		c.pubc <- payload
	}
	return out
}

// minute does the work of one minute; c.mu is held. prev is the previous minute
// ticked with a synchronised clock (unless first).
func (c *Check) minute(now, m, prev time.Time, first bool) []telemetry.Event {
	l := c.ledger
	today := l.day(now)
	// Days the gateway missed, while it was off or while its clock was not
	// synchronised, get a day point too (unknown): create every day from the
	// previous minute's (or, at the first minute, the oldest held) up to today.
	from, fill := prev, !first
	if first && len(l.days) > 1 {
		from, fill = l.sorted()[0].start, true
	}
	if fill {
		if h := now.AddDate(0, 0, -c.opt.KeepDays); from.Before(h) {
			from = h
		}
		for d := l.day(from); d != today && d.start.Before(today.start); d = l.day(d.end) {
		}
	}
	var out []telemetry.Event
	for _, d := range l.sorted() {
		if d == today || now.Before(d.end.Add(c.opt.CloseAfter)) || d.final && !d.dirty {
			continue
		}
		r := c.compute(d.start, d.end, now)
		out = append(out, r.Point(d.start, "day", c.opt.WeightsVersion))
		if d.final {
			c.log.Info("day score corrected by late data", "date", d.date, "total", r.Total)
		}
		d.final, d.dirty, d.uncommitted = true, false, true
		c.recordDay(d.date, r)
	}
	live := c.compute(now.Add(-24*time.Hour), now, now)
	c.live, c.liveAt = &live, m
	out = append(out, live.Point(m, "live", c.opt.WeightsVersion))
	td := c.compute(today.start, today.end, now)
	c.today = &td
	// Forget days past the late-data horizon once written.
	horizon := now.AddDate(0, 0, -c.opt.KeepDays-1)
	for k, d := range l.days {
		if d.end.Before(horizon) && d.final && !d.dirty && !d.uncommitted {
			delete(l.days, k)
		}
	}
	return out
}

// Committed implements the gateway's committer: the points returned by Tick so far
// are durable, so the days whose day points they held are saved as written.
func (c *Check) Committed() {
	c.mu.Lock()
	changed := false
	for _, d := range c.ledger.days {
		if d.uncommitted {
			d.uncommitted, changed = false, true
		}
	}
	var state []byte
	if changed && c.opt.StateFile != "" {
		state = c.marshal()
	}
	c.mu.Unlock()
	if state != nil {
		if err := c.writeState(state); err != nil {
			c.log.Error("saving score state", "err", err)
		}
	}
}

// compute scores [from, to) as known at now: the other checks' parts, then the
// same computation as [ComputeDay].
func (c *Check) compute(from, to, now time.Time) Result {
	end := minTime(to, now)
	var o Others
	ask := func(f func(from, to time.Time) (float64, bool)) Part {
		r, known := f(from, end)
		return Part{Applicable: true, Known: known, Ratio: r}
	}
	if c.opt.Coverage != nil {
		o.Coverage = ask(c.opt.Coverage.CoverageRatio)
	}
	if c.opt.Rounds != nil {
		o.Rounds = ask(c.opt.Rounds.Compliance)
	}
	if c.opt.Response != nil {
		o.Response = ask(c.opt.Response.ResponseScore)
	}
	if c.opt.Events != nil {
		o.Serious = c.opt.Events.Serious(from, end)
	}
	return c.settings().period(c.ledger, from, to, now, o)
}

// settings are the check's score settings.
func (c *Check) settings() Settings {
	return Settings{Location: c.opt.Location, Sensors: c.opt.Sensors, Weights: c.opt.Weights,
		WeightsVersion: c.opt.WeightsVersion, NoCaps: c.opt.NoCaps}
}

func (c *Check) recordDay(date string, r Result) {
	for i := range c.days {
		if c.days[i].Date == date {
			c.days[i].Result = r
			return
		}
	}
	c.days = append(c.days, DayScore{Date: date, Result: r})
	if n := c.opt.KeepDays + 1; len(c.days) > n {
		c.days = c.days[len(c.days)-n:]
	}
}

// liveJSON is the retained MQTT message on saqshy/<centre>/score.
type liveJSON struct {
	Centre         string             `json:"centre"`
	Time           time.Time          `json:"time"`
	Period         string             `json:"period"`
	Total          float64            `json:"total"`
	Components     map[string]float64 `json:"components"`
	Unknown        []string           `json:"unknown,omitempty"`
	Caps           []string           `json:"caps"`
	Capped         bool               `json:"capped"`
	WeightsVersion string             `json:"weights_version"`
}

func (c *Check) livePayload() []byte {
	if c.live == nil {
		return nil
	}
	j := liveJSON{Centre: c.opt.Centre, Time: c.liveAt.UTC(), Period: "live", Total: c.live.Total,
		Components: map[string]float64{}, Caps: c.live.Caps, Capped: c.live.Capped(), WeightsVersion: c.opt.WeightsVersion}
	if j.Caps == nil {
		j.Caps = []string{}
	}
	for i, p := range c.live.Parts {
		if !p.Applicable {
			continue
		}
		j.Components[Component(i).String()] = p.Ratio
		if !p.Known {
			j.Unknown = append(j.Unknown, Component(i).String())
		}
	}
	b, _ := json.Marshal(j) // plain types: cannot fail
	return b
}

// Run publishes the live score (retained) as Tick computes it, and saves the state
// at shutdown. It returns nil when ctx is cancelled.
func (c *Check) Run(ctx context.Context) error {
	defer func() {
		if err := c.Save(); err != nil {
			c.log.Error("saving score state at shutdown", "err", err)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case p := <-c.pubc:
			if c.opt.Publisher == nil {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.opt.Publisher.Publish(pctx, c.topic, true, p)
			cancel()
			if err != nil && ctx.Err() == nil {
				c.log.Warn("publishing the live score", "err", err, "topic", c.topic)
			}
		}
	}
}

// Snapshot is the check's state for the status page.
type Snapshot struct {
	ClockSynced    bool
	WeightsVersion string
	Live           *Result   // the rolling 24 h, nil before the first minute
	LiveAt         time.Time // when Live was computed
	Today          *Result   // today so far (slots after now are not counted)
	Days           []DayScore
	StateError     string // why the state file could not be used at start, "" when fine
	Ignored        uint64 // readings older than the kept days (too late to count)
}

// Snapshot returns a copy of the check's state.
func (c *Check) Snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Snapshot{ClockSynced: c.synced, WeightsVersion: c.opt.WeightsVersion, LiveAt: c.liveAt, Ignored: c.ignored}
	if c.live != nil {
		r := *c.live
		s.Live = &r
	}
	if c.today != nil {
		r := *c.today
		s.Today = &r
	}
	s.Days = append(s.Days, c.days...)
	if c.stateErr != nil {
		s.StateError = c.stateErr.Error()
	}
	return s
}
