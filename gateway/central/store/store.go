package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
)

// Store reads the centres' points from InfluxDB with Flux (the v2 query API, which
// InfluxDB 1.8 with flux-enabled, 2.x and Cloud serve) and writes the monitor's rollup.
type Store struct {
	c      influxdb2.Client
	q      api.QueryAPI
	w      api.WriteAPIBlocking
	bucket string
	now    func() time.Time // nil: relative ranges count back from the server's clock

	// The client builds its query URL on first use and reads it without a lock:
	// queries wait on first until one query has returned (built it), then run
	// freely.
	first sync.Mutex
	ready atomic.Bool
}

// NewStore returns a store for an InfluxDB server; on 1.8 bucket is "db/rp" and org
// is ignored.
func NewStore(url, token, org, bucket string) *Store {
	opts := influxdb2.DefaultOptions().SetHTTPRequestTimeout(60)
	c := influxdb2.NewClientWithOptions(url, token, opts)
	return &Store{c: c, q: c.QueryAPI(org), w: c.WriteAPIBlocking(org, bucket), bucket: bucket}
}

// SetClock makes the relative ranges of every query (range(start: -36h) and the like)
// count back from now() instead of from the InfluxDB server's clock (Flux's "option
// now"), so the queries agree with a monitor running on a given clock. nil: the
// server's clock (the default). Call it before the store is used.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// withNow returns flux with "option now" set to s.now() after its imports (an
// option must follow them), or flux unchanged when the store has no clock.
func (s *Store) withNow(flux string) string {
	if s.now == nil {
		return flux
	}
	opt := "option now = () => " + fluxTime(s.now()) + "\n"
	lines := strings.SplitAfter(flux, "\n")
	i := 0
	for i < len(lines) {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "import ") && !strings.HasPrefix(l, "//") {
			break
		}
		i++
	}
	return strings.Join(lines[:i], "") + opt + strings.Join(lines[i:], "")
}

// Close releases the client's connections.
func (s *Store) Close() { s.c.Close() }

// Row is one record of a Flux result with the columns the monitor reads.
type Row struct {
	Time  time.Time
	Field string
	Value any
	Tags  map[string]string
}

// Centre is the row's centre tag.
func (r Row) Centre() string { return r.Tags["centre"] }

// GroupPoints gathers the rows that are fields of one point (Flux returns a row
// per field): key names a row's point, start makes the point from its first row,
// and set puts each row's field into its point. It returns the keys in the order
// first seen and the points by key.
func GroupPoints[K comparable, P any](rows []Row, key func(Row) K, start func(Row, K) *P, set func(*P, Row)) ([]K, map[K]*P) {
	pts := map[K]*P{}
	var order []K
	for _, r := range rows {
		k := key(r)
		p := pts[k]
		if p == nil {
			p = start(r, k)
			pts[k] = p
			order = append(order, k)
		}
		set(p, r)
	}
	return order, pts
}

// Float is the row's value as a number: a float, an integer, or a boolean as 1 or
// 0; ok is false for anything else.
func (r Row) Float() (float64, bool) {
	switch v := r.Value.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Str is the row's value as a string.
func (r Row) Str() string {
	switch v := r.Value.(type) {
	case string:
		return v
	case nil:
		return ""
	}
	return fmt.Sprint(r.Value)
}

// Query runs a Flux script and returns its rows with the given tag columns.
func (s *Store) Query(ctx context.Context, flux string, tags ...string) ([]Row, error) {
	res, err := s.query(ctx, s.withNow(flux))
	if err != nil {
		return nil, fmt.Errorf("influx query: %w", err)
	}
	defer res.Close()
	var out []Row
	for res.Next() {
		rec := res.Record()
		r := Row{Time: rec.Time(), Field: rec.Field(), Value: rec.Value(), Tags: make(map[string]string, len(tags))}
		for _, t := range tags {
			if v, ok := rec.ValueByKey(t).(string); ok {
				r.Tags[t] = v
			}
		}
		out = append(out, r)
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("influx query: %w", err)
	}
	return out, nil
}

// query runs flux; until one query has returned, one at a time (see Store.first).
// A query that returns has built the client's query URL, or never will (a URL
// that does not parse fails every time before it is stored).
func (s *Store) query(ctx context.Context, flux string) (*api.QueryTableResult, error) {
	if !s.ready.Load() {
		s.first.Lock()
		defer s.first.Unlock()
		defer s.ready.Store(true)
	}
	return s.q.Query(ctx, flux)
}

// FluxString quotes s as a Flux string literal.
func FluxString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`).Replace(s) + `"`
}

func fluxTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (s *Store) from() string { return "from(bucket: " + FluxString(s.bucket) + ")" }

// Score is one safety_score point, or one rating point (the ministry's own
// computation of the day, gateway/central/rating).
type Score struct {
	At             time.Time
	Total          float64
	Components     map[string]float64 // absent: not applicable
	WeightsVersion string
	Caps           string
	Capped         bool

	// Rating points only.
	HasData      bool    // some verified data arrived that day
	GatewayTotal float64 // the gateway's own safety_score for the day, when HasGateway
	HasGateway   bool
	Differs      bool   // |central − gateway| > 0.5
	DiffersIn    string // the components that differ, comma-separated
	Implausible  string // why sensors were held implausible that day ("" none)
}

// ComponentNames are the score's components in display order.
var ComponentNames = []string{"temperature", "availability", "coverage", "rounds", "response"}

// Set sets the field of sc that a safety_score row carries: the total, the
// weights' version, caps, the rating's fields, or else (a number) a component.
func (sc *Score) Set(r Row) {
	switch r.Field {
	case "total":
		sc.Total, _ = r.Float()
	case "weights_version":
		sc.WeightsVersion = r.Str()
	case "caps":
		sc.Caps = r.Str()
	case "capped":
		v, _ := r.Float()
		sc.Capped = v != 0
	case "has_data":
		v, _ := r.Float()
		sc.HasData = v != 0
	case "gateway_total":
		sc.GatewayTotal, _ = r.Float()
		sc.HasGateway = true
	case "differs":
		v, _ := r.Float()
		sc.Differs = v != 0
	case "differs_in":
		sc.DiffersIn = r.Str()
	case "implausible":
		sc.Implausible = r.Str()
	default:
		if v, ok := r.Float(); ok {
			sc.Components[r.Field] = v
		}
	}
}

// scoresFrom folds safety_score rows into scores per centre and timestamp.
func scoresFrom(rows []Row) map[string][]Score {
	type key struct {
		c string
		t int64
	}
	order, idx := GroupPoints(rows,
		func(r Row) key { return key{r.Centre(), r.Time.UnixNano()} },
		func(r Row, _ key) *Score { return &Score{At: r.Time, Components: map[string]float64{}} },
		(*Score).Set)
	out := map[string][]Score{}
	for _, k := range order {
		out[k.c] = append(out[k.c], *idx[k])
	}
	for _, v := range out {
		sort.Slice(v, func(i, j int) bool { return v[i].At.Before(v[j].At) })
	}
	return out
}

// LiveScores returns each centre's latest live score of the last 6 hours.
func (s *Store) LiveScores(ctx context.Context) (map[string]Score, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: -6h)
  |> filter(fn: (r) => r._measurement == "safety_score" and r.period == "live")
  |> last()`, "centre")
	if err != nil {
		return nil, fmt.Errorf("live scores: %w", err)
	}
	return latestScores(rows), nil
}

// latestScores keeps, per centre, the score at its latest timestamp (last() runs per
// field, so fields written at different times are not mixed).
func latestScores(rows []Row) map[string]Score {
	out := map[string]Score{}
	for c, list := range scoresFrom(rows) {
		out[c] = list[len(list)-1]
	}
	return out
}

// DayScores returns the day scores of every centre (or of the given centres) whose
// timestamp lies in [from, to).
func (s *Store) DayScores(ctx context.Context, from, to time.Time, centres []string) (map[string][]Score, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: `+fluxTime(from)+`, stop: `+fluxTime(to)+`)
  |> filter(fn: (r) => r._measurement == "safety_score" and r.period == "day"`+centreFilter(centres)+`)`, "centre")
	if err != nil {
		return nil, fmt.Errorf("day scores: %w", err)
	}
	return scoresFrom(rows), nil
}

// centreFilter returns a Flux condition restricting r.centre to ids ("" for none).
func centreFilter(ids []string) string {
	if ids == nil {
		return ""
	}
	if len(ids) == 0 {
		return ` and false`
	}
	var b strings.Builder
	b.WriteString(" and (")
	for i, id := range ids {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString("r.centre == " + FluxString(id))
	}
	b.WriteString(")")
	return b.String()
}

