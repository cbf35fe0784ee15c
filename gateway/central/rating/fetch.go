package rating

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/plausibility"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/telemetry"
	"golang.org/x/sync/errgroup"
)

// raw are the raw points of one date for a group of centres in one time zone.
type raw struct {
	readings map[string][]telemetry.Event // per centre
	alive    map[string][]time.Time
	coverage map[string]float64
	slots    map[string][]roundSlot
	alerts   map[string][]alertPoint
	gateway  map[string]store.Score
}

type roundSlot struct {
	end    time.Time
	onTime bool
}

type alertPoint struct {
	t                       time.Time
	rule, severity, subject string
	zone, state, id         string
	ackSuspect              bool
}

// ComputeDays computes the day starting at start (a local midnight) of every
// entry from the raw points in the database, as known at now, Options.Chunk
// centres at a time. The entries must share start's time zone.
func (j *Job) ComputeDays(ctx context.Context, entries []*registry.Entry, start, now time.Time) ([]Day, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	_, end := score.DayBounds(start, start.Location())
	out := make([]Day, 0, len(entries))
	for chunk := range slices.Chunk(entries, j.opt.Chunk) {
		r, err := j.fetch(ctx, chunk, start, end, now)
		if err != nil {
			return nil, fmt.Errorf("rating of %s: %w", start.Format(time.DateOnly), err)
		}
		for _, e := range chunk {
			d, err := computeDay(e, start, end, now, r)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// computeDay is one centre's day from the raw points.
func computeDay(e *registry.Entry, start, end, now time.Time, r *raw) (Day, error) {
	set, err := Settings(e)
	if err != nil {
		return Day{}, err
	}
	id := e.Centre.ID
	data := score.DayData{Readings: r.readings[id], Alive: r.alive[id], Installed: e.Gateway.Installed}
	held := judge(e, r.readings[id], start, end)
	if len(held) > 0 {
		data.Plausibility = held
	}
	hasData := false
	for _, ev := range data.Readings {
		if !ev.Time.Before(start) && ev.Time.Before(end) {
			hasData = true
			break
		}
	}
	for _, t := range data.Alive {
		if !t.Before(start) && t.Before(end) {
			hasData = true
			break
		}
	}
	if hasRequiredZone(e) {
		v, ok := r.coverage[id]
		data.Coverage = score.Part{Applicable: true, Known: ok, Ratio: v}
	}
	if len(e.Rounds.Checkpoints) > 0 {
		data.Rounds = rounds(r.slots[id], start, end)
	}
	if len(e.Recipients) > 0 {
		data.Response = response(r.alerts[id], start, end, now)
	}
	data.Serious = serious(r.alerts[id], requiredCameras(e))
	if !hasData {
		// Nothing verified arrived: every component is unknown (0).
		for _, p := range []*score.Part{&data.Coverage, &data.Rounds, &data.Response} {
			p.Known, p.Ratio = false, 0
		}
	}
	res, err := score.ComputeDay(set, start, data, now)
	if err != nil {
		return Day{}, fmt.Errorf("centre %s: %w", id, err)
	}
	version := set.WeightsVersion
	if version == "" {
		version = score.DefaultWeightsVersion
	}
	d := Day{Centre: id, Start: start, Result: res, Version: version, HasData: hasData}
	for _, s := range e.Sensors {
		if why, ok := held[s.ID]; ok {
			d.Implausible = append(d.Implausible, why)
		}
	}
	if g, ok := r.gateway[id]; ok {
		d.Gateway = &g
	}
	return d, nil
}

// implausible are the sensors held implausible for a day, with why: the day's
// readings of a sensor so held do not count in band (score.Plausibility).
type implausible map[string]string

func (m implausible) Implausible(sensor string, _, _ time.Time) bool {
	_, ok := m[sensor]
	return ok
}

// judge runs the gateway's plausibility rules (package plausibility, the same
// code as its check) over the registered sensors' readings of [start, end): a
// sensor whose day does not vary as its zone kind does, or that tracks another
// exactly, is held implausible for the whole day. The centre cannot switch this
// off or alter it: it runs here, on the verified readings.
func judge(e *registry.Entry, readings []telemetry.Event, start, end time.Time) implausible {
	kinds := map[string]string{}
	for _, z := range e.Zones {
		kinds[z.ID] = z.Kind
	}
	p := plausibility.DefaultParams()
	var list []plausibility.Named
	byID := map[string]*plausibility.Sensor{}
	for _, s := range e.Sensors {
		class := plausibility.ClassOf(kinds[s.Zone])
		if class == plausibility.Unjudged || byID[s.ID] != nil {
			continue
		}
		det := plausibility.NewSensor(class, p)
		byID[s.ID] = det
		list = append(list, plausibility.Named{ID: s.ID, Zone: s.Zone, Kind: kinds[s.Zone], S: det})
	}
	if len(list) == 0 {
		return nil
	}
	for _, ev := range readings {
		det := byID[ev.Sensor]
		if det == nil || ev.Time.Before(start) || !ev.Time.Before(end) {
			continue
		}
		for _, v := range ev.Values {
			if v.Metric == telemetry.Temperature {
				_ = det.Observe(ev.Time, v.V) // the ingest and InfluxDB hold only valid readings; a bad one is skipped
			}
		}
	}
	return plausibility.JudgeDay(list, end.Add(-time.Nanosecond), p)
}

// rounds is the share of the round slots that ended in [start, end) and were
// checked on time; (1, true) when none ended (the rounds check's Compliance).
func rounds(slots []roundSlot, start, end time.Time) score.Part {
	due, on := 0, 0
	for _, s := range slots {
		if !s.end.Before(start) && s.end.Before(end) {
			due++
			if s.onTime {
				on++
			}
		}
	}
	if due == 0 {
		return score.Part{Applicable: true, Known: true, Ratio: 1}
	}
	return score.Part{Applicable: true, Known: true, Ratio: float64(on) / float64(due)}
}

// incident is one alert's history from its points.
type incident struct {
	severity, rule, subject, zone string
	opened, acked, resolved       time.Time
	// critical is when it became critical (its first critical point); ackedCrit
	// the first acknowledgement at critical severity, ackSuspect its flag.
	critical, ackedCrit time.Time
	ackSuspect          bool
}

func incidents(pts []alertPoint) []*incident {
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].t.Before(pts[j].t) })
	byID := map[string]*incident{}
	var out []*incident
	for _, p := range pts {
		id := p.id
		if id == "" {
			id = p.rule + "/" + p.subject
		}
		in := byID[id]
		if in == nil || !in.resolved.IsZero() && p.state == "firing" {
			in = &incident{severity: p.severity, rule: p.rule, subject: p.subject, zone: p.zone}
			byID[id] = in
			out = append(out, in)
		}
		if p.severity == telemetry.Critical.String() {
			in.severity = p.severity // raised from a warning: one incident, now critical
			if in.critical.IsZero() {
				in.critical = p.t
			}
		}
		switch p.state {
		case "firing":
			if in.opened.IsZero() {
				in.opened = p.t
			}
		case "acknowledged":
			if in.acked.IsZero() {
				in.acked = p.t
			}
			if p.severity == telemetry.Critical.String() && in.ackedCrit.IsZero() {
				in.ackedCrit, in.ackSuspect = p.t, p.ackSuspect
			}
		case "resolved":
			in.resolved = p.t
		}
	}
	return out
}

