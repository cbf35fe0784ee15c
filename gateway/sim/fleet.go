package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// LineWriter writes line protocol in one request per call (influxsink.Client does).
type LineWriter interface {
	WriteRecord(ctx context.Context, lines ...string) error
}

// FleetCentre is one simulated centre of a fleet, as the monitor's config lists it.
type FleetCentre struct {
	ID       string
	Name     string
	Region   string
	Timezone string
	// Quality in [0.6, 0.99] drives every component of the centre's simulated score.
	Quality float64
	// SilentFrom is when the centre's gateway stops writing (zero: never).
	SilentFrom time.Time
}

// FleetOptions configure WriteFleet. Zero values take the documented defaults.
type FleetOptions struct {
	Centres   int           // number of centres; required, > 0
	Days      int           // days of history before End; default 30
	End       time.Time     // end of the history; default now, truncated to Step
	Step      time.Duration // climate and gateway heartbeat interval; default 10 min
	Zones     int           // climate zones per centre (1..8); default 8
	Seed      uint64        // same seed, same fleet and data
	BatchSize int           // lines per POST; default 5000
	// SilentEvery: every SilentEvery-th centre's gateway went silent two hours before
	// End (0: none).
	SilentEvery int
	// Parallel is the number of concurrent writers; default 1.
	Parallel int
	// Rated: each closed local day also gets a ministry rating point (measurement
	// rating, as the central rating job writes it) equal to the day's simulated
	// score, as if the centre were registered and rated: the overview's
	// yesterday and 30 days then show for the fleet too.
	Rated bool
	// Progress, when set, is called after each centre is written (from the writers'
	// goroutines, one at a time).
	Progress func(done, total int)
}

// FleetRegistryVersion is the registry_version the fleet's heartbeats carry.
const FleetRegistryVersion = 1

// WeightsVersion is the weights_version the fleet's scores carry.
const WeightsVersion = "sim-2026.1"

// Regions are Kazakhstan's regions and cities of republican significance, which the
// fleet's centres are spread over in turn.
var Regions = []string{
	"Abai", "Akmola", "Aktobe", "Almaty region", "Atyrau", "East Kazakhstan", "Zhambyl",
	"Zhetysu", "West Kazakhstan", "Karaganda", "Kostanay", "Kyzylorda", "Mangystau",
	"Pavlodar", "North Kazakhstan", "Turkistan", "Ulytau", "Astana", "Almaty", "Shymkent",
}

// westRegions use Asia/Aqtobe, the others Asia/Almaty (since 2024 both are UTC+5, but
// a monitor must not assume one zone).
var westRegions = map[string]bool{"Aktobe": true, "Atyrau": true, "West Kazakhstan": true, "Mangystau": true}

// fleetZones are the climate zones of a fleet centre, in order.
var fleetZones = []struct{ id, kind string }{
	{"room-101", "living"}, {"med-fridge", "med-fridge"}, {"room-102", "living"},
	{"corridor-1", "corridor"}, {"food-fridge", "food-fridge"}, {"room-201", "living"},
	{"boiler", "hot-water"}, {"freezer", "freezer"},
}

// Fleet returns the centres of a fleet of n (deterministic for a seed).
func Fleet(n int, seed uint64, end time.Time, silentEvery int) []FleetCentre {
	rng := rand.New(rand.NewPCG(seed, seed^0xf1ee7))
	out := make([]FleetCentre, n)
	for i := range out {
		region := Regions[i%len(Regions)]
		tz := "Asia/Almaty"
		if westRegions[region] {
			tz = "Asia/Aqtobe"
		}
		c := FleetCentre{
			ID:       fmt.Sprintf("c%05d", i+1),
			Name:     fmt.Sprintf("Centre No. %d (%s)", i+1, region),
			Region:   region,
			Timezone: tz,
			Quality:  0.6 + 0.39*math.Sqrt(rng.Float64()),
		}
		if silentEvery > 0 && (i+1)%silentEvery == 0 {
			c.SilentFrom = end.Add(-2 * time.Hour)
		}
		out[i] = c
	}
	return out
}

