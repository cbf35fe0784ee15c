package rounds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Publisher publishes on the gateway's MQTT connection; it fails while the gateway
// is not connected.
type Publisher interface {
	Publish(ctx context.Context, topic string, retained bool, payload []byte) error
}

// Condition kinds the check raises.
const (
	// KindMissed is raised (subject: the checkpoint id) as soon as a slot ends
	// without a scan and its grace has passed; warning, critical after
	// CriticalAfter missed slots in a row. Cleared by the checkpoint's next on-time
	// scan (or a delayed scan that fills the missed slot) or at the window's end.
	KindMissed = "round_missed"
	// KindStateLost is raised (subject "rounds") when the state file could not be
	// read back; tonight is then not judged. Cleared when that night ends.
	KindStateLost = "round_state_lost"
)

// Flag reasons: a scan that cannot be real is written with flagged=true and one of
// these in its reason tag, and is never counted.
const (
	ReasonUnsynced   = "clock_unsynced" // the gateway's clock is not synchronised
	ReasonDeviceTime = "device_time"    // the scan's own time is far from the gateway's
	ReasonOutside    = "outside_window" // no slot of the checkpoint is open
	ReasonWrongTag   = "wrong_tag"      // another checkpoint's tag read here
	ReasonWrongRdr   = "wrong_reader"   // another checkpoint's fixed reader reports here
	ReasonDuplicate  = "duplicate"      // the same checkpoint again within the duplicate window
	ReasonTwoPlaces  = "two_places"     // one person at two readers within seconds
	ReasonBurst      = "burst"          // many checkpoints by one reader within seconds
	ReasonTooFast    = "too_fast"       // faster than walking between the checkpoints allows
	// ReasonUnknownBadge: under a registry (Options.Registered), a badge or staff
	// card the ministry did not issue.
	ReasonUnknownBadge = "unknown_badge"
)

// maxTickGap: a night is judged only if this gateway ticked, synchronised, before
// the window began and no longer than this before judging began.
const maxTickGap = 10 * time.Minute

// twoPlaces: one person at two different readers within this is "two places at once".
const twoPlaces = 5 * time.Second

// Options configure a Check.
type Options struct {
	Config *config.Config // validated, with defaults applied
	// StateFile is where the state is kept across restarts ("" keeps it in memory only).
	StateFile  string
	Conditions telemetry.Conditions // required
	Publisher  Publisher            // nil: summaries stay pending
	// Now dates a scan's arrival; nil uses the message's Received time. Tests that
	// compress time pass their clock.
	Now    func() time.Time
	Logger *slog.Logger
	// Registered: the centre runs under a ministry registry entry, and
	// Config.Rounds.Badges are the badges the ministry issued (registry.Apply
	// puts them there). A scan naming any other badge or staff card is kept,
	// flagged unknown_badge and never counted; and the burst and walking-speed
	// rules apply to the whole centre's scans, not per walker, so made-up
	// badges cannot make six scans in a second six plausible rounds.
	Registered bool
}

type checkpoint struct {
	id, zone, kind string
	every          time.Duration
	tag, reader    string
}

// Check judges night rounds: it implements the gateway's check interface (Name,
// Topics, Message, Observe, Tick), runs the summary publisher (Run), and answers
// Snapshot for the status page. Safe for concurrent use.
type Check struct {
	cfg    config.Rounds
	centre string
	sched  schedule
	opt    Options
	log    *slog.Logger

	cps      []*checkpoint
	byID     map[string]*checkpoint
	byTopic  map[string]*checkpoint // button or fixed reader topic
	bySource map[string]string      // those topics' source
	shared   map[string]string      // shared reader topic -> reader id
	byTag    map[string]*checkpoint
	byReader map[string]*checkpoint
	badgeID  map[string]config.Badge
	badgeUID map[string]config.Badge
	dist     map[[2]string]float64
	lookback time.Duration
	topics   []string

	wake chan struct{} // a summary is pending

	mu      sync.Mutex
	st      *state
	upSince time.Time // first synced tick of this process
	loadErr error
	saveErr error
	// commitPending: a Tick judged a night; its state is saved once the gateway
	// says the points are durable (Committed).
	commitPending bool
	lastSync      time.Time // the previous synced tick of this process
}

