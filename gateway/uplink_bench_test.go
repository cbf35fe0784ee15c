package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// dayClock is the simulated centre-day's clock, always synchronised.
type dayClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *dayClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *dayClock) Synced() bool { return true }
func (c *dayClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// appends records what reaches the spool, one group per Append call.
type appends struct{ groups [][]telemetry.Event }

func (a *appends) Append(_ context.Context, evs ...telemetry.Event) error {
	g := slices.Clone(evs)
	for i := range g { // the caller may reuse them once Append returns, as the spool allows
		g[i].Values = slices.Clone(g[i].Values)
	}
	a.groups = append(a.groups, g)
	return nil
}

// centreDay is one simulated day of the realistic centre through the gateway's real
// reading path and checks, on a simulated clock: what the gateway appends to its
// spool, in the groups the writer would find there.
type centreDay struct {
	groups [][]telemetry.Event
	msgs   int
	busy   time.Duration // wall time inside the gateway's reading path and checks
}

// simulateCentreDay runs the demo centre with a second sensor in each zone (40
// sensors in the six formats, each at its firmware's default interval), 11 Frigate
// cameras (stats at their configured interval), and a night of rounds (22:00–06:00,
// hourly, the treatment room half-hourly), from noon to noon, ticking the checks
// every second as the gateway does. thin, when set, wraps the spool as the gateway's
// deadband does.
func simulateCentreDay(tb testing.TB, thin func(check.Appender, check.Clock) check.Appender) centreDay {
	tb.Helper()
	c := sim.NewRealisticCentre("c1", 20)
	loc := c.Config.Centre.Location
	start := time.Date(2026, 11, 20, 12, 0, 0, 0, loc)
	rounds := sim.AddRounds(c, start.Add(10*time.Hour-2*time.Minute), 8*time.Hour, time.Hour)
	cfg := c.Config
	cfg.Spool.Dir = filepath.Join(tb.TempDir(), "spool")
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	clk := &dayClock{t: start}
	g, err := New(cfg, Options{Clock: clk})
	if err != nil {
		tb.Fatal(err)
	}
	rec := &appends{}
	var app check.Appender = rec
	if thin != nil {
		app = thin(rec, clk)
	}
	ctx := context.Background()
	var day centreDay
	deliver := func(t time.Time, ms []sim.Message) {
		if len(ms) == 0 {
			return
		}
		msgs := make([]telemetry.Message, len(ms))
		for i, m := range ms {
			msgs[i] = telemetry.Message{Topic: m.Topic, Payload: m.Payload, Retained: m.Retained, Received: t}
		}
		day.msgs += len(msgs)
		t0 := time.Now()
		if err := g.readings.Batch(ctx, app, msgs); err != nil {
			tb.Fatal(err)
		}
		day.busy += time.Since(t0)
	}
	deliver(start, append(c.Availability(), c.CameraAvailability()...))
	next := make([]time.Time, len(c.Devices))
	for i, d := range c.Devices {
		// spread the devices' phases over their interval
		next[i] = start.Add(d.Sensor.Interval.Std() * time.Duration(i) / time.Duration(len(c.Devices)))
	}
	statsEvery := c.Cameras[0].Config.StatsInterval.Std()
	scans := rounds.Plan()
	for now := start; now.Before(start.Add(24 * time.Hour)); now = now.Add(time.Second) {
		clk.set(now)
		for i, d := range c.Devices {
			if !now.Before(next[i]) {
				deliver(now, c.DeviceTick(d, now))
				next[i] = next[i].Add(d.Sensor.Interval.Std())
			}
		}
		if now.Sub(start)%statsEvery == 0 {
			deliver(now, c.CameraTick(now))
		}
		for len(scans) > 0 && !scans[0].At.After(now) {
			deliver(now, []sim.Message{scans[0].Message})
			scans = scans[1:]
		}
		t0 := time.Now()
		var pts []telemetry.Event
		for _, k := range g.checks {
			if tk, ok := k.(check.Ticker); ok {
				pts = append(pts, tk.Tick(now, true)...)
			}
		}
		if len(pts) > 0 {
			if err := app.Append(ctx, pts...); err != nil {
				tb.Fatal(err)
			}
		}
		for _, k := range g.checks {
			if cm, ok := k.(check.Committer); ok {
				cm.Committed()
			}
		}
		day.busy += time.Since(t0)
	}
	day.groups = rec.groups
	return day
}

// uplink is what one centre-day costs on the uplink when the writer POSTs the
// events it finds in the spool at most once per flush period (0: every group as it
// arrives, as the writer does live).
type uplink struct {
	points, posts      int
	raw, gzip, headers int
	byMeasurement      map[string]int
}

func measureUplink(day centreDay, flush time.Duration, header int) uplink {
	u := uplink{byMeasurement: map[string]int{}}
	var pending []telemetry.Event
	var since time.Time
	post := func() {
		if len(pending) == 0 {
			return
		}
		lines, gz := influxsink.Encode("c1", pending)
		for l := range strings.Lines(lines) {
			u.points++
			m, _, _ := strings.Cut(l, ",")
			u.byMeasurement[m]++
		}
		u.posts++
		u.raw += len(lines)
		u.gzip += gz
		u.headers += header
		pending = pending[:0]
	}
	for _, g := range day.groups {
		if len(g) == 0 {
			continue
		}
		at := arrival(g)
		if flush > 0 && len(pending) > 0 && at.Sub(since) >= flush {
			post()
		}
		if len(pending) == 0 {
			since = at
		}
		pending = append(pending, g...)
		if flush == 0 {
			post()
		}
	}
	post()
	return u
}

// arrival is when a group reached the spool: the newest time in it (a day point
// carries its day's start).
func arrival(g []telemetry.Event) time.Time {
	var t time.Time
	for _, e := range g {
		if e.Time.After(t) {
			t = e.Time
		}
	}
	return t
}

// writeHeaderBytes is the size of the HTTP request head the InfluxDB client sends
// with each POST (request line and headers, without TLS framing), captured from the
// real client.
func writeHeaderBytes(tb testing.TB) int {
	tb.Helper()
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		head, err := httputil.DumpRequest(r, false)
		if err != nil {
			tb.Error(err)
		}
		n = len(head)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	cl := influxsink.NewClient(srv.URL, "saqshy-gateway:0123456789abcdef0123456789abcdef", "", "saqshy/autogen", 5*time.Second)
	defer cl.Close()
	if err := cl.WriteRecord(context.Background(), "climate,centre=c1 temperature_c=21 1\n"); err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkCentreDayUplink reports what a realistic centre writes in a day: points,
// line protocol, gzip'd bytes and POSTs, before the deadband (every event as the
// gateway wrote it before) and as the gateway writes now.
//
//	go test -run='^$' -bench=CentreDayUplink -benchtime=1x ./gateway/
func BenchmarkCentreDayUplink(b *testing.B) {
	header := writeHeaderBytes(b)
	for b.Loop() {
		dayBefore := simulateCentreDay(b, nil)
		dayAfter := simulateCentreDay(b, thinAppender)
		before := measureUplink(dayBefore, 0, header)
		after := measureUplink(dayAfter, flushEvery, header)
		b.ReportMetric(dayBefore.busy.Seconds(), "before_busy_s/day")
		b.ReportMetric(dayAfter.busy.Seconds(), "after_busy_s/day")
		b.ReportMetric(float64(dayAfter.msgs), "msgs/day")
		for _, r := range []struct {
			name string
			u    uplink
		}{{"before", before}, {"after", after}} {
			u := r.u
			b.ReportMetric(float64(u.points), r.name+"_points/day")
			b.ReportMetric(float64(u.posts), r.name+"_posts/day")
			b.ReportMetric(float64(u.gzip)/float64(u.points), r.name+"_gzip_B/point")
			b.ReportMetric(float64(u.gzip+u.headers)/1e3, r.name+"_kB/day")
			b.Logf("%s: %d points, %d POSTs, %.0f kB line protocol, %.0f kB gzip'd + %.0f kB request heads; by measurement %v",
				r.name, u.points, u.posts, float64(u.raw)/1e3, float64(u.gzip)/1e3, float64(u.headers)/1e3, u.byMeasurement)
		}
		b.ReportMetric(float64(after.points)/float64(before.points), "points_ratio")
		b.ReportMetric(float64(after.gzip+after.headers)/float64(before.gzip+before.headers), "bytes_ratio")
	}
}
