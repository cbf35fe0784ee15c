package rating

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/score"
)

// Measurement is the rating's InfluxDB measurement; only the Job writes it.
const Measurement = "rating"

// DefaultChunk is the default Options.Chunk: on the benchmark's machine 2,000
// centres in one set of queries got no answer within the store's 60-second
// timeout; 200 at a time rated them in 75–104 s, 500 at a time in 91–114 s
// (docs/BENCHMARKS.md).
const DefaultChunk = 200

// DiffersAbove is the difference between the central and the gateway's total
// beyond which a day is flagged (beyond rounding).
const DiffersAbove = 0.5

// ComponentDiffersAbove is the difference in a component (0–1) beyond which it is
// named as differing.
const ComponentDiffersAbove = 0.005

// Centres are the registered centres (the registry directory).
type Centres interface {
	Entries() []*registry.Entry
}

// DB is the InfluxDB the job reads the raw points from and writes the rating to
// (store.Store).
type DB interface {
	Query(ctx context.Context, flux string, tags ...string) ([]store.Row, error)
	Write(ctx context.Context, lines ...string) error
	Bucket() string
}

// Options configure a Job.
type Options struct {
	DB      DB
	Centres Centres
	// CloseAfter is how long after a local day ends it is first computed (default
	// 1h, the gateway's score.close_after default).
	CloseAfter time.Duration
	// KeepDays is how many closed days are recomputed every cycle for late data
	// (default 7).
	KeepDays int
	// Every is the cycle (default 15m).
	Every time.Duration
	// Chunk is how many centres one set of queries reads (default
	// DefaultChunk): a chunk's raw points are read, computed and dropped before the
	// next, which bounds the memory and each query's time.
	Chunk  int
	Now    func() time.Time
	Logger *slog.Logger
}

// Job computes and writes the rating; see the package documentation.
type Job struct {
	opt Options
	log *slog.Logger
}