// withDefaults returns opt with its documented defaults, End truncated to Step.
func (opt FleetOptions) withDefaults() (FleetOptions, error) {
	if opt.Centres <= 0 {
		return opt, errors.New("fleet: centres must be > 0")
	}
	if opt.Days <= 0 {
		opt.Days = 30
	}
	if opt.Step <= 0 {
		opt.Step = 10 * time.Minute
	}
	if opt.End.IsZero() {
		opt.End = time.Now()
	}
	opt.End = opt.End.Truncate(opt.Step)
	if opt.Zones <= 0 || opt.Zones > len(fleetZones) {
		opt.Zones = len(fleetZones)
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 5000
	}
	if opt.Parallel <= 0 {
		opt.Parallel = 1
	}
	return opt, nil
}

// WriteFleet writes Days of history for a fleet of Centres straight to InfluxDB
// through w: per centre, climate for each zone and a gateway heartbeat every Step,
// live safety scores and coverage every hour, day scores and coverage per local day,
// a round_night per night and a few alert incidents (some still firing), in the
// schema the gateways write. It returns the fleet's centres.
func WriteFleet(ctx context.Context, w LineWriter, opt FleetOptions) ([]FleetCentre, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	centres := Fleet(opt.Centres, opt.Seed, opt.End, opt.SilentEvery)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		done  int
		first error
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for range opt.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := &lineBatch{w: w, max: opt.BatchSize}
			for i := range next {
				c := centres[i]
				g, err := newFleetGen(c, opt, rand.New(rand.NewPCG(opt.Seed+uint64(i)+1, 0xc0ffee)), b)
				if err == nil {
					err = g.write(ctx)
				}
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("fleet: centre %s: %w", c.ID, err)
					cancel()
				}
				done++
				if opt.Progress != nil && err == nil {
					opt.Progress(done, len(centres))
				}
				mu.Unlock()
			}
			if err := b.flush(ctx); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("fleet: %w", err)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range centres {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return centres, nil
}

type lineBatch struct {
	w     LineWriter
	max   int
	lines []string
}

func (b *lineBatch) add(ctx context.Context, line string) error {
	b.lines = append(b.lines, line)
	if len(b.lines) >= b.max {
		return b.flush(ctx)
	}
	return nil
}

func (b *lineBatch) flush(ctx context.Context) error {
	if len(b.lines) == 0 {
		return nil
	}
	err := b.w.WriteRecord(ctx, strings.Join(b.lines, "\n"))
	b.lines = b.lines[:0]
	return err
}

type fleetGen struct {
	c      FleetCentre
	opt    FleetOptions
	rng    *rand.Rand
	b      *lineBatch
	loc    *time.Location
	temps  []float64     // each zone's temperature now
	uptime time.Duration // the gateway's, at the last heartbeat
	sb     strings.Builder
	p      telemetry.Point // the point being built: measurement and fields
	num    []byte
	strEsc *strings.Replacer
}

// line starts a point: measurement and the centre tag, then the given tag pairs.
func (g *fleetGen) line(measurement string, tags ...string) *fleetGen {
	g.sb.Reset()
	g.p.Measurement = measurement
	g.p.Fields = g.p.Fields[:0]
	g.sb.WriteString(measurement)
	g.sb.WriteString(",centre=")
	g.sb.WriteString(g.c.ID)
	for i := 0; i+1 < len(tags); i += 2 {
		if tags[i+1] == "" {
			continue
		}
		g.sb.WriteByte(',')
		g.sb.WriteString(tags[i])
		g.sb.WriteByte('=')
		g.sb.WriteString(escapeTag(tags[i+1]))
	}
	return g
}

// with adds fields to the point being built.
func (g *fleetGen) with(fs ...telemetry.Field) *fleetGen {
	g.p.Fields = append(g.p.Fields, fs...)
	return g
}

