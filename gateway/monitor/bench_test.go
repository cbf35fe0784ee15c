package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

func envOr[T any](name string, def T, parse func(string) (T, error)) T {
	if v := os.Getenv(name); v != "" {
		if x, err := parse(v); err == nil {
			return x
		}
	}
	return def
}

// BenchmarkScale fills InfluxDB with SAQSHY_BENCH_CENTRES centres × 30 days of
// simulated history (climate and heartbeats every SAQSHY_BENCH_STEP) through the
// gateway's writer client, runs the rollup, and measures the server time of the
// overview and of a centre page (24 h and 7 d), warm, through the HTTP handler. It
// also times each overview query alone. Figures: docs/BENCHMARKS.md.
func BenchmarkScale(b *testing.B) {
	n := envOr("SAQSHY_BENCH_CENTRES", 100, strconv.Atoi)
	step := envOr("SAQSHY_BENCH_STEP", 10*time.Minute, time.ParseDuration)
	days := envOr("SAQSHY_BENCH_DAYS", 30, strconv.Atoi)
	in := testenv.StartInflux(b, "saqshy")
	client := influxsink.NewClient(in.URL(), "", "", in.Bucket(), 120*time.Second)
	defer client.Close()
	now := time.Now()
	t0 := time.Now()
	var lines atomic.Int64
	cw := &countLines{w: client, n: &lines}
	centres, err := sim.WriteFleet(context.Background(), cw, sim.FleetOptions{Centres: n, Days: days, Step: step, End: now, Seed: 1, SilentEvery: 50, Parallel: 3})
	if err != nil {
		b.Fatal(err)
	}
	load := time.Since(t0)
	b.Logf("loaded %d centres × %d days (step %v): %d points in %v (%.0f points/s)", n, days, step, lines.Load(), load.Round(time.Second), float64(lines.Load())/load.Seconds())
	cfg := &Config{StateDir: b.TempDir(), SilentAfter: Duration(10 * time.Minute), Attention: Attention{ScoreBelow: 70, CoverageBelow: 0.9, RoundsBelow: 0.8}}
	cfg.Influx.URL, cfg.Influx.Bucket = in.URL(), in.Bucket()
	cfg.reportLoc, _ = time.LoadLocation("Asia/Almaty")
	cfg.reportAt = 16 * 60
	cfg.Rollup.Backfill = 7
	for _, c := range centres {
		loc, _ := time.LoadLocation(c.Timezone)
		cfg.Centres = append(cfg.Centres, CentreInfo{ID: c.ID, Name: c.Name, Region: c.Region, Timezone: c.Timezone, loc: loc})
	}
	user := User{Name: "min", Role: RoleMinistry, Lang: "en"}
	cfg.Users = []User{user}
	app, err := New(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	t0 = time.Now()
	if err := app.Watcher.Poll(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("first silent-gateway poll (24 h of heartbeats): %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	hours, err := app.Rollup.Step(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("rollup backfill: %d hours in %v", hours, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	if err := app.Watcher.Poll(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("steady silent-gateway poll: %v", time.Since(t0).Round(time.Millisecond))
	tok, _ := app.Server.sess.create(&cfg.Users[0])
	h := app.Server.Handler()
	serve := func(b *testing.B, path string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tok})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
	}
	page := func(name, path string) {
		b.Run(name, func(b *testing.B) {
			serve(b, path) // warm
			for b.Loop() {
				serve(b, path)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
			b.ReportMetric(float64(n), "centres")
		})
	}
	page("overview", "/")
	page("overview-attention", "/?attention=1&sort=score")
	mid := centres[len(centres)/2].ID
	page("centre-24h", "/centre/"+mid+"?range=24h")
	page("centre-7d", "/centre/"+mid+"?range=7d")
	q := func(name string, f func() error) {
		b.Run("query-"+name, func(b *testing.B) {
			for b.Loop() {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/query")
		})
	}
	s := app.Store
	q("live", func() error { _, err := s.LiveScores(ctx); return err })
	q("yesterday", func() error {
		_, err := s.DayScores(ctx, now.Add(-48*time.Hour), now.Add(-24*time.Hour), nil)
		return err
	})
	q("month", func() error { _, err := s.MonthMeans(ctx, now.AddDate(0, 0, -30)); return err })
	q("coverage", func() error { _, err := s.LiveCoverage(ctx); return err })
	q("nights", func() error { _, err := s.LastNights(ctx); return err })
	q("critical", func() error { _, err := s.OpenCritical(ctx); return err })
	q("heartbeats-2m", func() error { _, err := s.LastSeen(ctx, time.Now().Add(-20*time.Minute)); return err })
	q("climate-7d-raw", func() error { _, err := s.Climate(ctx, mid, now.Add(-7*24*time.Hour), time.Hour, false); return err })
	q("climate-7d-rollup", func() error { _, err := s.Climate(ctx, mid, now.Add(-7*24*time.Hour), time.Hour, true); return err })
	_ = fmt.Sprint
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
