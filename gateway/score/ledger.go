package score

import (
	"math/bits"
	"slices"
	"sort"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
	"github.com/saqshy/saqshy/gateway/zonekind"
)

// Sensor is a configured sensor as the score sees it.
type Sensor struct {
	ID       string
	Zone     string
	ZoneKind string
	// Limits are the zone's own alert limits (config alerts.limits; nil for none):
	// they move the zone's band here as they move its alerts (see [SensorBand]).
	Limits []zonekind.Limit
	// Interval is how often the sensor is expected to report: the length of its
	// slots. A sensor with no interval is not scored.
	Interval time.Duration
}

// bitset is a fixed-size set of small integers.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) set(i int)      { b[i/64] |= 1 << (uint(i) % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(uint(i)%64)) != 0 }
func (b bitset) count() (n int) {
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// sensorDay is one sensor's slots in one day: slot i covers
// [day start + i×interval, day start + (i+1)×interval), the last one cut at the
// day's end.
type sensorDay struct {
	interval time.Duration
	slots    int
	// reads are the offsets from the day's start (ms) of the climate readings, in
	// order, each once: what availability and silences are measured from (see
	// [ledger.heldSpans]).
	reads   []int32
	serious bitset // a temperature reading was serious (Band.Serious)
	// temps are the temperature readings of a scored sensor, by time; at equal
	// times in-band readings come first, so that the worst one is held.
	temps []temp
}

// temp is one temperature reading of a day in 4 bytes (a day holds thousands): its
// offset from the day's start in milliseconds, shifted left by one, with the low bit
// set when it was outside the zone's band. Readings sort by their value: by time,
// and at equal times in-band first.
type temp uint32

func newTemp(off int32, in bool) temp {
	t := temp(uint32(off) << 1)
	if !in {
		t |= 1
	}
	return t
}

func (t temp) off() int32 { return int32(t >> 1) }
func (t temp) in() bool   { return t&1 == 0 }

// addTemp inserts t in order; an identical reading (a redelivery) is kept once.
func (sd *sensorDay) addTemp(t temp) {
	i := len(sd.temps)
	for i > 0 && t < sd.temps[i-1] {
		i--
	}
	if i > 0 && sd.temps[i-1] == t {
		return
	}
	sd.temps = slices.Insert(sd.temps, i, t)
}

func newSensorDay(iv time.Duration, dayLen time.Duration) *sensorDay {
	n := slotCount(dayLen, iv)
	return &sensorDay{interval: iv, slots: n, serious: newBitset(n)}
}

func slotCount(dayLen, iv time.Duration) int { return int((dayLen + iv - 1) / iv) }

// firstSlot is the index of the first slot of length iv from ds that starts at or
// after a.
func firstSlot(ds, a time.Time, iv time.Duration) int {
	if !a.After(ds) {
		return 0
	}
	return slotCount(a.Sub(ds), iv)
}

// day is the accumulator of one calendar day in the centre's time zone.
type day struct {
	date       string // 2006-01-02
	start, end time.Time
	alive      bitset // minutes in which the gateway ticked with a synchronised clock
	sensors    map[string]*sensorDay
	final      bool // its day point was written
	dirty      bool // changed since its day point was written
	// uncommitted: its latest day point was returned by Tick but is not known to be
	// durable yet; the state file keeps the day as not written until Committed.
	uncommitted bool
}

func (d *day) minutes() int { return int(d.end.Sub(d.start) / time.Minute) }

// ledger holds the day accumulators of one centre.
type ledger struct {
	loc     *time.Location
	sensors []Sensor // sorted by id
	bands   []*Band  // the sensors' bands (SensorBand); nil: not scored for temperature
	byID    map[string]int
	days    map[string]*day
	last    *day // the day day() returned last
	// implausible, when set, says a sensor's time does not count in band.
	implausible func(sensor string, from, to time.Time) bool
	// installed is when the gateway first ran (its first synchronised minute, or
	// an earlier reading it was given); zero when unknown. Time before it is not a
	// silence of the sensors nor of the gateway, and a period that starts before it
	// is scored from it.
	installed time.Time
}

func newLedger(loc *time.Location, sensors []Sensor) *ledger {
	l := &ledger{loc: loc, byID: map[string]int{}, days: map[string]*day{}}
	for _, s := range sensors {
		if s.Interval > 0 && s.ID != "" {
			l.sensors = append(l.sensors, s)
		}
	}
	slices.SortFunc(l.sensors, func(a, b Sensor) int {
		if a.ID < b.ID {
			return -1
		} else if a.ID > b.ID {
			return 1
		}
		return 0
	})
	for i, s := range l.sensors {
		l.byID[s.ID] = i
		var band *Band
		if b, ok := SensorBand(s); ok {
			band = &b
		}
		l.bands = append(l.bands, band)
	}
	return l
}

// bounds returns the start and end of the local day holding t, and its key.
func (l *ledger) bounds(t time.Time) (start, end time.Time, key string) {
	y, m, d := t.In(l.loc).Date()
	start = time.Date(y, m, d, 0, 0, 0, 0, l.loc)
	end = time.Date(y, m, d+1, 0, 0, 0, 0, l.loc)
	return start, end, start.Format(time.DateOnly)
}

// day returns the accumulator of the day holding t, creating it.
func (l *ledger) day(t time.Time) *day {
	// Most events fall in the day of the one before: no calendar work for them.
	if d := l.last; d != nil && !t.Before(d.start) && t.Before(d.end) && l.days[d.date] == d {
		return d
	}
	d := l.dayOf(t)
	l.last = d
	return d
}

func (l *ledger) dayOf(t time.Time) *day {
	start, end, key := l.bounds(t)
	if d := l.days[key]; d != nil {
		return d
	}
	d := &day{date: key, start: start, end: end, sensors: map[string]*sensorDay{}}
	d.alive = newBitset(d.minutes())
	l.days[key] = d
	return d
}

// sorted returns the days, oldest first.
func (l *ledger) sorted() []*day {
	out := make([]*day, 0, len(l.days))
	for _, d := range l.days {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// oldest returns the start of the oldest day held, or the zero time.
func (l *ledger) oldest() time.Time {
	var t time.Time
	for _, d := range l.days {
		if t.IsZero() || d.start.Before(t) {
			t = d.start
		}
	}
	return t
}

// install sets when the gateway was installed, once: at now, or at the earliest
// reading held if that is earlier, to the minute.
func (l *ledger) install(now time.Time) {
	if !l.installed.IsZero() {
		return
	}
	l.installed = now.Truncate(time.Minute)
	for _, d := range l.sorted() {
		for _, sd := range d.sensors {
			if len(sd.reads) > 0 {
				l.installed = minTime(l.installed, d.start.Add(time.Duration(sd.reads[0])*time.Millisecond).Truncate(time.Minute))
			}
		}
		if len(d.sensors) > 0 {
			break
		}
	}
}

// counts reports whether the event is a sensor reading the score counts: not a
// derived point, not a retained last-known value, not stamped by an unsynchronised
// clock, and carrying a climate value.
func counts(e *telemetry.Event) bool {
	if e.Point != nil || e.Flags&(telemetry.Retained|telemetry.ClockUnsynced) != 0 {
		return false
	}
	for _, v := range e.Values {
		if v.Metric == telemetry.Temperature || v.Metric == telemetry.Humidity {
			return true
		}
	}
	return false
}

// observe folds one event into its day. It returns false when the event does not
// count (see counts) or names an unknown sensor.
func (l *ledger) observe(e *telemetry.Event) bool {
	if !counts(e) {
		return false
	}
	i, ok := l.byID[e.Sensor]
	if !ok {
		return false
	}
	s := l.sensors[i]
	if !l.installed.IsZero() && e.Time.Before(l.installed) {
		l.installed = e.Time.Truncate(time.Minute) // the centre's data reach back further
	}
	d := l.day(e.Time)
	sd := d.sensors[s.ID]
	if sd == nil {
		sd = newSensorDay(s.Interval, d.end.Sub(d.start))
		d.sensors[s.ID] = sd
	}
	slot := int(e.Time.Sub(d.start) / s.Interval)
	if slot < 0 || slot >= sd.slots {
		return false
	}
	off := int32(e.Time.Sub(d.start) / time.Millisecond)
	if j, found := slices.BinarySearch(sd.reads, off); !found {
		sd.reads = slices.Insert(sd.reads, j, off)
	}
	if b := l.bands[i]; b != nil {
		for _, v := range e.Values {
			if v.Metric != telemetry.Temperature {
				continue
			}
			sd.addTemp(newTemp(off, b.In(v.V)))
			if b.Serious != nil && b.Serious(v.V) {
				sd.serious.set(slot)
			}
		}
	}
	if d.final {
		d.dirty = true
	}
	return true
}

// markAlive records that the gateway ran, with a synchronised clock, at t.
func (l *ledger) markAlive(t time.Time) {
	d := l.day(t)
	if m := int(t.Sub(d.start) / time.Minute); m >= 0 && m < d.minutes() {
		d.alive.set(m)
	}
}

// slot is one expected reporting interval of a sensor: serious readings are
// counted by slot.
type slot struct {
	start, end time.Time
	sd         *sensorDay // nil when nothing arrived that day
	i          int
}

func (s slot) serious() bool { return s.sd != nil && s.sd.serious.has(s.i) }

// slots calls fn for each slot of sensor s that starts in [a, b), in time order.
func (l *ledger) slots(s Sensor, a, b time.Time, fn func(slot)) {
	for ds, de, key := l.bounds(a); ds.Before(b); ds, de, key = l.bounds(de) {
		var sd *sensorDay
		if d := l.days[key]; d != nil {
			sd = d.sensors[s.ID]
		}
		n := slotCount(de.Sub(ds), s.Interval)
		for i := firstSlot(ds, a, s.Interval); i < n; i++ {
			st := ds.Add(time.Duration(i) * s.Interval)
			if !st.Before(b) {
				break
			}
			fn(slot{start: st, end: minTime(st.Add(s.Interval), de), sd: sd, i: i})
		}
	}
}

// sensorDays calls fn with the start (Unix ns) and the sensorDay of each day of
// sensor s that overlaps [lo, hi), in order.
func (l *ledger) sensorDays(s Sensor, lo, hi time.Time, fn func(base int64, sd *sensorDay)) {
	for ds, de, key := l.bounds(lo); ds.Before(hi); ds, de, key = l.bounds(de) {
		if d := l.days[key]; d != nil && d.sensors[s.ID] != nil {
			fn(ds.UnixNano(), d.sensors[s.ID])
		}
	}
}

// readNanos returns the times (Unix ns) of sensor s's climate readings in [lo,
// hi), in order: plain numbers, which a day's thousands of readings need
// (time.Time values would be three words each, with a pointer for the collector).
func (l *ledger) readNanos(s Sensor, lo, hi time.Time) []int64 {
	var out []int64
	loN, hiN := lo.UnixNano(), hi.UnixNano()
	l.sensorDays(s, lo, hi, func(base int64, sd *sensorDay) {
		for _, off := range sd.reads {
			if at := base + int64(off)*int64(time.Millisecond); at >= loN && at < hiN {
				out = append(out, at)
			}
		}
	})
	return out
}

// at returns Unix ns n as a time in the centre's zone.
func (l *ledger) at(n int64) time.Time { return time.Unix(0, n).In(l.loc) }

// heldSpans returns the time in [from, end) that sensor s's readings hold, as
// known at now, in order: what availability measures and what a silence is not.
// A reading is held from its time until the first reading that comes at least
// (1 − HoldSlack) and at most (1 + HoldSlack) of the sensor's interval after it
// (its confirmation); with none in that window it is held for nothing, or, while
// the window is still open at now, up to now. Readings closer together than that
// are one report (a burst, a redelivery, an extra reading beside an honest one):
// the later one neither confirms the earlier one nor holds anything the earlier
// one's hold does not already cover. Readings far apart (backfilled into a
// silence) hold nothing, and an honest sensor reporting at its interval, with
// jitter, is held without a gap until its last reading before an outage.
func (l *ledger) heldSpans(s Sensor, from, end, now time.Time) []span {
	lim := int64(holdLimit(s.Interval))
	early := int64(s.Interval - time.Duration(HoldSlack*float64(s.Interval)))
	rs := l.readNanos(s, from.Add(-time.Duration(lim)), end.Add(time.Duration(lim)))
	nowN := now.UnixNano()
	var out []span
	j := 0
	for _, r := range rs {
		for j < len(rs) && rs[j]-r < early {
			j++
		}
		var until int64
		switch {
		case j < len(rs) && rs[j]-r <= lim:
			until = rs[j]
		case nowN-r <= lim: // its confirmation may still come
			until = nowN
		default:
			continue
		}
		out = appendSpan(out, span{l.at(r), l.at(until)}, from, end)
	}
	return out
}

// appendSpan appends sp, cut to [from, end), to out, merging it with out's last
// span where they touch; sp starts no earlier than out's last span.
func appendSpan(out []span, sp span, from, end time.Time) []span {
	a, b := maxTime(sp.a, from), minTime(sp.b, end)
	if !a.Before(b) {
		return out
	}
	if n := len(out); n > 0 && !out[n-1].b.Before(a) {
		out[n-1].b = maxTime(out[n-1].b, b)
		return out
	}
	return append(out, span{a, b})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Thresholds of the caps the score derives from its own data.
const (
	// SilentFor is the shortest silence of a sensor in a capped zone (a medicine
	// fridge, a hot-water outlet, a resident room) that caps as if the serious
	// event had happened: missing data is the worst case (DOMAIN.md §6.1: no data
	// for more than 60 min is critical). A sensor's own hold is the longer of this
	// and three of its intervals.
	SilentFor = 60 * time.Minute
	// GatewaySilentFor is the gateway silence that caps the total at 50.
	GatewaySilentFor = 24 * time.Hour
)

// silentHold returns the silence after which sensor s caps.
func silentHold(s Sensor) time.Duration { return max(SilentFor, 3*s.Interval) }

// evaluation is what the ledger knows about a period.
type evaluation struct {
	temperature, availability Part
	caps                      []string
}

// evaluate computes the temperature and availability components of [from, to) and
// the caps the data shows, as known at now (a silence still going on at now counts
// up to now). A slot counts when it lies wholly inside [from, to) and ends by now.
func (l *ledger) evaluate(from, to, now time.Time) evaluation {
	var ev evaluation
	end := minTime(to, now)
	if l.installed.After(from) && l.installed.Before(end) {
		from = l.installed // the time before the gateway was installed is not the centre's
	}
	type zoneAcc struct {
		weight float64
		spans  []span // the zone's in-band time so far: every sensor in band
	}
	zones := map[string]*zoneAcc{}
	var zoneOrder []string
	var availSum float64
	var availN int
	caps := map[string]bool{}
	for i, s := range l.sensors {
		if !end.After(from) {
			continue
		}
		var serious int
		l.slots(s, from, end, func(sl slot) {
			if !sl.end.After(end) && sl.serious() {
				serious++
			}
		})
		availSum += float64(measure(l.heldSpans(s, from, end, now))) / float64(end.Sub(from))
		availN++
		b := l.bands[i]
		if b == nil {
			continue
		}
		in := l.inBandSpans(s, from, end, now)
		if l.implausible != nil {
			in = l.plausibleOnly(s, in)
		}
		z := zones[s.Zone]
		if z == nil {
			z = &zoneAcc{weight: b.Weight, spans: in}
			zones[s.Zone] = z
			zoneOrder = append(zoneOrder, s.Zone)
		} else {
			z.spans = intersect(z.spans, in)
		}
		if b.Cap == "" {
			continue
		}
		switch {
		case serious > 0 && time.Duration(serious)*s.Interval >= b.CapFor:
			caps[b.Cap] = true
		case l.silentRun(s, from, end, now):
			caps[NoDataCap(b.Cap)] = true // never described as the event itself
		}
	}
	if availN > 0 {
		ev.availability = Part{Applicable: true, Known: true, Ratio: availSum / float64(availN)}
	}
	var wsum, sum float64
	for _, id := range zoneOrder {
		z := zones[id]
		wsum += z.weight
		if end.After(from) {
			sum += z.weight * float64(measure(z.spans)) / float64(end.Sub(from))
		}
	}
	if wsum > 0 {
		ev.temperature = Part{Applicable: true, Known: true, Ratio: sum / wsum}
	}
	if l.gatewaySilent(from, end, now) {
		caps[CapGatewaySilent] = true
	}
	for id := range caps {
		ev.caps = append(ev.caps, id)
	}
	slices.Sort(ev.caps)
	return ev
}

// HoldSlack is how much later than its interval a sensor's next reading may come
// and still confirm the reading before it (clock jitter of the device and the
// network), as a fraction of the interval.
const HoldSlack = 0.1

// holdLimit is the longest gap between two readings of a sensor with interval iv
// across which the first reading is held.
func holdLimit(iv time.Duration) time.Duration { return iv + time.Duration(HoldSlack*float64(iv)) }

// span is a half-open stretch of time [a, b).
type span struct{ a, b time.Time }

// plausibleOnly cuts from in the time during which sensor s was held implausible
// (its readings do not vary as its zone kind does), in steps of its interval: that
// time is not in band, whatever the readings said.
func (l *ledger) plausibleOnly(s Sensor, in []span) []span {
	step := s.Interval
	var out []span
	for _, sp := range in {
		for a := sp.a; a.Before(sp.b); {
			b := sp.b
			if step > 0 {
				b = minTime(a.Add(step), sp.b)
			}
			if !l.implausible(s.ID, a, b) {
				if n := len(out); n > 0 && out[n-1].b.Equal(a) {
					out[n-1].b = b
				} else {
					out = append(out, span{a, b})
				}
			}
			a = b
		}
	}
	return out
}

// measure is the total length of spans that do not overlap.
func measure(ss []span) (d time.Duration) {
	for _, s := range ss {
		d += s.b.Sub(s.a)
	}
	return d
}

// intersect returns the time both x and y cover; both are ordered and without
// overlaps, and so is the result.
func intersect(x, y []span) []span {
	var out []span
	for i, j := 0, 0; i < len(x) && j < len(y); {
		a, b := maxTime(x[i].a, y[j].a), minTime(x[i].b, y[j].b)
		if a.Before(b) {
			out = append(out, span{a, b})
		}
		if x[i].b.Before(y[j].b) {
			i++
		} else {
			j++
		}
	}
	return out
}

// inBandSpans returns the time in [from, end) during which sensor s held a
// temperature reading inside its band, in order. Each reading is held until the
// sensor's next reading, provided that comes within the sensor's interval (plus
// [HoldSlack]); a reading followed by a longer gap is held for nothing, the gap
// being unknown time, which counts against (readings far apart, such as a few
// in-band values backfilled into a silence, earn nothing). The last reading
// before now is held up to now while its successor may still come. An
// out-of-band reading is held for the sensor's full interval, and on to the last
// reading within its interval plus HoldSlack, whatever readings come in between:
// no time it holds is in band, so an added reading can never shorten a time out
// of band (an honest sensor reporting at its interval scores as if in-band
// readings alone were held).
func (l *ledger) inBandSpans(s Sensor, from, end, now time.Time) []span {
	lim := int64(holdLimit(s.Interval))
	type reading struct {
		t  int64 // Unix ns
		in bool
	}
	var rs []reading
	lo, hi := from.Add(-time.Duration(lim)), end.Add(time.Duration(lim))
	loN, hiN := lo.UnixNano(), hi.UnixNano()
	l.sensorDays(s, lo, hi, func(base int64, sd *sensorDay) {
		for _, t := range sd.temps {
			if at := base + int64(t.off())*int64(time.Millisecond); at >= loN && at < hiN {
				rs = append(rs, reading{at, t.in()})
			}
		}
	})
	var out []span
	add := func(a, b int64) { out = appendSpan(out, span{l.at(a), l.at(b)}, from, end) }
	nowN := now.UnixNano()
	for i, r := range rs {
		if !r.in {
			continue
		}
		if i+1 < len(rs) {
			if next := rs[i+1].t; next-r.t <= lim {
				add(r.t, next)
			}
			continue
		}
		if nowN-r.t <= lim { // its successor may still come
			add(r.t, nowN)
		}
	}
	// An out-of-band reading holds for the sensor's full interval whatever comes in
	// between, and on to the last reading within its hold limit: no reading
	// added after it can shorten its time out of band. k, the last reading within
	// the hold limit of reading i, only moves forward: linear in the readings
	// however densely they come (a chatty sensor, a redelivered backlog).
	var warm []span
	k := 0
	for i, r := range rs {
		if r.in {
			continue
		}
		k = max(k, i)
		for k+1 < len(rs) && rs[k+1].t-r.t <= lim {
			k++
		}
		a, e := l.at(r.t), l.at(max(r.t+int64(s.Interval), rs[k].t))
		if n := len(warm); n > 0 && !warm[n-1].b.Before(a) {
			warm[n-1].b = maxTime(warm[n-1].b, e)
		} else {
			warm = append(warm, span{a, e})
		}
	}
	return subtract(out, warm)
}

// subtract returns the time x covers and y does not; both are ordered and
// without overlaps, and so is the result.
func subtract(x, y []span) []span {
	var out []span
	j := 0
	for _, sp := range x {
		a := sp.a
		for j < len(y) && !y[j].b.After(a) {
			j++
		}
		for k := j; k < len(y) && y[k].a.Before(sp.b); k++ {
			if y[k].a.After(a) {
				out = append(out, span{a, y[k].a})
			}
			a = maxTime(a, y[k].b)
		}
		if a.Before(sp.b) {
			out = append(out, span{a, sp.b})
		}
	}
	return out
}

// traceFrom returns where to start tracing silences of at least hold that overlap
// a period starting at from: a run that began earlier than hold before from is
// already hold long by from, so looking further back changes nothing. Time before
// the oldest day held, or before the gateway was installed, is not traced (the
// gateway had not started).
func (l *ledger) traceFrom(from time.Time, hold time.Duration) time.Time {
	o := l.oldest()
	start := from
	if !o.IsZero() && o.Before(from) {
		start = maxTime(from.Add(-hold), o)
	}
	return maxTime(start, l.installed)
}

// silentRun reports whether sensor s had a stretch of time its readings do not
// hold (see heldSpans), at least its hold long, that overlaps [from, end). The
// stretch is measured back before from (see traceFrom) and forward to now.
func (l *ledger) silentRun(s Sensor, from, end, now time.Time) bool {
	hold := silentHold(s)
	r := silence{hold: hold, from: from, end: end}
	start := l.traceFrom(from, hold)
	at := start
	for _, sp := range l.heldSpans(s, start, now, now) {
		if sp.a.After(at) {
			r.slot(at, false)
		}
		r.slot(sp.a, true)
		at = sp.b
	}
	if at.Before(now) {
		r.slot(at, false)
	}
	r.stop(now)
	return r.found
}

// gatewaySilent reports whether the gateway had a run of minutes without a
// synchronised tick, at least GatewaySilentFor long, that overlaps [from, end),
// traced like silentRun.
func (l *ledger) gatewaySilent(from, end, now time.Time) bool {
	start := l.traceFrom(from, GatewaySilentFor)
	r := silence{hold: GatewaySilentFor, from: from, end: end}
	for ds, de, key := l.bounds(start); ds.Before(now) && !r.found; ds, de, key = l.bounds(de) {
		d := l.days[key]
		n := int(de.Sub(ds) / time.Minute)
		for i := firstSlot(ds, start, time.Minute); i < n; i++ {
			t := ds.Add(time.Duration(i) * time.Minute)
			if !t.Before(now) {
				break
			}
			r.slot(t, d != nil && d.alive.has(i))
		}
	}
	r.stop(now)
	return r.found
}

// silence finds a run of empty time at least hold long that overlaps [from,
// end): gatewaySilent feeds it its minutes, silentRun the starts of the stretches
// its sensor's readings hold and do not hold, in time order.
type silence struct {
	hold      time.Duration
	from, end time.Time
	runStart  time.Time
	running   bool
	found     bool
}

// slot takes the slot starting at t: got tells whether it had what was awaited
// (which ends a run of empty slots) or not (which starts one, or goes on with it).
func (r *silence) slot(t time.Time, got bool) {
	if got {
		r.stop(t)
	} else if !r.running {
		r.running, r.runStart = true, t
	}
}

// stop ends the run of empty slots, if any, at t.
func (r *silence) stop(t time.Time) {
	if r.running && t.Sub(r.runStart) >= r.hold && r.runStart.Before(r.end) && t.After(r.from) {
		r.found = true
	}
	r.running = false
}