// New returns a job.
func New(opt Options) (*Job, error) {
	if opt.DB == nil || opt.Centres == nil {
		return nil, errors.New("rating: no database or no registry")
	}
	if opt.CloseAfter <= 0 {
		opt.CloseAfter = time.Hour
	}
	if opt.KeepDays <= 0 {
		opt.KeepDays = 7
	}
	if opt.Every <= 0 {
		opt.Every = 15 * time.Minute
	}
	if opt.Chunk <= 0 {
		opt.Chunk = DefaultChunk
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Job{opt: opt, log: opt.Logger}, nil
}

// Run computes the rating every cycle until ctx is cancelled; a failed cycle is
// logged and retried at the next one.
func (j *Job) Run(ctx context.Context) error {
	t := time.NewTicker(j.opt.Every)
	defer t.Stop()
	for {
		if _, err := j.Cycle(ctx); err != nil && ctx.Err() == nil {
			j.log.Error("rating cycle", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Cycle computes every closed day of the last KeepDays of every registered centre
// and writes their points. It returns the days written.
func (j *Job) Cycle(ctx context.Context) ([]Day, error) {
	now := j.opt.Now()
	// Group the centres by local date: one set of queries per date and time zone.
	type group struct {
		start   time.Time
		entries []*registry.Entry
	}
	groups := map[string]*group{}
	var keys []string
	var errs []error
	for _, e := range j.opt.Centres.Entries() {
		loc, err := time.LoadLocation(e.Centre.Timezone)
		if err != nil {
			errs = append(errs, fmt.Errorf("centre %s: time zone %q: %w", e.Centre.ID, e.Centre.Timezone, err))
			continue
		}
		today, _ := score.DayBounds(now, loc)
		for k := 1; k <= j.opt.KeepDays; k++ {
			start, end := score.DayBounds(today.AddDate(0, 0, -k).Add(12*time.Hour), loc)
			if now.Before(end.Add(j.opt.CloseAfter)) {
				continue
			}
			if inst := e.Gateway.Installed; !inst.IsZero() && !end.After(inst) {
				continue // before the gateway was installed: not the centre's silence
			}
			key := start.UTC().Format(time.RFC3339) + " " + loc.String()
			g := groups[key]
			if g == nil {
				g = &group{start: start}
				groups[key] = g
				keys = append(keys, key)
			}
			g.entries = append(g.entries, e)
		}
	}
	sort.Strings(keys)
	var out []Day
	for _, k := range keys {
		g := groups[k]
		days, err := j.ComputeDays(ctx, g.entries, g.start, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lines := make([]string, 0, len(days))
		for _, d := range days {
			lines = append(lines, d.Line())
		}
		if err := j.opt.DB.Write(ctx, lines...); err != nil {
			errs = append(errs, fmt.Errorf("writing the rating of %s: %w", k, err))
			continue
		}
		out = append(out, days...)
	}
	return out, errors.Join(errs...)
}

// Day is one centre-day of the rating.
type Day struct {
	Centre  string
	Start   time.Time // the local day's start
	Result  score.Result
	Version string // weights_version
	HasData bool   // some verified reading or heartbeat in the day
	// Gateway is the gateway's own day score, nil when it wrote none.
	Gateway *store.Score
	// Implausible are the reasons of the sensors whose day's readings did not
	// vary as their zone kind does (package plausibility), in sensor order: their
	// time did not count in band.
	Implausible []string
}

// Differs reports whether the gateway's total differs beyond rounding.
func (d Day) Differs() bool {
	return d.Gateway != nil && math.Abs(d.Gateway.Total-d.Result.Total) > DiffersAbove
}

// DiffersIn names the components whose value differs from the gateway's (or that
// only one of them has), in order; empty without a gateway score.
func (d Day) DiffersIn() []string {
	if d.Gateway == nil {
		return nil
	}
	var out []string
	for c := range score.NumComponents {
		p := d.Result.Parts[c]
		g, ok := d.Gateway.Components[c.String()]
		switch {
		case p.Applicable != ok:
			out = append(out, c.String())
		case ok && math.Abs(g-p.Ratio) > ComponentDiffersAbove:
			out = append(out, c.String())
		}
	}
	return out
}

// Line is the day's `rating` point in line protocol.
func (d Day) Line() string {
	var b strings.Builder
	b.WriteString(Measurement + ",centre=" + escapeTag(d.Centre) + ",period=day ")
	f := func(k, v string) {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + v)
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	str := func(s string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"` }
	f("total", num(d.Result.Total))
	for c := range score.NumComponents {
		if p := d.Result.Parts[c]; p.Applicable {
			f(c.String(), num(p.Ratio))
		}
	}
	f("has_data", strconv.FormatBool(d.HasData))
	f("weights_version", str(d.Version))
	f("caps", str(strings.Join(d.Result.Caps, ",")))
	f("capped", strconv.FormatBool(d.Result.Capped()))
	f("implausible", str(strings.Join(d.Implausible, "; "))) // "" overwrites an earlier computation's
	if d.Gateway != nil {
		f("gateway_total", num(d.Gateway.Total))
		f("differs", strconv.FormatBool(d.Differs()))
		f("differs_in", str(strings.Join(d.DiffersIn(), ",")))
	}
	b.WriteString(" " + strconv.FormatInt(d.Start.UnixNano(), 10))
	return b.String()
}

func escapeTag(s string) string {
	return strings.NewReplacer(`,`, `\,`, `=`, `\=`, ` `, `\ `).Replace(s)
}

// Settings returns the score settings the registry entry sets: its sensors with
// their zones' kinds and their registered maximum interval, its weights and caps.
func Settings(e *registry.Entry) (score.Settings, error) {
	loc, err := time.LoadLocation(e.Centre.Timezone)
	if err != nil {
		return score.Settings{}, fmt.Errorf("centre %s: time zone %q: %w", e.Centre.ID, e.Centre.Timezone, err)
	}
	kinds := map[string]string{}
	for _, z := range e.Zones {
		kinds[z.ID] = z.Kind
	}
	set := score.Settings{Location: loc, NoCaps: e.Score.Caps == "off", WeightsVersion: e.Score.WeightsVersion}
	for _, s := range e.Sensors {
		set.Sensors = append(set.Sensors, score.Sensor{ID: s.ID, Zone: s.Zone, ZoneKind: kinds[s.Zone], Interval: s.MaxInterval.Std()})
	}
	w := e.Score.Weights
	set.Weights = score.Weights{score.CompTemperature: w.Temperature, score.CompAvailability: w.Availability,
		score.CompCoverage: w.Coverage, score.CompRounds: w.Rounds, score.CompResponse: w.Response}
	return set, nil
}

// requiredCameras are the cameras listed for the entry's required zones.
func requiredCameras(e *registry.Entry) map[string]bool {
	out := map[string]bool{}
	for _, z := range e.Zones {
		if z.Required() {
			for _, c := range z.Cameras {
				out[c] = true
			}
		}
	}
	return out
}

func hasRequiredZone(e *registry.Entry) bool {
	for _, z := range e.Zones {
		if z.Required() {
			return true
		}
	}
	return false
}

// maxHold is how far around a day readings are read: the longest silence any
// sensor of the entries is traced back for its cap (score.SilentFor or three
// intervals) plus two of its intervals (the reading that confirms the first one).
func maxHold(entries []*registry.Entry) time.Duration {
	h := 2 * time.Hour
	for _, e := range entries {
		for _, s := range e.Sensors {
			iv := s.MaxInterval.Std()
			h = max(h, max(score.SilentFor, 3*iv)+2*iv+time.Duration(score.HoldSlack*float64(iv)))
		}
	}
	return h
}