// The field helpers: the kind of each field is the schema's (telemetry.Schema), which
// at checks, so that the fleet's history and a real gateway can share a bucket.
func (g *fleetGen) f(key string, v float64) *fleetGen { return g.with(telemetry.Float(key, v)) }
func (g *fleetGen) i(key string, v int64) *fleetGen   { return g.with(telemetry.Int(key, v)) }
func (g *fleetGen) bool(key string, v bool) *fleetGen { return g.with(telemetry.Bool(key, v)) }
func (g *fleetGen) s(key, v string) *fleetGen         { return g.with(telemetry.String(key, v)) }

// at ends the point at t: it checks the point against telemetry.Schema, writes the
// fields by their kinds and queues the line.
func (g *fleetGen) at(ctx context.Context, t time.Time) error {
	if err := telemetry.CheckSchema(&g.p); err != nil {
		return err
	}
	return g.emit(ctx, t)
}

// emit ends the point at t unchecked (a measurement of the ministry's, not of
// telemetry.Schema) and queues the line.
func (g *fleetGen) emit(ctx context.Context, t time.Time) error {
	if g.strEsc == nil {
		g.strEsc = strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	}
	for k, f := range g.p.Fields {
		if k == 0 {
			g.sb.WriteByte(' ')
		} else {
			g.sb.WriteByte(',')
		}
		g.sb.WriteString(f.Key)
		g.sb.WriteByte('=')
		switch f.Kind {
		case telemetry.FloatField:
			g.num = strconv.AppendFloat(g.num[:0], f.Num, 'f', -1, 64)
			g.sb.Write(g.num)
		case telemetry.IntField:
			g.num = strconv.AppendInt(g.num[:0], f.Int, 10)
			g.sb.Write(g.num)
			g.sb.WriteByte('i')
		case telemetry.BoolField:
			g.sb.WriteString(strconv.FormatBool(f.Int != 0))
		case telemetry.StringField:
			g.sb.WriteByte('"')
			g.sb.WriteString(g.strEsc.Replace(f.Str))
			g.sb.WriteByte('"')
		}
	}
	g.sb.WriteByte(' ')
	g.num = strconv.AppendInt(g.num[:0], t.UnixNano(), 10)
	g.sb.Write(g.num)
	return g.b.add(ctx, g.sb.String())
}

func escapeTag(s string) string {
	return strings.NewReplacer(",", `\,`, "=", `\=`, " ", `\ `).Replace(s)
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// alive reports whether the centre's gateway still writes at t.
func (g *fleetGen) alive(t time.Time) bool {
	return g.c.SilentFrom.IsZero() || t.Before(g.c.SilentFrom)
}

func newFleetGen(c FleetCentre, opt FleetOptions, rng *rand.Rand, b *lineBatch) (*fleetGen, error) {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, err
	}
	g := &fleetGen{c: c, opt: opt, rng: rng, b: b, loc: loc, temps: make([]float64, opt.Zones)}
	for z := range g.temps {
		g.temps[z], _ = band(fleetZones[z].kind)
	}
	return g, nil
}

func (g *fleetGen) write(ctx context.Context) error {
	end := g.opt.End
	start := end.AddDate(0, 0, -g.opt.Days)
	// Climate and heartbeat every Step.
	for t := start; t.Before(end) && g.alive(t); t = t.Add(g.opt.Step) {
		if err := g.tick(ctx, t, g.opt.Step); err != nil {
			return err
		}
	}
	// Hourly live score and coverage.
	for t := start.Truncate(time.Hour).Add(time.Hour); t.Before(end) && g.alive(t); t = t.Add(time.Hour) {
		if err := g.hour(ctx, t); err != nil {
			return err
		}
	}
	// Per local day: day score and coverage, stamped at the start of the local day;
	// the round night that began the evening before, stamped at 06:00 local.
	y, m, d := start.In(g.loc).Date()
	for day := time.Date(y, m, d, 0, 0, 0, 0, g.loc); ; day = day.AddDate(0, 0, 1) {
		next := day.AddDate(0, 0, 1)
		if next.After(end) || !g.alive(next) {
			break
		}
		if err := g.day(ctx, day); err != nil {
			return err
		}
	}
	for day := time.Date(y, m, d, 6, 0, 0, 0, g.loc); !day.After(end) && g.alive(day); day = day.AddDate(0, 0, 1) {
		if err := g.night(ctx, day); err != nil {
			return err
		}
	}
	return g.alerts(ctx, start, end)
}

