package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// The centre_latest rollup: one compact point per centre holding everything the
// overview shows about it except the gateway's last-seen time (which the silent-gateway
// watcher keeps in memory): the latest live score and its components, yesterday's day
// score, the 30-day mean, coverage now, last night's rounds and the number of open
// critical alerts. The overview then reads one point per centre with one bounded query
// instead of scanning six measurements (docs/BENCHMARKS.md, "Monitoring room at
// scale").
//
// Schema: measurement centre_latest, tag centre, one string field "row" holding a flat
// JSON object (keys below; times in Unix nanoseconds; a key is absent when the value
// is). A row is written when it changed or latestRefresh after its last write; an
// empty object "{}" retracts a centre that vanished from the raw data. After each run
// the writer stamps centre_latest_run (fields centres, written, took_ms) — the reader
// uses the rollup only while that stamp is younger than latestRange, else it reads the
// raw measurements. The writer is the monitor's Latest loop or, on InfluxDB 2.x, the
// saqshy-centre-latest task of deploy/central/influx-setup.sh (which writes every row
// each run).
const (
	latestMeasurement    = "centre_latest"
	LatestRunMeasurement = "centre_latest_run"
	latestRefresh        = 30 * time.Minute // rewrite an unchanged row at least this often
	latestRange          = 40 * time.Minute // how far back the reader looks
)

// EncodeLatest returns r's rollup row (flat JSON).
func EncodeLatest(r *CentreRow) string {
	m := map[string]any{}
	put := func(k string, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m[k] = v
		}
	}
	score := func(p string, s Score) {
		m[p+"at"] = s.At.UnixNano()
		put(p+"total", s.Total)
		for k, v := range s.Components {
			put(p+"c."+k, v)
		}
		if s.WeightsVersion != "" {
			m[p+"wv"] = s.WeightsVersion
		}
		if s.Caps != "" {
			m[p+"caps"] = s.Caps
		}
		if s.Capped {
			m[p+"capped"] = true
		}
		if s.HasData { // rating points
			m[p+"has_data"] = true
		}
		if s.HasGateway {
			put(p+"gateway_total", s.GatewayTotal)
		}
		if s.Differs {
			m[p+"differs"] = true
		}
		if s.DiffersIn != "" {
			m[p+"differs_in"] = s.DiffersIn
		}
		if s.Implausible != "" {
			m[p+"implausible"] = s.Implausible
		}
	}
	if r.HasLive {
		score("live_", r.Live)
	}
	if r.HasYesterday {
		score("yest_", r.Yesterday)
	}
	if r.HasMonth {
		put("month", r.Month)
		put("month_days", float64(r.MonthDays))
		put("month_with_data", float64(r.MonthWithData))
	}
	if r.HasCoverage {
		put("coverage", r.Coverage)
	}
	if r.HasNight {
		n := r.Night
		m["night_at"] = n.At.UnixNano()
		m["night"] = n.Night
		m["night_due"], m["night_on_time"], m["night_late"], m["night_missed"] = n.Due, n.OnTime, n.Late, n.Missed
		put("night_compliance", n.Compliance)
		if n.Unknown {
			m["night_unknown"] = true
		}
	}
	if r.OpenCritical > 0 {
		m["open_critical"] = r.OpenCritical
	}
	b, _ := json.Marshal(m) // sorted keys: equal rows encode equally
	return string(b)
}