// RatingDays returns the rating's day points (the ministry's computation, measurement
// rating) of every centre (or of the given centres) whose timestamp lies in
// [from, to).
func (s *Store) RatingDays(ctx context.Context, from, to time.Time, centres []string) (map[string][]Score, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: `+fluxTime(from)+`, stop: `+fluxTime(to)+`)
  |> filter(fn: (r) => r._measurement == "rating" and r.period == "day"`+centreFilter(centres)+`)`, "centre")
	if err != nil {
		return nil, fmt.Errorf("rating days: %w", err)
	}
	return scoresFrom(rows), nil
}

// Month is a centre's rating over the last 30 days: the mean of its day totals
// (a day without data is rated 0 and counts), the days rated and how many of them
// had data ("27/30 days with data").
type Month struct {
	Mean           float64
	Days, WithData int
}

// MonthRatings returns the rating since from of every centre (or of the given
// centres).
func (s *Store) MonthRatings(ctx context.Context, from time.Time, centres []string) (map[string]Month, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: `+fluxTime(from)+`)
  |> filter(fn: (r) => r._measurement == "rating" and r.period == "day" and (r._field == "total" or r._field == "has_data")`+centreFilter(centres)+`)`, "centre")
	if err != nil {
		return nil, fmt.Errorf("30-day rating: %w", err)
	}
	sums := map[string]float64{}
	out := map[string]Month{}
	for _, r := range rows {
		c := r.Centre()
		m := out[c]
		v, ok := r.Float()
		if !ok {
			continue
		}
		switch r.Field {
		case "total":
			sums[c] += v
			m.Days++
		case "has_data":
			if v != 0 {
				m.WithData++
			}
		}
		out[c] = m
	}
	for c, m := range out {
		if m.Days > 0 {
			m.Mean = sums[c] / float64(m.Days)
		}
		out[c] = m
	}
	return out, nil
}

// MonthMeans returns each centre's mean gateway day score (safety_score) total
// since from. The overview and the export read the rating (MonthRatings) instead.
func (s *Store) MonthMeans(ctx context.Context, from time.Time) (map[string]float64, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: `+fluxTime(from)+`)
  |> filter(fn: (r) => r._measurement == "safety_score" and r.period == "day" and r._field == "total")
  |> mean()`, "centre")
	if err != nil {
		return nil, fmt.Errorf("30-day scores: %w", err)
	}
	return floatPerCentre(rows), nil
}

// LiveCoverage returns each centre's latest overall live coverage ratio.
func (s *Store) LiveCoverage(ctx context.Context) (map[string]float64, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: -6h)
  |> filter(fn: (r) => r._measurement == "coverage" and r.period == "live" and r.zone_kind == "all" and r._field == "ratio")
  |> last()`, "centre")
	if err != nil {
		return nil, fmt.Errorf("coverage: %w", err)
	}
	return floatPerCentre(rows), nil
}

// floatPerCentre is each centre's number: the value of its last row that has one.
func floatPerCentre(rows []Row) map[string]float64 {
	out := map[string]float64{}
	for _, r := range rows {
		if v, ok := r.Float(); ok {
			out[r.Centre()] = v
		}
	}
	return out
}

// Night is one round_night point.
type Night struct {
	At                        time.Time
	Night                     string
	Due, OnTime, Late, Missed int64
	Compliance                float64
	Unknown                   bool
}

func nightsFrom(rows []Row) map[string][]Night {
	type key struct {
		c, n string
	}
	order, idx := GroupPoints(rows,
		func(r Row) key { return key{r.Centre(), r.Tags["night"]} },
		func(_ Row, k key) *Night { return &Night{Night: k.n} },
		func(n *Night, r Row) {
			if r.Time.After(n.At) {
				n.At = r.Time
			}
			v, _ := r.Float()
			switch r.Field {
			case "due":
				n.Due = int64(v)
			case "on_time":
				n.OnTime = int64(v)
			case "late":
				n.Late = int64(v)
			case "missed":
				n.Missed = int64(v)
			case "compliance":
				n.Compliance = v
			case "unknown":
				n.Unknown = v != 0
			}
		})
	out := map[string][]Night{}
	for _, k := range order {
		out[k.c] = append(out[k.c], *idx[k])
	}
	for _, v := range out {
		sort.Slice(v, func(i, j int) bool { return v[i].Night < v[j].Night })
	}
	return out
}