// response is the response component from the alert points, by the rule the
// gateway's engine applies (score.ResponseOf): the same function on the same
// transitions, with the ack_suspect flag the gateway wrote.
func response(pts []alertPoint, start, end, now time.Time) score.Part {
	var spans []score.AlertSpan
	for _, a := range incidents(pts) {
		if a.critical.IsZero() {
			continue
		}
		spans = append(spans, score.AlertSpan{Critical: a.critical, Acked: a.ackedCrit, AckSuspect: a.ackSuspect, Resolved: a.resolved})
	}
	return score.Part{Applicable: true, Known: true, Ratio: score.ResponseOf(spans, start, end, now)}
}

// serious are the conditions that cap, from the alert points: the kinds in
// score.EventCaps, and a camera listed for a required zone offline (camera_down),
// as the gateway's score sees them.
func serious(pts []alertPoint, cams map[string]bool) []telemetry.Condition {
	var out []telemetry.Condition
	for _, a := range incidents(pts) {
		kind := a.rule
		if kind == "camera_offline" && cams[a.subject] {
			kind = "camera_down"
		}
		if _, ok := score.EventCaps[kind]; !ok || a.opened.IsZero() {
			continue
		}
		out = append(out, telemetry.Condition{Kind: kind, Subject: a.subject, Zone: a.zone, Since: a.opened, Resolved: a.resolved})
	}
	return out
}

func fluxTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func centreFilter(entries []*registry.Entry) string {
	var b strings.Builder
	b.WriteString(" and (")
	for i, e := range entries {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString("r.centre == " + store.FluxString(e.Centre.ID))
	}
	b.WriteString(")")
	return b.String()
}