// decodeLatest folds one centre's rollup row into d.
func decodeLatest(d *Figures, id, row string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(row), &m); err != nil {
		return fmt.Errorf("centre_latest of %s: %w", id, err)
	}
	var err error
	// get decodes key k into dst; a null is absent, and a number or boolean may come
	// as a JSON string (the InfluxDB task writes every value as a string).
	get := func(k string, dst any) bool {
		raw, ok := m[k]
		if !ok || string(raw) == "null" {
			return false
		}
		if _, isStr := dst.(*string); !isStr && len(raw) > 0 && raw[0] == '"' {
			var s string
			if e := json.Unmarshal(raw, &s); e == nil {
				raw = json.RawMessage(s)
			}
		}
		if e := json.Unmarshal(raw, dst); e != nil && err == nil {
			err = fmt.Errorf("centre_latest of %s: %s: %w", id, k, e)
		}
		return true
	}
	score := func(p string) (Score, bool) {
		var at int64
		if !get(p+"at", &at) {
			return Score{}, false
		}
		s := Score{At: time.Unix(0, at).UTC(), Components: map[string]float64{}}
		get(p+"total", &s.Total)
		get(p+"wv", &s.WeightsVersion)
		get(p+"caps", &s.Caps)
		get(p+"capped", &s.Capped)
		get(p+"has_data", &s.HasData)
		s.HasGateway = get(p+"gateway_total", &s.GatewayTotal)
		get(p+"differs", &s.Differs)
		get(p+"differs_in", &s.DiffersIn)
		get(p+"implausible", &s.Implausible)
		for k := range m {
			if c, ok := strings.CutPrefix(k, p+"c."); ok {
				var v float64
				get(k, &v)
				s.Components[c] = v
			}
		}
		return s, true
	}
	if s, ok := score("live_"); ok {
		d.live[id] = s
	}
	if s, ok := score("yest_"); ok {
		d.days[id] = []Score{s}
	}
	var v float64
	if get("month", &v) {
		m := Month{Mean: v}
		get("month_days", &m.Days)
		get("month_with_data", &m.WithData)
		d.month[id] = m
	}
	if get("coverage", &v) {
		d.coverage[id] = v
	}
	var at int64
	if get("night_at", &at) {
		n := Night{At: time.Unix(0, at).UTC()}
		get("night", &n.Night)
		get("night_due", &n.Due)
		get("night_on_time", &n.OnTime)
		get("night_late", &n.Late)
		get("night_missed", &n.Missed)
		get("night_compliance", &n.Compliance)
		get("night_unknown", &n.Unknown)
		d.nights[id] = n
	}
	var open int
	if get("open_critical", &open) && open > 0 {
		d.open[id] = open
	}
	return err
}

// LatestOverview reads the centre_latest rollup: ok is false (and d nil) when no
// writer has stamped a run within latestRange, asOf is the latest run's time.
func (s *Store) LatestOverview(ctx context.Context) (d *Figures, asOf time.Time, ok bool, err error) {
	rng := fluxDuration(latestRange)
	var rows, runs []Row
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		rows, err = s.Query(gctx, s.from()+` |> range(start: -`+rng+`)
  |> filter(fn: (r) => r._measurement == "`+latestMeasurement+`" and r._field == "row")
  |> last()`, "centre")
		return
	})
	g.Go(func() (err error) {
		runs, err = s.Query(gctx, s.from()+` |> range(start: -`+rng+`)
  |> filter(fn: (r) => r._measurement == "`+LatestRunMeasurement+`" and r._field == "centres")
  |> last()`)
		return
	})
	if err := g.Wait(); err != nil {
		return nil, time.Time{}, false, fmt.Errorf("centre_latest: %w", err)
	}
	for _, r := range runs {
		if r.Time.After(asOf) {
			asOf = r.Time
		}
	}
	if asOf.IsZero() {
		return nil, time.Time{}, false, nil
	}
	d = newFigures()
	for _, r := range rows {
		if id := r.Centre(); id != "" {
			if err := decodeLatest(d, id, r.Str()); err != nil {
				return nil, time.Time{}, false, err
			}
		}
	}
	return d, asOf, true, nil
}

// Latest writes the centre_latest rollup from the raw measurements (the six queries
// of the raw overview), every minute by default.
type Latest struct {
	store      *Store
	centres    []CentreInfo
	defaultLoc *time.Location
	log        *slog.Logger
	now        func() time.Time

	mu      sync.Mutex
	written map[string]latestWritten // what this process last wrote per centre
	refresh chan struct{}            // Refresh's request for a run now

	snapMu  sync.Mutex
	snap    *Figures      // the last run's data, served by this process's overview
	snapAt  time.Time     // when that run started (the data's age)
	snapAge time.Duration // how old a snapshot may be served; 0: never
}

// Snapshot returns the data of the last run if it is younger than the writer's
// snapshot age (twice its interval when running), with the time that run started.
func (l *Latest) Snapshot(now time.Time) (*Figures, time.Time, bool) {
	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	if l.snap == nil || l.snapAge <= 0 || now.Sub(l.snapAt) > l.snapAge {
		return nil, time.Time{}, false
	}
	return l.snap, l.snapAt, true
}

// SetSnapshotAge sets how old a run's data this process's overview may serve from
// memory (Run sets twice its interval; 0: never).
func (l *Latest) SetSnapshotAge(d time.Duration) {
	l.snapMu.Lock()
	l.snapAge = d
	l.snapMu.Unlock()
}

