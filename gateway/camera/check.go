package camera

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Condition kinds the check raises.
const (
	KindCoverageGap   = "coverage_gap"   // subject: zone id
	KindCameraOffline = "camera_offline" // subject: camera id
)

// pointEvery: each camera and the coverage are written at least this often.
const pointEvery = time.Minute

// Check judges the cameras of one centre and accounts the coverage of its zones.
// It implements the gateway's check contract: Message for the cameras' topics, Tick
// every second. Safe for concurrent use.
type Check struct {
	log   *slog.Logger
	conds telemetry.Conditions
	loc   *time.Location
	warn  time.Duration
	crit  time.Duration

	mu       sync.Mutex
	cams     []*cam
	nvrs     []*nvr
	byTopic  map[string][]*cam // generic and saqshy topics
	zones    []*zone           // the required zones, in config order
	kinds    []string          // zone kinds with required zones, sorted
	ring     ring
	dayStart time.Time
	// yesterday is the last closed day, per kind and overall last.
	yesterday      []Span
	yesterdayStart time.Time
	// days are the last closed days' overall totals, oldest first, at most keepDays.
	days         []closedDay
	last         time.Time // accounted up to here
	synced       bool      // the last advance had a synchronised clock
	lastCoverage time.Time // when coverage points were last written
	pending      []telemetry.Event
	restored     *savedState // loaded by LoadState, applied at the first advance
	stateFile    string      // see PersistTo
}

// New builds the check for cfg's cameras and zones. conds receives the conditions;
// log may be nil.
func New(cfg *config.Config, conds telemetry.Conditions, log *slog.Logger) (*Check, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	loc := cfg.Centre.Location
	if loc == nil {
		return nil, fmt.Errorf("camera: centre %q: no time zone", cfg.Centre.ID)
	}
	c := &Check{log: log, conds: conds, loc: loc, warn: cfg.Coverage.WarnAfter.Std(), crit: cfg.Coverage.CriticalAfter.Std(),
		byTopic: map[string][]*cam{}}
	if c.warn <= 0 {
		c.warn = config.DefaultCoverageWarn.Std()
	}
	if c.crit <= 0 {
		c.crit = config.DefaultCoverageCritical.Std()
	}
	zoneIdx := map[string]*zone{}
	for _, z := range cfg.Zones {
		rule, need := cfg.ZoneCoverage(z)
		if rule != config.CoverageRequired {
			continue
		}
		zn := &zone{cfg: z, need: need}
		c.zones = append(c.zones, zn)
		zoneIdx[z.ID] = zn
		if !slices.Contains(c.kinds, z.Kind) {
			c.kinds = append(c.kinds, z.Kind)
		}
	}
	slices.Sort(c.kinds)
	for _, z := range c.zones {
		z.kind, _ = slices.BinarySearch(c.kinds, z.cfg.Kind)
	}
	nvrs := map[string]*nvr{}
	for _, cc := range cfg.Cameras {
		k := &cam{cfg: cc, health: unknownHealth(ReasonNoReport)}
		for _, zid := range cc.Zones {
			if z := zoneIdx[zid]; z != nil && !slices.Contains(z.cams, k) {
				z.cams = append(z.cams, k)
			}
		}
		switch cc.Source {
		case config.CameraFrigate:
			n := nvrs[cc.Topic]
			if n == nil {
				n = &nvr{prefix: cc.Topic, statsEvery: cc.StatsInterval.Std()}
				if n.statsEvery <= 0 {
					n.statsEvery = config.DefaultFrigateStats.Std()
				}
				nvrs[cc.Topic] = n
				c.nvrs = append(c.nvrs, n)
			}
			k.nvr = n
		case config.CameraGeneric, config.CameraSaqshy:
			if cc.Topic == "" {
				return nil, fmt.Errorf("camera %s: no topic (call ApplyDefaults)", cc.ID)
			}
			c.byTopic[cc.Topic] = append(c.byTopic[cc.Topic], k)
		default:
			return nil, fmt.Errorf("camera %s: unknown source %q", cc.ID, cc.Source)
		}
		c.cams = append(c.cams, k)
	}
	return c, nil
}