// fetch reads the raw points of [start, end) (and around it, as the day needs)
// for the entries: six queries at once.
func (j *Job) fetch(ctx context.Context, entries []*registry.Entry, start, end, now time.Time) (*raw, error) {
	from := "from(bucket: " + store.FluxString(j.opt.DB.Bucket()) + ")"
	cf := centreFilter(entries)
	rng := func(a, b time.Time) string {
		return from + " |> range(start: " + fluxTime(a) + ", stop: " + fluxTime(b) + ")"
	}
	hold := maxHold(entries)
	r := &raw{readings: map[string][]telemetry.Event{}, alive: map[string][]time.Time{}, coverage: map[string]float64{},
		slots: map[string][]roundSlot{}, alerts: map[string][]alertPoint{}, gateway: map[string]store.Score{}}
	var climate, beats, cov, slots, alerts []store.Row
	stopAt := func(t time.Time) time.Time { // never after now: the day as known at now
		if t.After(now) {
			return now
		}
		return t
	}
	var gw []store.Row
	g, gctx := errgroup.WithContext(ctx)
	q := func(dst *[]store.Row, flux string, tags ...string) {
		g.Go(func() (err error) { *dst, err = j.opt.DB.Query(gctx, flux, tags...); return })
	}
	q(&gw, rng(start, start.Add(time.Second))+`
  |> filter(fn: (r) => r._measurement == "safety_score" and r.period == "day"`+cf+`)`, "centre")
	q(&climate, rng(start.Add(-hold), stopAt(end.Add(hold)))+`
  |> filter(fn: (r) => r._measurement == "climate" and (r._field == "temperature_c" or r._field == "humidity_pct")`+cf+`)
  |> keep(columns: ["_time", "_value", "_field", "centre", "sensor"])`, "centre", "sensor")
	q(&beats, rng(start.Add(-score.GatewaySilentFor), stopAt(end.Add(score.GatewaySilentFor)))+`
  |> filter(fn: (r) => r._measurement == "gateway" and r._field == "uptime_s"`+cf+`)
  |> keep(columns: ["_time", "_value", "_field", "centre"])`, "centre")
	q(&cov, rng(start, start.Add(time.Second))+`
  |> filter(fn: (r) => r._measurement == "coverage" and r.period == "day" and r.zone_kind == "all" and r._field == "ratio"`+cf+`)`, "centre")
	q(&slots, rng(start.Add(-24*time.Hour), end)+`
  |> filter(fn: (r) => r._measurement == "round" and r.event == "slot" and (r._field == "on_time" or r._field == "slot_s")`+cf+`)`, "centre", "checkpoint")
	q(&alerts, rng(start.Add(-7*24*time.Hour), stopAt(end.Add(24*time.Hour)))+`
  |> filter(fn: (r) => r._measurement == "alert" and (r._field == "state" or r._field == "id" or r._field == "ack_suspect")`+cf+`)`, "centre", "rule", "severity", "subject", "zone")
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Readings: the fields of one point share centre, sensor and time.
	type rkey struct {
		c, s string
		t    int64
	}
	idx := map[rkey]int{}
	for _, row := range climate {
		v, ok := row.Float()
		if !ok {
			continue
		}
		m := telemetry.Temperature
		if row.Field == "humidity_pct" {
			m = telemetry.Humidity
		}
		c := row.Centre()
		k := rkey{c, row.Tags["sensor"], row.Time.UnixNano()}
		i, ok := idx[k]
		if !ok {
			i = len(r.readings[c])
			idx[k] = i
			r.readings[c] = append(r.readings[c], telemetry.Event{Time: row.Time, Sensor: k.s})
		}
		r.readings[c][i].Values = append(r.readings[c][i].Values, telemetry.Value{Metric: m, V: v})
	}
	for _, row := range beats {
		r.alive[row.Centre()] = append(r.alive[row.Centre()], row.Time)
	}
	for _, row := range cov {
		if v, ok := row.Float(); ok {
			r.coverage[row.Centre()] = v
		}
	}
	type skey struct {
		c, cp string
		t     int64
	}
	type slot struct {
		start  time.Time
		lenS   float64
		onTime bool
	}
	sorder, sl := store.GroupPoints(slots,
		func(row store.Row) skey { return skey{row.Centre(), row.Tags["checkpoint"], row.Time.UnixNano()} },
		func(row store.Row, _ skey) *slot { return &slot{start: row.Time} },
		func(s *slot, row store.Row) {
			v, _ := row.Float()
			switch row.Field {
			case "on_time":
				s.onTime = v != 0
			case "slot_s":
				s.lenS = v
			}
		})
	for _, k := range sorder {
		s := sl[k]
		r.slots[k.c] = append(r.slots[k.c], roundSlot{end: s.start.Add(time.Duration(s.lenS * float64(time.Second))), onTime: s.onTime})
	}
	type akey struct {
		c, rule, subj string
		t             int64
	}
	aorder, ap := store.GroupPoints(alerts,
		func(row store.Row) akey {
			return akey{row.Centre(), row.Tags["rule"], row.Tags["subject"], row.Time.UnixNano()}
		},
		func(row store.Row, k akey) *alertPoint {
			return &alertPoint{t: row.Time, rule: k.rule, subject: k.subj, severity: row.Tags["severity"], zone: row.Tags["zone"]}
		},
		func(p *alertPoint, row store.Row) {
			switch row.Field {
			case "state":
				p.state = row.Str()
			case "id":
				p.id = row.Str()
			case "ack_suspect":
				v, _ := row.Float()
				p.ackSuspect = v != 0
			}
		})
	for _, k := range aorder {
		r.alerts[k.c] = append(r.alerts[k.c], *ap[k])
	}
	for _, row := range gw {
		c := row.Centre()
		s, ok := r.gateway[c]
		if !ok {
			s = store.Score{At: row.Time, Components: map[string]float64{}}
		}
		s.Set(row)
		r.gateway[c] = s
	}
	return r, nil
}
