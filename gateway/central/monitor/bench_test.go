package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/central/web"
	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/webauth"
)

func envOr[T any](name string, def T, parse func(string) (T, error)) T {
	if v := os.Getenv(name); v != "" {
		if x, err := parse(v); err == nil {
			return x
		}
	}
	return def
}

// BenchmarkScale fills InfluxDB with SAQSHY_BENCH_CENTRES centres × SAQSHY_BENCH_DAYS
// days of simulated history (climate and heartbeats every SAQSHY_BENCH_STEP) through
// the gateway's writer client, runs the climate rollup and the centre_latest rollup,
// and measures the server time of the overview (from the raw measurements and from
// centre_latest) and of a centre page (24 h and 7 d), warm, through the HTTP handler,
// reporting the median of the timed runs. It also times each query alone.
//
// influxd runs with GOGC=200 GOMEMLIMIT=6GiB (testenv's default GOGC=off
// GOMEMLIMIT=1GiB collects garbage continuously once 1 GiB is reached). With
// SAQSHY_BENCH_DATA set to a directory the server's data and the monitor's state are
// kept there and reused by the next run with the same centres, days and step; the
// history then ends 2 hours after the load (so heartbeats and live scores stay
// current for the next runs within those 2 hours). Figures: docs/BENCHMARKS.md.
func BenchmarkScale(b *testing.B) {
	n := envOr("SAQSHY_BENCH_CENTRES", 100, strconv.Atoi)
	step := envOr("SAQSHY_BENCH_STEP", 10*time.Minute, time.ParseDuration)
	days := envOr("SAQSHY_BENCH_DAYS", 30, strconv.Atoi)
	dataDir := os.Getenv("SAQSHY_BENCH_DATA")
	in := testenv.StartInfluxWith(b, "saqshy", testenv.InfluxOptions{Dir: dataDir, Env: []string{"GOGC=200", "GOMEMLIMIT=6GiB"}})
	client := influxsink.NewClient(in.URL(), "", "", in.Bucket(), 120*time.Second)
	defer client.Close()
	now := time.Now()
	type fleetMark struct {
		Centres, Days int
		Step          time.Duration
		End, Loaded   time.Time
	}
	var mark fleetMark
	var centres []sim.FleetCentre
	markPath := filepath.Join(dataDir, "fleet.json")
	if dataDir != "" {
		if raw, err := os.ReadFile(markPath); err == nil && json.Unmarshal(raw, &mark) == nil &&
			mark.Centres == n && mark.Days == days && mark.Step == step {
			centres = sim.Fleet(n, 1, mark.End, 50)
			b.Logf("reusing %s: %d centres × %d days (step %v) loaded %v ago, history ends %v from now",
				dataDir, n, days, step, now.Sub(mark.Loaded).Round(time.Second), mark.End.Sub(now).Round(time.Second))
		}
	}
	if centres == nil {
		end := now
		if dataDir != "" {
			end = now.Add(2 * time.Hour)
		}
		end = end.Truncate(step)
		t0 := time.Now()
		var lines atomic.Int64
		cw := &countLines{w: client, n: &lines}
		var err error
		centres, err = sim.WriteFleet(context.Background(), cw, sim.FleetOptions{Centres: n, Days: days, Step: step, End: end, Seed: 1, SilentEvery: 50, Parallel: 3})
		if err != nil {
			b.Fatal(err)
		}
		load := time.Since(t0)
		b.Logf("loaded %d centres × %d days (step %v): %d points in %v (%.0f points/s)", n, days, step, lines.Load(), load.Round(time.Second), float64(lines.Load())/load.Seconds())
		if dataDir != "" {
			raw, _ := json.Marshal(fleetMark{Centres: n, Days: days, Step: step, End: end, Loaded: now})
			if err := os.WriteFile(markPath, raw, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	stateDir := b.TempDir()
	if dataDir != "" {
		stateDir = filepath.Join(dataDir, "monitor-state")
		if err := os.MkdirAll(stateDir, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	cfg := &Config{StateDir: stateDir, SilentAfter: Duration(10 * time.Minute), Attention: store.Attention{ScoreBelow: 70, CoverageBelow: 0.9, RoundsBelow: 0.8}}
	cfg.Influx.URL, cfg.Influx.Bucket = in.URL(), in.Bucket()
	cfg.reportLoc, _ = time.LoadLocation("Asia/Almaty")
	cfg.reportAt = 16 * 60
	cfg.Rollup.Backfill = 7
	for _, c := range centres {
		ci := store.CentreInfo{ID: c.ID, Name: c.Name, Region: c.Region, Timezone: c.Timezone}
		if err := ci.LoadLocation(); err != nil {
			b.Fatal(err)
		}
		cfg.Centres = append(cfg.Centres, ci)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	user := web.User{Name: "min", Role: web.RoleMinistry, Lang: "en", PasswordHash: string(hash)}
	cfg.Users = []web.User{user}
	app, err := New(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Now()
	if err := app.Watcher.Poll(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("first silent-gateway poll (24 h of heartbeats): %v", time.Since(t0).Round(time.Millisecond))
	mid := centres[len(centres)/2].ID
	last := centres[len(centres)-1].ID
	// climate_1h: its cost for every centre over one day (the steady state redoes
	// the last 3-4 hours every 5 minutes), then the 7-day back-fill of the centre
	// whose page is measured (its page reads only its own climate_1h series).
	allDir := filepath.Join(stateDir, "rollup-all")
	if err := os.MkdirAll(allDir, 0o755); err != nil {
		b.Fatal(err)
	}
	all := store.NewRollup(app.Store, allDir, 1, slog.New(slog.DiscardHandler), nil)
	all.SetCentres(app.Rollup.Centres())
	t0 = time.Now()
	hours, err := all.Step(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("climate_1h rollup of all %d centres: %d hours in %v", n, hours, time.Since(t0).Round(time.Millisecond))
	app.Rollup.SetCentres([]string{mid})
	t0 = time.Now()
	hours, err = app.Rollup.Step(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("climate_1h rollup of %s: %d hours in %v", mid, hours, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	if err := app.Watcher.Poll(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("steady silent-gateway poll: %v", time.Since(t0).Round(time.Millisecond))
	h := app.Server.Handler()
	tok := benchLogin(b, h, user.Name)
	serve := func(b *testing.B, path, want string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(&http.Cookie{Name: webauth.SessionCookie, Value: tok})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
		if !strings.Contains(rec.Body.String(), want) {
			b.Fatalf("%s: page lacks %q", path, want)
		}
	}
	// timed runs f warm, then once per iteration, and reports the median.
	timed := func(b *testing.B, unit string, f func()) {
		f() // warm
		var ds []time.Duration
		for b.Loop() {
			t := time.Now()
			f()
			ds = append(ds, time.Since(t))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "median-ms/"+unit)
		b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, "max-ms/"+unit)
		b.ReportMetric(float64(n), "centres")
	}
	page := func(name, path, want string) {
		b.Run(name, func(b *testing.B) { timed(b, "page", func() { serve(b, path, want) }) })
	}
	// Before: every overview scans the raw measurements (six queries).
	app.Server.ReadRawOnly(true)
	page("overview-raw", "/", `data-centre="`+last+`"`)
	app.Server.ReadRawOnly(false)
	// The centre_latest rollup: the first run writes every centre's row, later runs
	// only the rows that changed. The writer's process serves its last run from
	// memory (as Latest.Run sets it up); other replicas read centre_latest.
	app.Latest.SetSnapshotAge(2 * time.Minute)
	t0 = time.Now()
	st, err := app.Latest.Step(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("centre_latest first run: %d centres, %d points written, raw read %v, total %v (wall %v)", st.Centres, st.Written, st.Read.Round(time.Millisecond), st.Took.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	b.Run("latest-rollup-run", func(b *testing.B) {
		var written int
		timed(b, "run", func() {
			st, err := app.Latest.Step(ctx)
			if err != nil {
				b.Fatal(err)
			}
			written += st.Written
		})
		b.ReportMetric(float64(written)/float64(b.N+1), "points-written/run")
	})
	page("overview", "/", `data-source="`+web.SourceMemory+`"`)
	page("overview-attention", "/?attention=1&sort=score", `data-source="`+web.SourceMemory+`"`)
	app.Server.ReadLatestFrom(nil) // a replica: reads centre_latest from InfluxDB
	page("overview-influx", "/", `data-source="`+web.SourceInflux+`"`)
	page("overview-influx-attention", "/?attention=1&sort=score", `data-source="`+web.SourceInflux+`"`)
	app.Server.ReadLatestFrom(app.Latest)
	page("centre-24h", "/centre/"+mid+"?range=24h", mid)
	page("centre-7d", "/centre/"+mid+"?range=7d", mid)
	q := func(name string, f func() error) {
		b.Run("query-"+name, func(b *testing.B) {
			timed(b, "query", func() {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
	s := app.Store
	q("latest", func() error {
		_, _, ok, err := s.LatestOverview(ctx)
		if err == nil && !ok {
			err = fmt.Errorf("no centre_latest run")
		}
		return err
	})
	q("live", func() error { _, err := s.LiveScores(ctx); return err })
	q("yesterday", func() error {
		_, err := s.DayScores(ctx, now.Add(-48*time.Hour), now.Add(-24*time.Hour), nil)
		return err
	})
	q("month", func() error { _, err := s.MonthMeans(ctx, now.AddDate(0, 0, -30)); return err })
	q("coverage", func() error { _, err := s.LiveCoverage(ctx); return err })
	q("nights", func() error { _, err := s.LastNights(ctx); return err })
	q("critical", func() error { _, err := s.OpenCritical(ctx); return err })
	q("heartbeats-20m", func() error { _, err := s.LastSeen(ctx, time.Now().Add(-20*time.Minute)); return err })
	q("climate-7d-raw", func() error { _, err := s.Climate(ctx, mid, now.Add(-7*24*time.Hour), time.Hour, false); return err })
	q("climate-7d-rollup", func() error { _, err := s.Climate(ctx, mid, now.Add(-7*24*time.Hour), time.Hour, true); return err })
}

type countLines struct {
	w sim.LineWriter
	n *atomic.Int64
}

func (c *countLines) WriteRecord(ctx context.Context, lines ...string) error {
	for _, l := range lines {
		c.n.Add(int64(strings.Count(l, "\n") + 1))
	}
	return c.w.WriteRecord(ctx, lines...)
}

// benchLogin logs user in through the login form (password testPassword) and
// returns the session cookie's value.
func benchLogin(b *testing.B, h http.Handler, user string) string {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	var csrf *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "saqshy_login" {
			csrf = c
		}
	}
	if csrf == nil {
		b.Fatal("the login page set no CSRF cookie")
	}
	form := url.Values{"csrf": {csrf.Value}, "user": {user}, "password": {testPassword}, "next": {"/"}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == webauth.SessionCookie && c.Value != "" {
			return c.Value
		}
	}
	b.Fatalf("login as %s: %d, no session cookie", user, rec.Code)
	return ""
}