// LastNights returns each centre's latest round night of the last 36 hours: every
// field from that night's overall point. last() runs per series (centre, night,
// field): grouping the nights together first would take each field's last row in
// table order, which is not time order, and mix two nights' fields whenever two
// nights lie in the range (12 hours a day: from 06:00 to 18:00 local for the
// simulator's nights, stamped at 06:00). The per-zone-kind points (tag zone_kind)
// are left out: they share the night's tag and time.
func (s *Store) LastNights(ctx context.Context) (map[string]Night, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: -36h)
  |> filter(fn: (r) => r._measurement == "round_night" and not exists r.zone_kind)
  |> last()`, "centre", "night")
	if err != nil {
		return nil, fmt.Errorf("round nights: %w", err)
	}
	out := map[string]Night{}
	for c, list := range nightsFrom(rows) {
		out[c] = list[len(list)-1]
	}
	return out, nil
}

// OpenCritical returns, per centre, the number of critical alert subjects whose
// latest state in the last 30 days is not "resolved".
func (s *Store) OpenCritical(ctx context.Context) (map[string]int, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: -30d)
  |> filter(fn: (r) => r._measurement == "alert" and r.severity == "critical" and r._field == "state")
  |> last()
  |> filter(fn: (r) => r._value != "resolved")`, "centre")
	if err != nil {
		return nil, fmt.Errorf("open alerts: %w", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Centre()]++
	}
	return out, nil
}

// LastSeen returns, per centre, the time of its gateway's latest heartbeat since
// from.
func (s *Store) LastSeen(ctx context.Context, from time.Time) (map[string]time.Time, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: `+fluxTime(from)+`)
  |> filter(fn: (r) => r._measurement == "gateway" and r._field == "uptime_s")
  |> last()`, "centre")
	if err != nil {
		return nil, fmt.Errorf("gateway heartbeats: %w", err)
	}
	out := map[string]time.Time{}
	for _, r := range rows {
		if c := r.Centre(); c != "" && r.Time.After(out[c]) {
			out[c] = r.Time
		}
	}
	return out, nil
}

// Series is a chart line: points in time order.
type Series struct {
	Name   string
	Kind   string
	Points []Point
}

// Point is one chart point; Min and Max are the band around V (equal to V without one).
type Point struct {
	T           time.Time
	V, Min, Max float64
}

// Climate returns a centre's temperature per zone since from, averaged over every:
// from the hourly rollup (climate_1h) when rollup is set, else from the raw points.
func (s *Store) Climate(ctx context.Context, centre string, from time.Time, every time.Duration, rollup bool) ([]Series, error) {
	var flux string
	if rollup {
		flux = s.from() + ` |> range(start: ` + fluxTime(from) + `)
  |> filter(fn: (r) => r._measurement == "climate_1h" and r.centre == ` + FluxString(centre) + `)`
	} else {
		flux = s.from() + ` |> range(start: ` + fluxTime(from) + `)
  |> filter(fn: (r) => r._measurement == "climate" and r.centre == ` + FluxString(centre) + ` and r._field == "temperature_c")
  |> group(columns: ["zone", "zone_kind"])
  |> aggregateWindow(every: ` + fluxDuration(every) + `, fn: mean, createEmpty: false)`
	}
	rows, err := s.Query(ctx, flux, "zone", "zone_kind")
	if err != nil {
		return nil, fmt.Errorf("climate of %s: %w", centre, err)
	}
	byZone := map[string]*Series{}
	points := map[string]map[int64]*Point{}
	for _, r := range rows {
		z := r.Tags["zone"]
		sr := byZone[z]
		if sr == nil {
			sr = &Series{Name: z, Kind: r.Tags["zone_kind"]}
			byZone[z] = sr
			points[z] = map[int64]*Point{}
		}
		v, ok := r.Float()
		if !ok {
			continue
		}
		p := points[z][r.Time.UnixNano()]
		if p == nil {
			p = &Point{T: r.Time, V: v, Min: v, Max: v}
			points[z][r.Time.UnixNano()] = p
		}
		switch r.Field {
		case "min":
			p.Min = v
		case "max":
			p.Max = v
		case "mean", "temperature_c", "_value":
			p.V = v
		}
	}
	out := make([]Series, 0, len(byZone))
	for z, sr := range byZone {
		for _, p := range points[z] {
			sr.Points = append(sr.Points, *p)
		}
		sort.Slice(sr.Points, func(i, j int) bool { return sr.Points[i].T.Before(sr.Points[j].T) })
		out = append(out, *sr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func fluxDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	}
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// CoverageTimeline returns a centre's live overall coverage ratio since from.
func (s *Store) CoverageTimeline(ctx context.Context, centre string, from time.Time) ([]Point, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: `+fluxTime(from)+`)
  |> filter(fn: (r) => r._measurement == "coverage" and r.centre == `+FluxString(centre)+` and r.period == "live" and r.zone_kind == "all" and r._field == "ratio")`)
	if err != nil {
		return nil, fmt.Errorf("coverage of %s: %w", centre, err)
	}
	out := make([]Point, 0, len(rows))
	for _, r := range rows {
		if v, ok := r.Float(); ok {
			out = append(out, Point{T: r.Time, V: v, Min: v, Max: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].T.Before(out[j].T) })
	return out, nil
}