// Name implements the gateway's check: the label of the cameras' counters.
func (c *Check) Name() string { return "camera" }

// Topics implements the gateway's check: Frigate's topics under each prefix, and
// each generic and saqshy camera's topic.
func (c *Check) Topics() []string {
	var out []string
	for _, n := range c.nvrs {
		p := n.prefix
		out = append(out, p+"/available", p+"/stats", p+"/+/status/+", p+"/+/recordings/state", p+"/+/enabled/state")
	}
	for t := range c.byTopic {
		out = append(out, t)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Observe implements the gateway's check; sensor readings do not concern cameras.
func (c *Check) Observe([]telemetry.Event) {}

// Message implements the gateway's check: it takes one message on a camera topic
// at m.Received and returns the points of the changes it caused. A bad payload is
// rejected with a *telemetry.RejectError and changes nothing; the same message twice changes
// nothing the second time.
func (c *Check) Message(m telemetry.Message, synced bool) ([]telemetry.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	apply, err := c.parse(m)
	if err != nil {
		return nil, err
	}
	if apply == nil {
		return nil, nil
	}
	now := c.advance(m.Received, synced)
	apply(now)
	c.rejudge(now)
	return c.takePending(), nil
}

// parse decodes m and returns the change to apply at the time it is taken; nil
// when the topic concerns no configured camera.
func (c *Check) parse(m telemetry.Message) (func(now time.Time), error) {
	if cams := c.byTopic[m.Topic]; len(cams) > 0 {
		if cams[0].cfg.Source == config.CameraSaqshy {
			r, err := ParseReport(m.Payload)
			if err != nil {
				return nil, err
			}
			return func(now time.Time) {
				for _, k := range cams {
					k.report, k.heard = r, now
				}
			}, nil
		}
		values := make([]string, len(cams))
		for i, k := range cams {
			v, err := genericValue(m.Payload, k.cfg.Field)
			if err != nil {
				return nil, err
			}
			values[i] = v
		}
		return func(now time.Time) {
			for i, k := range cams {
				k.value, k.heard = values[i], now
			}
		}, nil
	}
	for _, n := range c.nvrs {
		kind, name := frigateTopic(n.prefix, m.Topic)
		switch kind {
		case "":
			continue
		case "available":
			w, err := parseWord(m.Payload, "online", "offline", "stopped")
			if err != nil {
				return nil, err
			}
			return func(time.Time) { n.available = w }, nil
		case "stats":
			st, err := parseFrigateStats(m.Payload)
			if err != nil {
				return nil, err
			}
			return func(now time.Time) {
				n.stats, n.lastStats = st, now
				if n.available == "" {
					n.available = "online" // stats prove it runs
				}
			}, nil
		}
		var words []string
		switch kind {
		case "recordings", "enabled":
			words = []string{"on", "off"}
		default:
			words = []string{"online", "offline", "disabled"}
		}
		w, err := parseWord(m.Payload, words...)
		if err != nil {
			return nil, err
		}
		var targets []*cam
		for _, k := range c.cams {
			if k.nvr == n && k.cfg.FrigateName() == name {
				targets = append(targets, k)
			}
		}
		if len(targets) == 0 {
			return nil, nil // a Frigate camera not configured here
		}
		return func(time.Time) {
			for _, k := range targets {
				switch kind {
				case "recordings":
					k.recordings = w
				case "enabled":
					k.enabled = w
				case "status/detect":
					k.statusDetect = w
				case "status/record":
					k.statusRecord = w
				}
			}
		}, nil
	}
	return nil, nil
}

// Tick implements the gateway's check: it advances time to now, raises and clears
// conditions, and returns the points due.
func (c *Check) Tick(now time.Time, synced bool) []telemetry.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	now = c.advance(now, synced)
	c.rejudge(now)
	if c.synced {
		c.holds(now) // not with a clock that may be days off: resync restamps at sync
	}
	for _, k := range c.cams {
		if now.Sub(k.lastPoint) >= pointEvery {
			c.cameraPoint(k, now)
		}
	}
	if c.synced && !c.dayStart.IsZero() && now.Sub(c.lastCoverage) >= pointEvery {
		c.lastCoverage = now
		live := make([]Span, len(c.kinds)+1)
		c.ring.live(now, live)
		c.pending = append(c.pending, c.coveragePoints(now, "live", live)...)
		c.pending = append(c.pending, c.coveragePoints(c.dayStart, "day", c.daySpans())...)
	}
	return c.takePending()
}

func (c *Check) takePending() []telemetry.Event {
	if len(c.pending) == 0 {
		return nil
	}
	out := c.pending
	c.pending = nil
	return out
}

// advance accounts the time from the last advance up to now (never backwards) with
// the states as they were, re-judging the cameras at each moment one of them goes
// stale, and returns the time it advanced to. With the clock unsynchronised nothing
// is accounted. The first synchronised advance of the process counts the day so
// far (or since the state LoadState restored) as unknown: the gateway did not
// watch it.
func (c *Check) advance(now time.Time, synced bool) time.Time {
	if now.Before(c.last) {
		now = c.last
	}
	switch {
	case !synced:
		c.last, c.synced = now, false
		return now
	case c.dayStart.IsZero():
		if !c.restore(now) {
			c.dayStart = midnight(now, c.loc)
			c.integrate(c.dayStart, now, beforeStart)
		}
		if !c.synced {
			c.resync(now)
		}
		c.last, c.synced = now, true
		return now
	case !c.synced || now.Sub(c.last) > maxGap:
		c.integrate(c.last, now, unknown)
		if !c.synced {
			c.resync(now)
		}
		c.last, c.synced = now, true
		c.rejudge(now)
		return now
	}
	for {
		next := time.Time{}
		for _, k := range c.cams {
			if _, exp := k.judge(c.last); !exp.IsZero() && exp.After(c.last) && !exp.After(now) && (next.IsZero() || exp.Before(next)) {
				next = exp
			}
		}
		if next.IsZero() {
			break
		}
		c.integrate(c.last, next, observed)
		c.last = next
		c.rejudge(next)
	}
	c.integrate(c.last, now, observed)
	c.last = now
	return now
}

// resync restamps at now, the first synchronised time, what was stamped with the
// unsynchronised clock before it: the gap starts of the zones and the down times
// of the cameras still not covering. The stale clock can be days behind (a power
// cut without an RTC), which would date them days ago and raise them as critical
// at the first synchronised tick.
func (c *Check) resync(now time.Time) {
	for _, z := range c.zones {
		if z.stale && !z.since.IsZero() {
			z.since = now
		}
		z.stale = false
	}
	for _, k := range c.cams {
		if k.offStale && !k.offSince.IsZero() {
			k.offSince = now
		}
		if k.sinceStale && !k.since.IsZero() {
			k.since = now
		}
		k.offStale, k.sinceStale = false, false
	}
}

// rejudge judges every camera at now, writes a point for each that changed, and
// updates the zones' coverage, clearing the gaps that closed.
func (c *Check) rejudge(now time.Time) {
	for _, k := range c.cams {
		h, _ := k.judge(now)
		if h.same(k.health) {
			k.health.FPS = h.FPS
			continue
		}
		if h.State != k.health.State {
			k.since, k.sinceStale = now, !c.synced
		}
		was := k.health.Covers
		k.health = h
		c.cameraPoint(k, now)
		if h.Covers && !was {
			k.offSince, k.offStale = time.Time{}, false
			if k.offSev != 0 {
				c.conds.Clear(KindCameraOffline, k.cfg.ID, now)
				k.offSev = 0
			}
		}
	}
	for _, k := range c.cams {
		if !k.health.Covers && k.offSince.IsZero() {
			k.offSince, k.offStale = now, !c.synced
		}
	}
	for _, z := range c.zones {
		n := 0
		for _, k := range z.cams {
			if k.health.Covers {
				n++
			}
		}
		z.covering = n
		covered := n >= z.need
		switch {
		case covered && !z.covered:
			z.covered, z.since, z.stale = true, time.Time{}, false
			if z.sev != 0 {
				c.conds.Clear(KindCoverageGap, z.cfg.ID, now)
				z.sev = 0
			}
		case !covered && (z.covered || z.since.IsZero()):
			z.covered, z.since, z.stale = false, now, !c.synced
		}
	}
}

// SetSight tells the check whether camera id's own stills show it sees its zones
// (package camera/still); why is the verdict's state ("dark", "covered", "frozen",
// "turned_away") when it does not. A camera that does not see does not cover its
// zones, whatever its source says, until a still shows it sees again; its
// `camera` point says reason view_<why>. The check raises no camera_offline for
// it: the watcher raises camera_tampered. It returns the points of the change.
func (c *Check) SetSight(id string, sees bool, why string, now time.Time, synced bool) ([]telemetry.Event, error) {
	if !sees && why == "" {
		return nil, fmt.Errorf("camera %s: a camera that does not see needs a reason", id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var k *cam
	for _, x := range c.cams {
		if x.cfg.ID == id {
			k = x
		}
	}
	if k == nil {
		return nil, fmt.Errorf("camera %q is not configured", id)
	}
	now = c.advance(now, synced)
	if sees {
		why = ""
	}
	k.blind = why
	c.rejudge(now)
	return c.takePending(), nil
}

// holds raises the conditions whose hold has passed.
func (c *Check) holds(now time.Time) {
	sev := func(since time.Time, cur telemetry.Severity) telemetry.Severity {
		switch d := now.Sub(since); {
		case since.IsZero():
			return 0
		case d >= c.crit && cur < telemetry.Critical:
			return telemetry.Critical
		case d >= c.warn && cur < telemetry.Warning:
			return telemetry.Warning
		}
		return 0
	}
	for _, z := range c.zones {
		if z.covered {
			continue
		}
		if s := sev(z.since, z.sev); s != 0 {
			z.sev = s
			c.conds.Raise(telemetry.Condition{Kind: KindCoverageGap, Subject: z.cfg.ID, Zone: z.cfg.ID, Severity: s,
				Since: z.since, Reason: c.gapReason(z)})
		}
	}
	for _, k := range c.cams {
		if k.health.Covers || strings.HasPrefix(k.health.Reason, ReasonViewPrefix) {
			continue // a camera that works but does not see: camera_tampered, raised by its watcher
		}
		since := k.offSince
		if s := sev(since, telemetry.Severity(k.offSev)); s != 0 {
			k.offSev = uint8(s)
			zone := ""
			if len(k.cfg.Zones) > 0 {
				zone = k.cfg.Zones[0]
			}
			c.conds.Raise(telemetry.Condition{Kind: KindCameraOffline, Subject: k.cfg.ID, Zone: zone, Severity: s,
				Since: since, Reason: fmt.Sprintf("camera %s %s", k.health.State, k.health.Reason)})
		}
	}
}

// gapReason says why zone z is uncovered, for people.
func (c *Check) gapReason(z *zone) string {
	if len(z.cams) == 0 {
		return fmt.Sprintf("zone %s (%s) has no camera", z.cfg.ID, z.cfg.Kind)
	}
	var parts []string
	for _, k := range z.cams {
		if !k.health.Covers {
			parts = append(parts, fmt.Sprintf("%s %s %s", k.cfg.ID, k.health.State, k.health.Reason))
		}
	}
	return fmt.Sprintf("zone %s (%s): %d of %d cameras needed cover it; %s", z.cfg.ID, z.cfg.Kind, z.covering, z.need, strings.Join(parts, "; "))
}

// cameraPoint queues camera k's `camera` point at t.
func (c *Check) cameraPoint(k *cam, t time.Time) {
	k.lastPoint = t
	h := k.health
	fields := []telemetry.Field{
		telemetry.Bool("online", h.State == Healthy || h.State == Degraded),
		telemetry.Bool("covers", h.Covers),
		telemetry.String("state", h.State.String()),
		telemetry.String("reason", h.Reason),
	}
	if !math.IsNaN(h.FPS) {
		fields = append(fields, telemetry.Float("fps", h.FPS))
	}
	if h.Recording >= 0 {
		fields = append(fields, telemetry.Bool("recording", h.Recording == 1))
	}
	c.pending = append(c.pending, telemetry.NewPoint(t, "camera",
		[]telemetry.Tag{{Key: "camera", Value: k.cfg.ID}, {Key: "state", Value: h.State.String()}}, fields...))
}