// tick writes every zone's climate and a heartbeat at t, the gateway having run
// for step more.
func (g *fleetGen) tick(ctx context.Context, t time.Time, step time.Duration) error {
	q := g.c.Quality
	hour := float64(t.In(g.loc).Hour()) + float64(t.In(g.loc).Minute())/60
	for z := range g.temps {
		zn := fleetZones[z]
		c, spread := band(zn.kind)
		diurnal := 0.0
		if zn.kind == "living" || zn.kind == "corridor" {
			diurnal = 0.8 * math.Sin((hour-9)/24*2*math.Pi)
		}
		g.temps[z] += (c + diurnal - g.temps[z]) * 0.3
		g.temps[z] += g.rng.NormFloat64() * spread * 0.15
		v := g.temps[z]
		if cycling(zn.kind) { // the compressor's cycle: 25–46 min, ±0.6 °C
			period := float64(25+3*z) * 60
			ph := math.Mod(float64(t.Unix())/period, 1)
			v += 0.6 * (2*math.Abs(2*ph-1) - 1)
		}
		// A poorly run centre's fridge warms now and then.
		if zn.kind == "med-fridge" && g.rng.Float64() < (1-q)*0.02 {
			v += 4 + g.rng.Float64()*3
		}
		g.line("climate", "sensor", zn.id+"-t", "source", "zigbee2mqtt", "zone", zn.id, "zone_kind", zn.kind).
			f("temperature_c", round2(v))
		if hasHumidity(zn.kind) {
			g.f("humidity_pct", round2(40+g.rng.Float64()*10))
		}
		if err := g.at(ctx, t); err != nil {
			return err
		}
	}
	g.uptime += step
	backlog := int64(0)
	if g.rng.Float64() < (1-q)*0.1 {
		backlog = int64(g.rng.IntN(5000))
	}
	hb := telemetry.Heartbeat{Uptime: g.uptime, SpoolBytes: backlog * 180, SpoolBacklog: backlog,
		MQTTConnected: true, ClockSynced: true, InfluxOK: true, RegistryVersion: FleetRegistryVersion, ConfigHash: "sim-" + g.c.ID}
	return g.line(telemetry.MeasurementGateway).with(hb.Fields()...).at(ctx, t)
}

// hour writes the live score and coverage at the whole hour t.
func (g *fleetGen) hour(ctx context.Context, t time.Time) error {
	comp := g.components()
	if err := g.score(ctx, "live", t, comp); err != nil {
		return err
	}
	return g.coverage(ctx, "live", t, time.Hour, comp["coverage"])
}

// day writes the score and coverage of the local day starting at day (and its
// rating, when Rated).
func (g *fleetGen) day(ctx context.Context, day time.Time) error {
	comp := g.components()
	if err := g.score(ctx, "day", day, comp); err != nil {
		return err
	}
	return g.coverage(ctx, "day", day, 24*time.Hour, comp["coverage"])
}