// Nights returns a centre's round nights since from (the overall points; the
// gateway's per-zone-kind points carry a zone_kind tag).
func (s *Store) Nights(ctx context.Context, centre string, from time.Time) ([]Night, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: `+fluxTime(from)+`)
  |> filter(fn: (r) => r._measurement == "round_night" and r.centre == `+FluxString(centre)+` and not exists r.zone_kind)`, "centre", "night")
	if err != nil {
		return nil, fmt.Errorf("round nights of %s: %w", centre, err)
	}
	return nightsFrom(rows)[centre], nil
}

// Incident is one alert's history.
type Incident struct {
	ID, Kind, Zone, Severity, Subject string
	Fired, Acked, Resolved            time.Time
	AckedBy                           string
	Value                             float64
	State                             string
}

// Alerts returns a centre's alert incidents since from, newest first.
func (s *Store) Alerts(ctx context.Context, centre string, from time.Time) ([]Incident, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: `+fluxTime(from)+`)
  |> filter(fn: (r) => r._measurement == "alert" and r.centre == `+FluxString(centre)+`)`, "rule", "zone", "severity", "subject")
	if err != nil {
		return nil, fmt.Errorf("alerts of %s: %w", centre, err)
	}
	// Fields of one point share a timestamp and series; collect them per point.
	type pkey struct {
		t                int64
		kind, zone, subj string
	}
	type pt struct {
		Row
		state, id, ackedBy string
		value              float64
	}
	order, pts := GroupPoints(rows,
		func(r Row) pkey { return pkey{r.Time.UnixNano(), r.Tags["rule"], r.Tags["zone"], r.Tags["subject"]} },
		func(r Row, _ pkey) *pt { return &pt{Row: r} },
		func(p *pt, r Row) {
			switch r.Field {
			case "state":
				p.state = r.Str()
			case "id":
				p.id = r.Str()
			case "acked_by":
				p.ackedBy = r.Str()
			case "value":
				p.value, _ = r.Float()
			}
		})
	sort.Slice(order, func(i, j int) bool { return order[i].t < order[j].t })
	byID := map[string]*Incident{}
	var ids []string
	for _, k := range order {
		p := pts[k]
		id := p.id
		if id == "" {
			id = k.kind + "/" + k.subj
		}
		in := byID[id]
		if in == nil {
			in = &Incident{ID: id, Kind: k.kind, Zone: k.zone, Severity: p.Tags["severity"], Subject: k.subj}
			byID[id] = in
			ids = append(ids, id)
		}
		in.State = p.state
		switch p.state {
		case "firing":
			if in.Fired.IsZero() {
				in.Fired, in.Value = p.Time, p.value
			}
		case "acknowledged":
			if in.Acked.IsZero() {
				in.Acked, in.AckedBy = p.Time, p.ackedBy
			}
		case "resolved":
			in.Resolved = p.Time
		}
	}
	out := make([]Incident, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		out = append(out, *byID[ids[i]])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Fired.After(out[j].Fired) })
	return out, nil
}

// Write writes line protocol (the rollup).
func (s *Store) Write(ctx context.Context, lines ...string) error {
	if len(lines) == 0 {
		return nil
	}
	if err := s.w.WriteRecord(ctx, lines...); err != nil {
		return fmt.Errorf("influx write: %w", err)
	}
	return nil
}

// Ping reports whether InfluxDB answers.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.c.Ping(ctx)
	if err != nil {
		return fmt.Errorf("influx ping: %w", err)
	}
	if !ok {
		return fmt.Errorf("influx ping: not ready")
	}
	return nil
}

// Bucket is the bucket the store reads ("db/rp" on 1.8).
func (s *Store) Bucket() string { return s.bucket }