// New builds the check from the config and reads its state file; it fails only on
// a config it cannot use. A state file that cannot be read back (truncated by a
// power cut, corrupt, unreadable) is not an error here: it is logged, moved aside to
// <file>.corrupt-<UTC time> (when corrupt), reported by [Check.LoadError] and by a
// round_state_lost condition, and the night in progress is then marked unknown (not
// judged) rather than judged from half the scans.
func New(opt Options) (*Check, error) {
	cfg := opt.Config
	if cfg == nil || opt.Conditions == nil {
		return nil, errors.New("rounds: config and conditions are required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	r := cfg.Rounds
	start, end, err := r.WindowBounds()
	if err != nil {
		return nil, fmt.Errorf("rounds: %w", err)
	}
	loc := cfg.Centre.Location
	if loc == nil {
		if loc, err = time.LoadLocation(cfg.Centre.Timezone); err != nil {
			return nil, fmt.Errorf("rounds: %w", err)
		}
	}
	sched, err := newSchedule(loc, start, end, r.Grace.Std())
	if err != nil {
		return nil, err
	}
	c := &Check{
		cfg: r, centre: cfg.Centre.ID, sched: sched, opt: opt, log: opt.Logger,
		byID: map[string]*checkpoint{}, byTopic: map[string]*checkpoint{}, bySource: map[string]string{},
		shared: map[string]string{}, byTag: map[string]*checkpoint{}, byReader: map[string]*checkpoint{},
		badgeID: map[string]config.Badge{}, badgeUID: map[string]config.Badge{}, dist: map[[2]string]float64{},
		wake: make(chan struct{}, 1),
	}
	kinds := cfg.KindByZone()
	c.topics = []string{"saqshy/" + c.centre + "/round/+/scan"}
	for _, cc := range r.Checkpoints {
		cp := &checkpoint{id: cc.ID, zone: cc.Zone, kind: kinds[cc.Zone], reader: cc.Reader}
		cp.every = r.IntervalFor(cp.zone, cp.kind)
		if cc.Tag != "" {
			cp.tag = config.NormalizeUID(cc.Tag)
			c.byTag[cp.tag] = cp
		}
		if cc.Reader != "" {
			c.byReader[cc.Reader] = cp
		}
		if cc.Topic != "" && (cc.Source == config.RoundZigbee2MQTT || cc.Source == config.RoundTasmota) {
			c.byTopic[cc.Topic] = cp
			c.bySource[cc.Topic] = cc.Source
			c.topics = append(c.topics, cc.Topic)
		}
		c.cps = append(c.cps, cp)
		c.byID[cp.id] = cp
	}
	for _, rd := range r.Readers {
		c.shared[rd.Topic] = rd.ID
		c.topics = append(c.topics, rd.Topic)
	}
	for _, b := range r.Badges {
		c.badgeID[b.ID] = b
		if b.UID != "" {
			c.badgeUID[config.NormalizeUID(b.UID)] = b
		}
	}
	maxWalk := r.MinWalk.Std()
	for _, d := range r.Distances {
		c.dist[pair(d.From, d.To)] = d.Metres
		maxWalk = max(maxWalk, time.Duration(d.Metres*float64(r.Pace.Std())))
	}
	c.lookback = max(maxWalk, r.BurstWindow.Std(), r.DuplicateWindow.Std(), twoPlaces)
	st, err := loadStateFile(file(opt.StateFile, c.log)) // logs a file moved aside
	if err != nil {
		c.loadErr = err
		if !errors.Is(err, errCorrupt) {
			c.log.Error("rounds state unreadable: tonight is not judged", "err", err)
		}
		opt.Conditions.Raise(telemetry.Condition{Kind: KindStateLost, Subject: "rounds", Severity: telemetry.Warning,
			Since: time.Now(), Reason: "the night-round state file was corrupt; tonight's rounds are not judged"})
	}
	c.st = st
	c.reraise()
	if len(st.Pending) > 0 {
		c.wake <- struct{}{}
	}
	return c, nil
}

func pair(a, b string) [2]string { return [2]string{min(a, b), max(a, b)} }

// LoadError returns the error reading the state file at start, or nil.
func (c *Check) LoadError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loadErr
}

// Name implements the check interface.
func (c *Check) Name() string { return "rounds" }

// Topics implements the check interface: the native scan topics and every button's
// and reader's topic (a Tasmota reader's topic may also carry a probe the sensor
// path reads).
func (c *Check) Topics() []string { return slices.Clone(c.topics) }

// Observe implements the check interface; rounds read no sensor events.
func (c *Check) Observe([]telemetry.Event) {}

// resolve decodes a message into a scan at a checkpoint; nil scan, nil error for a
// message that is not a scan (a button's battery report, a probe's reading).
func (c *Check) resolve(m telemetry.Message) (*rawScan, *checkpoint, string, error) {
	if cp, ok := c.byTopic[m.Topic]; ok {
		switch src := c.bySource[m.Topic]; src {
		case config.RoundZigbee2MQTT:
			press, err := decodeButton(m.Topic, m.Payload)
			if err != nil || !press {
				return nil, nil, src, err
			}
			return &rawScan{Checkpoint: cp.id}, cp, src, nil
		default:
			uid, err := decodeTasmota(m.Topic, m.Payload)
			if err != nil || uid == "" {
				return nil, nil, src, err
			}
			return &rawScan{Checkpoint: cp.id, Tag: uid}, cp, src, nil
		}
	}
	if rd, ok := c.shared[m.Topic]; ok {
		uid, err := decodeTasmota(m.Topic, m.Payload)
		if err != nil || uid == "" {
			return nil, nil, srcTasmota, err
		}
		cp, ok := c.byTag[uid]
		if !ok {
			return nil, nil, srcTasmota, derr(srcTasmota, m.Topic, "unknown_tag",
				fmt.Errorf("reader %s read %s, which is no checkpoint's tag", rd, uid))
		}
		return &rawScan{Checkpoint: cp.id, Tag: uid, Reader: rd}, cp, srcTasmota, nil
	}
	id, err := nativeCheckpoint(c.centre, m.Topic)
	if err != nil {
		return nil, nil, srcSaqshy, err
	}
	cp, ok := c.byID[id]
	if !ok {
		return nil, nil, srcSaqshy, derr(srcSaqshy, m.Topic, "unknown_checkpoint",
			fmt.Errorf("checkpoint %q is not in rounds.checkpoints", clip(id)))
	}
	s, err := decodeNative(m.Topic, m.Payload)
	if err != nil {
		return nil, nil, srcSaqshy, err
	}
	s.Checkpoint = cp.id
	return &s, cp, srcSaqshy, nil
}

// Message implements the check interface: a scan becomes a `round` point (flagged
// or not) made durable with the message. The same message delivered again returns
// the same point and is not counted twice.
func (c *Check) Message(m telemetry.Message, synced bool) ([]telemetry.Event, error) {
	s, cp, src, err := c.resolve(m)
	if err != nil || s == nil {
		return nil, err
	}
	if m.Retained {
		// From the broker's retained store: an old scan replayed at subscribe time.
		return nil, &telemetry.RejectError{Source: "rounds-" + src, Topic: m.Topic, Reason: "retained", Err: errors.New("a retained scan is not a scan")}
	}
	arrival := m.Received
	if c.opt.Now != nil {
		arrival = c.opt.Now()
	}
	sum := sha256.Sum256(append([]byte(m.Topic+"\x00"), m.Payload...))
	key := hex.EncodeToString(sum[:12])

	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.st.Seen[key]; ok && (arrival.Before(r.Until) || m.Duplicate) {
		return []telemetry.Event{c.scanPoint(r.Scan)}, nil
	}
	if synced {
		// Marks missed slots and starts the night the scan is in, but never judges
		// a night: the night's points would then go out with this message only, and a
		// redelivered copy returns just its scan point. Tick judges it.
		c.advance(arrival, false)
		if arrival.After(c.lastSync) {
			c.lastSync = arrival
		}
	}
	rec := c.judge(s, cp, src, arrival, synced)
	ttl := c.cfg.DuplicateWindow.Std()
	if !s.TS.IsZero() {
		ttl = 24 * time.Hour // a payload with its own time repeats only as a redelivery
	}
	ttl = max(ttl, time.Minute)
	c.st.Seen[key] = seenRec{Until: arrival.Add(ttl), Scan: rec}
	for k, v := range c.st.Seen {
		if !arrival.Before(v.Until) {
			delete(c.st.Seen, k)
		}
	}
	c.save()
	return []telemetry.Event{c.scanPoint(rec)}, nil
}

// judge dates a scan, flags it if it cannot be real, credits its slot if not, and
// remembers it. Called with c.mu held.
func (c *Check) judge(s *rawScan, cp *checkpoint, src string, arrival time.Time, synced bool) scanRec {
	rec := scanRec{At: arrival, CP: cp.id, Source: src, Tag: s.Tag, Reader: s.Reader}
	// Who scanned: a badge, else a card that is no checkpoint's tag, else a
	// hand-held reader (not one fixed at a checkpoint).
	if b, ok := c.badgeID[s.Badge]; ok && s.Badge != "" {
		rec.Walker, rec.Staff = "badge:"+b.ID, b.ID
	} else if s.Badge != "" {
		rec.Walker = "badge:" + s.Badge
	}
	if rec.Walker == "" && s.Tag != "" {
		if b, ok := c.badgeUID[s.Tag]; ok {
			rec.Walker, rec.Staff = "badge:"+b.ID, b.ID
		} else if _, isCP := c.byTag[s.Tag]; !isCP {
			rec.Walker = "card:" + s.Tag
		}
	}
	if _, fixed := c.byReader[s.Reader]; rec.Walker == "" && s.Reader != "" && !fixed {
		rec.Walker = "reader:" + s.Reader
	}
	switch _, fixed := c.byReader[s.Reader]; {
	case s.Reader != "" && !fixed:
		rec.Group = "reader:" + s.Reader
	case rec.Walker != "":
		rec.Group = rec.Walker
	}

	if !s.TS.IsZero() {
		rec.At = s.TS
	}
	switch {
	case !synced:
		rec.Reason = ReasonUnsynced
	case !s.TS.IsZero() && c.skewed(s.TS, arrival):
		rec.Reason, rec.At = ReasonDeviceTime, arrival
	case c.opt.Registered && rec.Staff == "" && (s.Badge != "" || strings.HasPrefix(rec.Walker, "card:")):
		rec.Reason = ReasonUnknownBadge
	}
	if rec.Reason == "" {
		c.ensureNight(rec.At)
	}
	n := c.st.Night
	var slots []slotRec
	if n != nil && !n.Final {
		slots = n.Slots[cp.id]
	}
	idx, late := -1, false
	if rec.Reason == "" {
		idx, late = findSlot(slots, rec.At, c.cfg.Grace.Std())
		if idx < 0 && !inAny(slots, rec.At, c.cfg.Grace.Std()) {
			rec.Reason = ReasonOutside
		}
	}
	if rec.Reason == "" {
		rec.Reason = c.implausible(&rec, s, cp)
	}
	if n != nil && !n.Final && rec.Reason != "" && n.Start.Before(rec.At.Add(time.Second)) && rec.At.Before(n.End.Add(c.cfg.Grace.Std())) {
		n.Flagged++
	}
	if rec.Reason == "" && idx >= 0 {
		sl := &slots[idx]
		wasMissed := sl.Status == statusMissed
		rec.Counted = true
		sl.ScanAt = rec.At
		if late {
			sl.Status, sl.LateS = statusLate, int64(rec.At.Sub(sl.End)/time.Second)
			rec.LateS = sl.LateS
		} else {
			sl.Status, rec.OnTime = statusOnTime, true
		}
		if rec.OnTime || wasMissed {
			c.clear(cp.id, rec.At)
		}
	} else if rec.Reason == "" {
		// The slot is done already: a plausible extra scan, kept, not counted again.
		rec.OnTime = inSlot(slots, rec.At)
	}
	c.remember(rec)
	if l, ok := c.st.Last[rec.CP]; !ok || !rec.At.Before(l.At) {
		c.st.Last[rec.CP] = rec
	}
	return rec
}

// skewed reports whether a device time is too far from the arrival time. A scan
// older than the skew is still believed when the gateway was not running (or not
// yet synced) at its time: the broker may have kept it while the gateway was down.
func (c *Check) skewed(ts, arrival time.Time) bool {
	d := arrival.Sub(ts)
	lim := c.cfg.MaxSkew.Std()
	if d < -lim {
		return true
	}
	return d > lim && !c.upSince.IsZero() && !ts.Before(c.upSince)
}

// findSlot returns the slot a scan at t credits: the open slot holding t (on
// time), else a slot without a scan whose grace holds t (late). A missed slot is
// still credited by a scan dated within it that arrives late (queued by the broker
// while the gateway was down).
func findSlot(slots []slotRec, t time.Time, grace time.Duration) (int, bool) {
	for i := range slots {
		sl := &slots[i]
		if !done(sl.Status) && !t.Before(sl.Start) && t.Before(sl.End) {
			return i, false
		}
	}
	for i := range slots {
		sl := &slots[i]
		if !done(sl.Status) && !t.Before(sl.End) && t.Before(sl.End.Add(grace)) {
			return i, true
		}
	}
	return -1, false
}

func done(status string) bool {
	return status == statusOnTime || status == statusLate || status == statusUnknown
}

func inSlot(slots []slotRec, t time.Time) bool {
	for _, sl := range slots {
		if !t.Before(sl.Start) && t.Before(sl.End) {
			return true
		}
	}
	return false
}

func inAny(slots []slotRec, t time.Time, grace time.Duration) bool {
	return len(slots) > 0 && !t.Before(slots[0].Start) && t.Before(slots[len(slots)-1].End.Add(grace))
}

// implausible compares a scan with the recent ones and returns why it cannot be
// real, or "". It compares with every recent scan, flagged or not, so adding a scan
// can only add flags to later ones: a flagged scan never raises compliance.
func (c *Check) implausible(rec *scanRec, s *rawScan, cp *checkpoint) string {
	if s.Tag != "" {
		if other, ok := c.byTag[s.Tag]; ok && other != cp {
			return ReasonWrongTag
		}
	}
	if other, ok := c.byReader[s.Reader]; ok && s.Reader != "" && other != cp {
		return ReasonWrongRdr
	}
	dupWin := c.cfg.DuplicateWindow.Std()
	burst := map[string]bool{cp.id: true}
	reason := ""
	rank := func(r string) {
		order := []string{ReasonDuplicate, ReasonTwoPlaces, ReasonBurst, ReasonTooFast}
		if reason == "" || slices.Index(order, r) < slices.Index(order, reason) {
			reason = r
		}
	}
	for _, o := range c.st.Recent {
		d := rec.At.Sub(o.At)
		if d < 0 {
			d = -d
		}
		if o.CP == cp.id {
			if dupWin > 0 && d < dupWin {
				rank(ReasonDuplicate)
			}
			continue
		}
		// Under a registry the walking-speed and burst rules take every scan of
		// the centre together: a badge is no proof of who walked.
		sameWalker := rec.Walker != "" && o.Walker == rec.Walker
		switch {
		case sameWalker && d < twoPlaces && o.Reader != rec.Reader:
			rank(ReasonTwoPlaces)
		case (sameWalker || c.opt.Registered) && d < c.walkTime(o.CP, cp.id):
			rank(ReasonTooFast)
		}
		if c.cfg.BurstCount > 0 && (o.Group == rec.Group || c.opt.Registered) && d < c.cfg.BurstWindow.Std() {
			burst[o.CP] = true
		}
	}
	if c.cfg.BurstCount > 0 && len(burst) >= c.cfg.BurstCount {
		rank(ReasonBurst)
	}
	return reason
}

// walkTime is the least time one person needs between two checkpoints.
func (c *Check) walkTime(a, b string) time.Duration {
	if m, ok := c.dist[pair(a, b)]; ok {
		return time.Duration(m * float64(c.cfg.Pace.Std()))
	}
	return c.cfg.MinWalk.Std()
}

// remember keeps a scan for the plausibility checks, dropping old ones.
func (c *Check) remember(rec scanRec) {
	r := c.st.Recent
	i, _ := slices.BinarySearchFunc(r, rec.At, func(s scanRec, t time.Time) int { return s.At.Compare(t) })
	r = slices.Insert(r, i, rec)
	newest := r[len(r)-1].At
	cut := 0
	for cut < len(r) && newest.Sub(r[cut].At) > c.lookback {
		cut++
	}
	if len(r)-cut > 1000 {
		cut = len(r) - 1000
	}
	c.st.Recent = slices.Delete(r, 0, cut)
}

// ensureNight starts judging the night whose window holds t, if it is not the one
// judged already. A night that began before this gateway judged it is unknown: the
// slots that ended before are not judged and the night counts as not compliant.
func (c *Check) ensureNight(t time.Time) bool {
	date, start, end, ok := c.sched.nightAt(t)
	if !ok {
		return false
	}
	if n := c.st.Night; n != nil && (n.Date == date || !n.Final || !start.After(n.Start)) {
		return false // judged already, or the night before is not finished (Tick finishes it)
	}
	n := &night{Date: date, Start: start, End: end, Slots: map[string][]slotRec{}}
	for _, cp := range c.cps {
		ts := slotTimes(start, end, cp.every)
		sl := make([]slotRec, len(ts))
		for i, s := range ts {
			sl[i] = slotRec{Start: s[0], End: s[1]}
		}
		n.Slots[cp.id] = sl
	}
	switch {
	case c.lastSync.IsZero() || c.lastSync.After(start) || t.Sub(c.lastSync) > maxTickGap:
		n.Unknown, n.UnknownReason = true, "the gateway was not judging rounds when the night began"
		for _, sl := range n.Slots {
			for i := range sl {
				if sl[i].Start.Before(t) { // begun before the gateway was watching
					sl[i].Status = statusUnknown
				}
			}
		}
	}
	c.st.Night = n
	c.log.Info("night rounds begin", "night", date, "start", start, "end", end, "unknown", n.Unknown, "at", t, "previous_tick", c.lastSync)
	return true
}

// Tick implements the check interface: it marks slots missed (raising round_missed
// at once), and at the window's end (plus grace) writes every slot and the night
// summary and queues the summary for MQTT. An unsynchronised clock judges nothing
// and makes the night in progress unknown.
func (c *Check) Tick(now time.Time, synced bool) []telemetry.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !synced {
		changed := !c.st.Unsynced
		c.st.Unsynced = true
		if n := c.st.Night; n != nil && !n.Final && !n.Unknown {
			n.Unknown, n.UnknownReason, changed = true, "clock not synchronised", true
		}
		if changed {
			c.save()
		}
		return nil
	}
	if c.upSince.IsZero() {
		c.upSince = now
	}
	out, changed := c.advance(now, true)
	c.lastSync = now
	switch {
	case len(out) > 0:
		// A judged night: its slot and night points are durable only once the
		// gateway has them in the spool. The state that says "judged" is saved
		// then (Committed), so that a crash in between judges the night again
		// after the restart instead of losing its points.
		c.commitPending = true
	case changed:
		c.save()
	}
	return out
}