// night writes the round night that ended at at (06:00 local).
func (g *fleetGen) night(ctx context.Context, at time.Time) error {
	q := g.c.Quality
	due := int64(40)
	onTime := int64(math.Round(float64(due) * clamp01(q+g.rng.NormFloat64()*0.05)))
	late := (due - onTime) / 2
	missed := due - onTime - late
	return g.line("round_night", "night", at.AddDate(0, 0, -1).Format("2006-01-02")).
		i("due", due).i("on_time", onTime).i("late", late).i("missed", missed).
		f("compliance", round4(float64(onTime)/float64(due))).bool("unknown", false).at(ctx, at)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
func round4(v float64) float64 { return math.Round(v*10000) / 10000 }

// components draws the centre's score components around its quality.
func (g *fleetGen) components() map[string]float64 {
	q := g.c.Quality
	c := map[string]float64{}
	for _, k := range []string{"temperature", "availability", "coverage", "rounds", "response"} {
		c[k] = round4(clamp01(q + g.rng.NormFloat64()*0.04 + 0.03))
	}
	if g.rng.Float64() < 0.3 { // no alert to acknowledge: response is not applicable
		delete(c, "response")
	}
	return c
}

// scoreWeights are the fleet's weights (of version WeightsVersion).
var scoreWeights = map[string]float64{"temperature": 0.25, "availability": 0.2, "coverage": 0.25, "rounds": 0.2, "response": 0.1}

func (g *fleetGen) score(ctx context.Context, period string, t time.Time, comp map[string]float64) error {
	sum, wsum := 0.0, 0.0
	g.line("safety_score", "period", period)
	for _, k := range []string{"temperature", "availability", "coverage", "rounds", "response"} {
		v, ok := comp[k]
		if !ok {
			continue
		}
		sum += scoreWeights[k] * v
		wsum += scoreWeights[k]
		g.f(k, v)
	}
	total := 100 * sum / wsum
	caps := ""
	if g.rng.Float64() < (1-g.c.Quality)*0.15 {
		caps = "med-fridge-freeze"
		total = math.Min(total, 40)
	}
	if err := g.f("total", round2(total)).s("weights_version", WeightsVersion).s("caps", caps).bool("capped", caps != "").at(ctx, t); err != nil {
		return err
	}
	if period != "day" || !g.opt.Rated {
		return nil
	}
	// The ministry's rating of the day, agreeing with the gateway's score.
	g.line("rating", "period", "day")
	for _, k := range []string{"temperature", "availability", "coverage", "rounds", "response"} {
		if v, ok := comp[k]; ok {
			g.f(k, v)
		}
	}
	return g.f("total", round2(total)).bool("has_data", true).s("weights_version", WeightsVersion).s("caps", caps).bool("capped", caps != "").
		s("implausible", "").f("gateway_total", round2(total)).bool("differs", false).s("differs_in", "").emit(ctx, t)
}

func (g *fleetGen) coverage(ctx context.Context, period string, t time.Time, span time.Duration, ratio float64) error {
	for _, kind := range []string{"all", "living"} {
		r := ratio
		if kind == "living" {
			r = clamp01(ratio + 0.02)
		}
		req := span.Seconds()
		if err := g.line("coverage", "period", period, "zone_kind", kind).
			f("required_s", req).f("covered_s", math.Round(req*r)).f("ratio", round4(r)).at(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// alerts writes a few incidents: each fires, is acknowledged (mostly) and resolves;
// a poorly run centre also has a critical one still firing.
func (g *fleetGen) alerts(ctx context.Context, start, end time.Time) error {
	n := 2 + int((1-g.c.Quality)*20)
	span := end.Sub(start)
	for k := range n {
		t := start.Add(time.Duration(g.rng.Float64() * float64(span-6*time.Hour)))
		if !g.alive(t) {
			continue
		}
		kind, zone, sev := "temperature", "med-fridge", "critical"
		if k%3 == 1 {
			kind, zone, sev = "camera", "corridor-1", "warning"
		} else if k%3 == 2 {
			kind, zone, sev = "round_missed", "room-101", "warning"
		}
		id := fmt.Sprintf("%s-%s-%d", g.c.ID, kind, k)
		ack := t.Add(time.Duration(2+g.rng.IntN(40)) * time.Minute)
		res := ack.Add(time.Duration(10+g.rng.IntN(120)) * time.Minute)
		subject := zone
		if err := g.alert(ctx, kind, zone, sev, subject, "firing", id, 9.5, "", t); err != nil {
			return err
		}
		if err := g.alert(ctx, kind, zone, sev, subject, "acknowledged", id, 9.5, "director", ack); err != nil {
			return err
		}
		if err := g.alert(ctx, kind, zone, sev, subject, "resolved", id, 6.0, "", res); err != nil {
			return err
		}
	}
	if g.c.Quality < 0.75 {
		t := end.Add(-3 * time.Hour)
		if g.alive(t) {
			return g.alert(ctx, "temperature", "freezer", "critical", "freezer", "firing", g.c.ID+"-freezer-open", -9.0, "", t)
		}
	}
	return nil
}

func (g *fleetGen) alert(ctx context.Context, kind, zone, sev, subject, state, id string, value float64, ackedBy string, t time.Time) error {
	g.line("alert", "rule", kind, "severity", sev, "subject", subject, "zone", zone).s("state", state).s("id", id).f("value", value)
	if ackedBy != "" {
		g.s("acked_by", ackedBy)
	}
	return g.at(ctx, t)
}

// FleetLive continues a fleet's data past the history WriteFleet wrote, as its
// gateways would write it live: each centre through its own writer (its
// gateway's signed client), so that the monitor sees the fleet alive for as long
// as it runs.
type FleetLive struct {
	gens []*fleetGen
	step time.Duration
	next time.Time // the next step's time
}

// LiveFleet returns the live continuation of the history WriteFleet wrote with
// opt (with End set: the same options) for centres, from opt.End on, every
// step; writers[i] writes centres[i]'s points.
func LiveFleet(opt FleetOptions, centres []FleetCentre, writers []LineWriter, step time.Duration) (*FleetLive, error) {
	if opt.End.IsZero() {
		return nil, errors.New("fleet: live: the history's End is required")
	}
	if len(writers) != len(centres) {
		return nil, fmt.Errorf("fleet: live: %d writers for %d centres", len(writers), len(centres))
	}
	if step <= 0 {
		return nil, errors.New("fleet: live: step must be > 0")
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &FleetLive{step: step, next: opt.End}
	for i, c := range centres {
		g, err := newFleetGen(c, opt, rand.New(rand.NewPCG(opt.Seed+uint64(i)+1, 0x11fe)), &lineBatch{w: writers[i], max: opt.BatchSize})
		if err != nil {
			return nil, err
		}
		g.uptime = time.Duration(opt.Days) * 24 * time.Hour
		l.gens = append(l.gens, g)
	}
	return l, nil
}

// Until writes every step due up to now: per centre still alive, every zone's
// climate and a heartbeat; on each whole hour its live score and coverage; at
// each local midnight the day's score and coverage (and rating, when Rated); at
// 06:00 local the night's rounds. Each centre's points go in one request.
func (l *FleetLive) Until(ctx context.Context, now time.Time) error {
	var errs []error
	from := l.next
	for _, g := range l.gens {
		var err error
		for t := from; !t.After(now) && g.alive(t) && err == nil; t = t.Add(l.step) {
			err = g.live(ctx, t, l.step)
		}
		if err == nil {
			err = g.b.flush(ctx)
		}
		if err != nil {
			g.b.lines = g.b.lines[:0]
			errs = append(errs, fmt.Errorf("fleet: centre %s: %w", g.c.ID, err))
		}
	}
	for !l.next.After(now) {
		l.next = l.next.Add(l.step)
	}
	return errors.Join(errs...)
}

// live writes what is due at t.
func (g *fleetGen) live(ctx context.Context, t time.Time, step time.Duration) error {
	if err := g.tick(ctx, t, step); err != nil {
		return err
	}
	if t.Truncate(time.Hour).Equal(t) {
		if err := g.hour(ctx, t); err != nil {
			return err
		}
	}
	local := t.In(g.loc)
	switch midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, g.loc); {
	case t.Equal(midnight):
		return g.day(ctx, midnight.AddDate(0, 0, -1))
	case t.Equal(midnight.Add(6 * time.Hour)):
		return g.night(ctx, t)
	}
	return nil
}