// SnapshotAt is when the run whose data Snapshot serves started (zero: no run yet).
func (l *Latest) SnapshotAt() time.Time {
	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	return l.snapAt
}

// Remember records that this writer wrote row for centre id at at, as a run before
// would have: a centre remembered and no longer in the data is retracted by the
// next run.
func (l *Latest) Remember(id, row string, at time.Time) {
	l.mu.Lock()
	l.written[id] = latestWritten{row: row, at: at}
	l.mu.Unlock()
}

type latestWritten struct {
	row string
	at  time.Time
}

// NewLatest returns the centre_latest writer.
func NewLatest(store *Store, centres []CentreInfo, defaultLoc *time.Location, log *slog.Logger, now func() time.Time) *Latest {
	if now == nil {
		now = time.Now
	}
	return &Latest{store: store, centres: centres, defaultLoc: defaultLoc, log: log, now: now, written: map[string]latestWritten{}, refresh: make(chan struct{}, 1)}
}

// Refresh asks Run for a run now, without waiting for it (the rating job wrote
// days: the overview shows them at once, not an interval later). Requests made
// while a run is pending are one.
func (l *Latest) Refresh() {
	select {
	case l.refresh <- struct{}{}:
	default:
	}
}

// LatestStats describe one run of the writer.
type LatestStats struct {
	Centres int           // rows computed
	Written int           // points written (changed, due for refresh, or retracted)
	Read    time.Duration // the six raw queries
	Took    time.Duration // the whole run
}

// Step computes every centre's row from the raw measurements and writes those that
// changed (or are due for a refresh), then stamps the run.
func (l *Latest) Step(ctx context.Context) (LatestStats, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t0 := time.Now()
	now := l.now()
	d, err := fetchRaw(ctx, l.store, l.centres, l.defaultLoc, now)
	if err != nil {
		return LatestStats{}, fmt.Errorf("centre_latest: %w", err)
	}
	st := LatestStats{Read: time.Since(t0)}
	rows := Assemble(d, l.centres, nil, Attention{}, l.defaultLoc, now)
	ts := now.UnixNano()
	var lines []string
	seen := make(map[string]bool, len(rows))
	next := make(map[string]latestWritten, len(rows))
	for i := range rows {
		id := rows[i].Info.ID
		seen[id] = true
		enc := EncodeLatest(&rows[i])
		if w, ok := l.written[id]; ok && w.row == enc && now.Sub(w.at) < latestRefresh {
			next[id] = w
			continue
		}
		lines = append(lines, LatestLine(id, enc, ts))
		next[id] = latestWritten{row: enc, at: now}
	}
	var gone []string
	for id := range l.written {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		lines = append(lines, LatestLine(id, "{}", ts))
	}
	for i := 0; i < len(lines); i += 5000 {
		if err := l.store.Write(ctx, lines[i:min(i+5000, len(lines))]...); err != nil {
			return st, fmt.Errorf("centre_latest: %w", err)
		}
	}
	st.Centres, st.Written = len(rows), len(lines)
	st.Took = time.Since(t0)
	if err := l.store.Write(ctx, fmt.Sprintf("%s centres=%di,written=%di,took_ms=%di %d", LatestRunMeasurement, st.Centres, st.Written, st.Took.Milliseconds(), ts)); err != nil {
		return st, fmt.Errorf("centre_latest: %w", err)
	}
	l.written = next
	l.snapMu.Lock()
	l.snap, l.snapAt = d, now
	l.snapMu.Unlock()
	l.log.Debug("centre_latest", "centres", st.Centres, "written", st.Written, "took", st.Took)
	return st, nil
}

// LatestLine is the line protocol of centre id's centre_latest point (the format
// the saqshy-centre-latest task of deploy/central writes too).
func LatestLine(id, row string, ts int64) string {
	v := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(row)
	return fmt.Sprintf(`%s,centre=%s row="%s" %d`, latestMeasurement, escTag(id), v, ts)
}

// Run writes the rollup every interval, and at once on Refresh, until ctx ends;
// meanwhile this process's overview serves the last run's data from memory while
// it is younger than two intervals.
func (l *Latest) Run(ctx context.Context, every time.Duration) {
	l.SetSnapshotAge(2 * every)
	for {
		if st, err := l.Step(ctx); err != nil && ctx.Err() == nil {
			l.log.Error("centre_latest", "err", err)
		} else if st.Took > every/2 {
			l.log.Warn("centre_latest is slow for its interval", "took", st.Took, "every", every)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		case <-l.refresh:
		}
	}
}