// Committed is called by the gateway once the points of the last Tick are durable:
// the state of a night judged by that Tick is saved now.
func (c *Check) Committed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.commitPending {
		c.commitPending = false
		c.save()
	}
}

// advance brings the state to now (synced): finishes the night whose window and
// grace have passed (only if judge: Tick judges, Message does not), starts the night
// now is in, marks missed slots. Called with c.mu held.
func (c *Check) advance(now time.Time, judge bool) (out []telemetry.Event, changed bool) {
	if n := c.st.Night; n != nil && !n.Final {
		changed = c.markMissed(n, now)
		if judge && !now.Before(n.End.Add(c.sched.grace)) {
			out = c.finalize(n, now)
			changed = true
		}
	}
	changed = c.ensureNight(now) || changed
	if c.st.Unsynced {
		if n := c.st.Night; n != nil && !n.Final && !now.Before(n.Start) && !n.Unknown {
			n.Unknown, n.UnknownReason = true, "clock not synchronised"
		}
		c.st.Unsynced, changed = false, true
	}
	if n := c.st.Night; n != nil && !n.Final {
		changed = c.markMissed(n, now) || changed
	}
	return out, changed
}

// markMissed marks the slots whose grace has passed without a scan, raising the
// condition for each.
func (c *Check) markMissed(n *night, now time.Time) bool {
	changed := false
	for _, cp := range c.cps {
		sl := n.Slots[cp.id]
		for i := range sl {
			if sl[i].Status != statusOpen || sl[i].End.Add(c.sched.grace).After(now) {
				continue
			}
			sl[i].Status, changed = statusMissed, true
			c.raiseMissed(cp, sl, i)
		}
	}
	return changed
}

func (c *Check) raiseMissed(cp *checkpoint, sl []slotRec, i int) {
	run, since := 0, sl[i].End
	for j := i; j >= 0 && sl[j].Status == statusMissed; j-- {
		run++
		since = sl[j].End
	}
	sev := telemetry.Warning
	if run >= c.cfg.CriticalAfter {
		// Raised again critical: the registry changes the open condition's severity,
		// and it stays one alert (never resolved at the moment it gets worse).
		sev = telemetry.Critical
	}
	loc := c.sched.loc
	c.raise(telemetry.Condition{
		Kind: KindMissed, Subject: cp.id, Zone: cp.zone, Severity: sev, Since: since,
		Reason: fmt.Sprintf("no scan at %s between %s and %s (%d missed in a row)", cp.id,
			sl[i].Start.In(loc).Format("15:04"), sl[i].End.In(loc).Format("15:04"), run),
	})
}

// reraise opens again, after a restart, the round_missed conditions that were open.
// Those of a checkpoint no longer configured are closed and forgotten: nothing would
// ever clear them (finalize clears only the configured checkpoints).
func (c *Check) reraise() {
	for id, cond := range c.st.Raised {
		if _, ok := c.byID[id]; !ok {
			delete(c.st.Raised, id)
			c.opt.Conditions.Clear(KindMissed, id, time.Now())
			continue
		}
		c.opt.Conditions.Raise(cond)
	}
}

// raise opens a condition and remembers it.
func (c *Check) raise(cond telemetry.Condition) {
	c.st.Raised[cond.Subject] = cond
	c.opt.Conditions.Raise(cond)
}

// clear resolves a checkpoint's round_missed condition.
func (c *Check) clear(cp string, at time.Time) {
	delete(c.st.Raised, cp)
	c.opt.Conditions.Clear(KindMissed, cp, at)
}

// save writes the state file. Not while a judged night's points are not yet durable
// (commitPending): the state would say "judged" and a crash would lose the points;
// Committed saves then. Called with c.mu held.
func (c *Check) save() {
	if c.opt.StateFile == "" || c.commitPending {
		return
	}
	err := saveState(c.opt.StateFile, c.st)
	if err != nil && c.saveErr == nil {
		c.log.Error("saving the night-round state", "err", err)
	}
	c.saveErr = err
}

// SavePast writes the state to the file at path for a gateway that goes on from
// this check's past (a replay's nights): as the state file, but without the night
// summaries not yet published, which are the past's, not news.
func (c *Check) SavePast(path string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := *c.st
	st.Pending = nil
	return saveState(path, &st)
}

// scanPoint is the `round` point of one scan.
func (c *Check) scanPoint(r scanRec) telemetry.Event {
	cp := c.byID[r.CP]
	tags := []telemetry.Tag{{Key: "event", Value: "scan"}, {Key: "checkpoint", Value: r.CP}, {Key: "source", Value: r.Source}}
	if cp != nil {
		tags = append(tags, telemetry.Tag{Key: "zone", Value: cp.zone}, telemetry.Tag{Key: "zone_kind", Value: cp.kind})
	}
	if r.Staff != "" {
		tags = append(tags, telemetry.Tag{Key: "staff", Value: r.Staff})
	}
	if r.Reason != "" {
		tags = append(tags, telemetry.Tag{Key: "reason", Value: r.Reason})
	}
	return telemetry.NewPoint(r.At, "round", tags,
		telemetry.Bool("on_time", r.OnTime), telemetry.Int("late_s", r.LateS),
		telemetry.Bool("flagged", r.Reason != ""), telemetry.Bool("counted", r.Counted),
		telemetry.String("tag", r.Tag))
}
