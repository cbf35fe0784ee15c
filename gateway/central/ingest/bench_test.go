package ingest_test

// The ingest at national scale (issue 15, docs/BENCHMARKS.md): a load generator
// that behaves like N gateways drives one saqshy-ingest process (this test binary
// re-executed as `saqshy-ingest serve`, so that its CPU is its own) in front of
// InfluxDB 1.8.10, both on this machine.
//
//	make bench-ingest GATEWAYS=2000,20000 BENCH_SECONDS=180 [BATCH_SECONDS=10]
//
// Each simulated gateway has its own Ed25519 key (in the ingest's keys file) and
// its own chain, and sends a batch every 10 s (SAQSHY_BENCH_BATCH_SECONDS; phases
// spread evenly) holding the
// points its centre made since the last one: per minute 20 climate readings
// (temperature, and humidity where the zone kind has it), 4 device points, 4
// camera points, a heartbeat (telemetry.Heartbeat's fields) and a live coverage
// point: 30 points a minute, the middle of docs/SCALING.md's 30–60. A gateway
// sends one request at a time; when an answer is late, the next batch carries
// everything since, as the spool does.
//
// The regional outage, time-compressed: a share of the gateways (every 10th) were
// cut off `outage` before the run (their heads in the ingest say last contact then;
// nothing else of the ingest is touched). Half-way through the run they all come
// back within 10 s: each sends its live batch first, then its whole backlog in
// batches of 5,000 points (influx.batch_size), back to back, then goes on live. So
// an hour's backlog of a region arrives in seconds, as after a real outage, without
// waiting the hour.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/ingest"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// childEnv makes the test binary serve as the ingest, as `saqshy-ingest serve`
// does (keys file, InfluxDB forwarder, ingest.New, an http.Server), with the
// listen address, InfluxDB URL and bucket, archive, heads and keys it holds
// (tab-separated), instead of running the tests.
const childEnv = "SAQSHY_INGEST_BENCH_CHILD"

// openEnv: the child's open_centres (the number of gateways of the run).
const openEnv = "SAQSHY_INGEST_BENCH_OPEN_CENTRES"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		os.Exit(childServe(strings.Split(args, "\t")))
	}
	os.Exit(m.Run())
}

func childServe(a []string) int {
	if len(a) != 6 {
		fmt.Fprintf(os.Stderr, "%s: want 6 tab-separated values, got %d\n", childEnv, len(a))
		return 2
	}
	keys, err := ingest.LoadKeys(a[5])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Configured as docs/SCALING.md advises: every centre it serves kept open, and
	// an open-file limit to match (LimitNOFILE in the unit; here, as root, raised).
	open, _ := strconv.Atoi(os.Getenv(openEnv))
	if open > 0 {
		want := uint64(3*open + 4096)
		var rl syscall.Rlimit
		if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < want {
			rl.Cur, rl.Max = want, max(rl.Max, want)
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
				fmt.Fprintf(os.Stderr, "bench: raise the open-file limit to %d: %v (open_centres will be lowered)\n", want, err)
			}
		}
	}
	srv, err := ingest.New(ingest.Config{Keys: keys, ArchiveDir: a[3], HeadsDir: a[4], OpenCentres: open,
		Forward: &ingest.Influx{URL: a[1], Bucket: a[2], Client: &http.Client{Timeout: 30 * time.Second}},
		Log:     slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	hs := &http.Server{Addr: a[0], Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	if p := os.Getenv("SAQSHY_BENCH_CPUPROFILE"); p != "" {
		// The ingest's profile from SIGUSR1 (sent when the steady window begins:
		// without the first contacts' files being made) to SIGTERM.
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		sig := make(chan os.Signal, 2)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGUSR1)
		go func() {
			for s := range sig {
				if s == syscall.SIGUSR1 {
					pprof.StartCPUProfile(f)
					continue
				}
				pprof.StopCPUProfile()
				f.Close()
				os.Exit(0)
			}
		}()
	}
	fmt.Fprintln(os.Stderr, hs.ListenAndServe())
	return 1
}

// startChild starts this test binary as an ingest on addr (childServe), its output
// appended to logPath, and waits until it answers /ping.
func startChild(tb testing.TB, addr string, in *testenv.Influx, archive, heads, keysPath, logPath string, openCentres int) *exec.Cmd {
	tb.Helper()
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		tb.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join([]string{addr, in.URL(), in.Bucket(), archive, heads, keysPath}, "\t"),
		fmt.Sprintf("%s=%d", openEnv, openCentres))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/ping"); err == nil {
			resp.Body.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			tb.Fatalf("the ingest on %s did not start (log %s)", addr, logPath)
		}
	}
}

func benchEnvInt(name string, def int) []int {
	v := os.Getenv(name)
	if v == "" {
		return []int{def}
	}
	var out []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			panic(fmt.Sprintf("%s: %q is not a positive whole number", name, s))
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkIngestNational runs the load for each gateway count in
// SAQSHY_BENCH_GATEWAYS (default 2000) for SAQSHY_BENCH_SECONDS (default 90), the
// outage SAQSHY_BENCH_OUTAGE_MIN minutes long (default 60), each gateway sending a
// batch every SAQSHY_BENCH_BATCH_SECONDS (default 10). The steady window starts
// SAQSHY_BENCH_WARM_SECONDS into the run (default 70: after every series of every
// centre has had its first point, so that InfluxDB's cost of making 30 series per
// centre is not counted as its steady cost per point) and ends half-way, when the
// outage's gateways come back. Run with -benchtime=1x.
func BenchmarkIngestNational(b *testing.B) {
	secs := benchEnvInt("SAQSHY_BENCH_SECONDS", 90)[0]
	outage := time.Duration(benchEnvInt("SAQSHY_BENCH_OUTAGE_MIN", 60)[0]) * time.Minute
	every := time.Duration(benchEnvInt("SAQSHY_BENCH_BATCH_SECONDS", 10)[0]) * time.Second
	warm := time.Duration(benchEnvInt("SAQSHY_BENCH_WARM_SECONDS", 70)[0]) * time.Second
	for _, n := range benchEnvInt("SAQSHY_BENCH_GATEWAYS", 2000) {
		b.Run(fmt.Sprintf("gateways=%d/batch=%v", n, every), func(b *testing.B) {
			for range b.N {
				runLoad(b, load{gateways: n, dur: time.Duration(secs) * time.Second, outage: outage, every: every, warm: warm})
			}
		})
	}
}

// procCPU returns a process's user+system CPU time from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

// influxdPID finds the influxd testenv started for in (its config is in in.Dir).
func influxdPID(b *testing.B, in *testenv.Influx) int {
	conf := filepath.Join(in.Dir, "influxdb.conf")
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmd, []byte(conf)) {
			return pid
		}
	}
	b.Fatal("influxd's process not found")
	return 0
}

// zone kinds of the simulated centre's 20 climate sensors, as gateway/sim's plan.
var benchZones = []struct{ id, kind string }{
	{"room-101", "living"}, {"room-102", "living"}, {"room-103", "living"}, {"room-104", "living"},
	{"room-201", "living"}, {"room-202", "children-bedroom"}, {"treatment", "medical"}, {"med-fridge", "med-fridge"},
	{"dining", "dining"}, {"kitchen", "kitchen"}, {"food-fridge", "food-fridge"}, {"freezer", "freezer"},
	{"play", "play"}, {"activity", "activity"}, {"corridor-1", "corridor"}, {"corridor-2", "corridor"},
	{"entrance", "entrance"}, {"boiler", "boiler"}, {"bath-1", "bathroom"}, {"cool-room", "cool-room"},
}

const pointsPerMinute = 30

// genLines appends the points centre made in [from, to): point k of a minute is at
// k×2 s into it, so a 10 s batch holds 5 points.
func genLines(buf []byte, centre string, from, to time.Time, start time.Time) ([]byte, int) {
	n := 0
	step := time.Minute / pointsPerMinute
	t := from.Truncate(step)
	if t.Before(from) {
		t = t.Add(step)
	}
	for ; t.Before(to); t = t.Add(step) {
		k := int(t.Sub(t.Truncate(time.Minute)) / step)
		ts := strconv.FormatInt(t.UnixNano(), 10)
		sec := t.Unix()
		switch {
		case k < 20:
			z := benchZones[k]
			buf = fmt.Appendf(buf, "climate,centre=%s,sensor=%s-t,source=zigbee2mqtt,zone=%s,zone_kind=%s temperature_c=%.2f", centre, z.id, z.id, z.kind, 20+float64(sec%700)/100)
			if z.kind != "freezer" && z.kind != "boiler" {
				buf = fmt.Appendf(buf, ",humidity_pct=%.2f", 40+float64(sec%1000)/100)
			}
		case k < 24:
			z := benchZones[(k-20)*5]
			buf = fmt.Appendf(buf, "device,centre=%s,sensor=%s-t,zone=%s battery_pct=%di,linkquality=%di,online=true", centre, z.id, z.id, 60+sec%40, 80+sec%100)
		case k < 28:
			buf = fmt.Appendf(buf, "camera,centre=%s,camera=cam-%d,zone=%s online=true,latency_ms=%di", centre, k-23, benchZones[(k-24)*4].id, 20+sec%30)
		case k == 28:
			buf = append(buf, "gateway,centre="...)
			buf = append(buf, centre...)
			hb := telemetry.Heartbeat{Uptime: t.Sub(start), MQTTConnected: true, ClockSynced: true, InfluxOK: true, RegistryVersion: 1, ConfigHash: "bench-" + centre}
			for i, f := range hb.Fields() {
				if i == 0 {
					buf = append(buf, ' ')
				} else {
					buf = append(buf, ',')
				}
				buf = append(buf, f.String()...)
			}
		default:
			buf = fmt.Appendf(buf, "coverage,centre=%s,period=live ratio=%.3f,required=12i,covered=%di", centre, 0.9+float64(sec%10)/100, 11+sec%2)
		}
		buf = append(append(append(buf, ' '), ts...), '\n')
		n++
	}
	return buf, n
}

type benchGW struct {
	id     string
	key    ed25519.PrivateKey
	seq    uint64
	prev   chain.Hash
	outage bool
}

// counters of one phase of the run.
type phase struct {
	points, requests, refused atomic.Int64
	mu                        sync.Mutex
	lat                       []time.Duration
}

func (p *phase) add(points int, d time.Duration, ok bool) {
	if !ok {
		p.refused.Add(1)
		return
	}
	p.points.Add(int64(points))
	p.requests.Add(1)
	p.mu.Lock()
	p.lat = append(p.lat, d)
	p.mu.Unlock()
}

func (p *phase) pct(q float64) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lat) == 0 {
		return 0
	}
	s := slices.Clone(p.lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// load is one run's shape: gateways sending a batch every `every` for dur, the
// steady window from warm to dur/2, the outage's gateways cut off outage before.
type load struct {
	gateways           int
	dur, outage, every time.Duration
	warm               time.Duration
}

func runLoad(b *testing.B, ld load) {
	n, dur, outage, every := ld.gateways, ld.dur, ld.outage, ld.every
	in := testenv.StartInflux(b, "centres")
	ipid := influxdPID(b, in)
	dir := b.TempDir()
	heads, archive := filepath.Join(dir, "heads"), filepath.Join(dir, "archive")
	os.MkdirAll(heads, 0o750)
	gws := make([]*benchGW, n)
	var keys bytes.Buffer
	t0 := time.Now()
	for i := range gws {
		seed := make([]byte, ed25519.SeedSize)
		binary.BigEndian.PutUint64(seed, uint64(i)+1)
		g := &benchGW{id: fmt.Sprintf("kz-%05d", i), key: ed25519.NewKeyFromSeed(seed), outage: i%10 == 9}
		gws[i] = g
		fmt.Fprintf(&keys, "%s %s\n", g.id, chain.PublicKeyString(g.key.Public().(ed25519.PublicKey)))
		if g.outage { // cut off `outage` ago: the ingest last heard from it then
			hd, _ := json.Marshal(ingest.Head{Centre: g.id, LastContact: t0.Add(-outage).UTC()})
			if err := os.WriteFile(filepath.Join(heads, g.id+".json"), hd, 0o640); err != nil {
				b.Fatal(err)
			}
		}
	}
	keysPath := filepath.Join(dir, "keys")
	os.WriteFile(keysPath, keys.Bytes(), 0o600)
	port := testenv.FreePort(b)
	cmd := startChild(b, fmt.Sprintf("127.0.0.1:%d", port), in, archive, heads, keysPath, filepath.Join(dir, "ingest.log"), n)
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		MaxConnsPerHost: 1000, MaxIdleConnsPerHost: 1000, DialContext: (&net.Dialer{}).DialContext}}

	var warm, steady, burstLive, backlog phase
	var backlogPoints, backlogPending atomic.Int64
	var drained atomic.Int64 // unix ns when the last backlog batch was accepted
	start := time.Now()
	comeback := start.Add(dur / 2)
	steadyFrom := start.Add(ld.warm) // after every gateway's first contact and every series' first point
	if ld.warm >= dur/2 {
		b.Fatalf("warm-up %v leaves no steady window before the comeback at %v", ld.warm, dur/2)
	}
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(dur))
	defer cancel()

	send := func(g *benchGW, body []byte, points int) (time.Duration, bool) {
		l := chain.Link{Centre: g.id, Seq: g.seq + 1, Prev: g.prev, Body: chain.BodyHash(body), Precision: "ns"}
		l.Sign(g.key)
		t := time.Now()
		for {
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v2/write?org=ministry&bucket=centres&precision=ns", bytes.NewReader(body))
			l.SetHeaders(req.Header)
			req.Header.Set("Content-Type", "text/plain; charset=utf-8")
			resp, err := client.Do(req)
			if err != nil {
				if ctx.Err() != nil {
					return 0, false
				}
				time.Sleep(time.Second) // as the gateway: the same link again
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				g.seq, g.prev = l.Seq, l.Hash()
				return time.Since(t), true
			}
			if resp.StatusCode >= 500 && ctx.Err() == nil { // as the gateway: 5xx is retried
				time.Sleep(time.Second)
				continue
			}
			b.Errorf("%s link %d: %d %s", g.id, l.Seq, resp.StatusCode, resp.Header.Get("X-Saqshy-Reason"))
			return time.Since(t), false
		}
	}
	phaseAt := func(t time.Time) *phase {
		switch {
		case t.Before(steadyFrom):
			return &warm
		case t.Before(comeback):
			return &steady
		default:
			return &burstLive
		}
	}
	var wg sync.WaitGroup
	for i, g := range gws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			offset := time.Duration(i) * every / time.Duration(n)
			next := start.Add(offset)
			covered := next.Add(-every)
			if g.outage {
				next = comeback.Add(offset)
				covered = t0.Add(-outage)
				backlogPending.Add(1)
			}
			var buf []byte
			for first := true; ; first = false {
				if d := time.Until(next); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				}
				if ctx.Err() != nil {
					return
				}
				now := time.Now()
				from := covered
				if g.outage && first {
					from = now.Add(-every) // the live lane first
				}
				var pts int
				buf, pts = genLines(buf[:0], g.id, from, now, t0)
				lat, ok := send(g, buf, pts)
				if !ok && ctx.Err() != nil {
					return // the run ended during the request
				}
				phaseAt(now).add(pts, lat, ok)
				if g.outage && first { // then the backlog, oldest first, 5,000 points a batch
					for t := covered; t.Before(from) && ctx.Err() == nil; {
						end := t.Add(5000 * time.Minute / pointsPerMinute)
						if end.After(from) {
							end = from
						}
						buf, pts = genLines(buf[:0], g.id, t, end, t0)
						lat, ok := send(g, buf, pts)
						if !ok && ctx.Err() != nil {
							return
						}
						backlog.add(pts, lat, ok)
						backlogPoints.Add(int64(pts))
						t = end
					}
					if ctx.Err() == nil && backlogPending.Add(-1) == 0 {
						drained.Store(time.Now().UnixNano())
					}
				}
				covered = now
				next = next.Add(every)
				if next.Before(time.Now()) {
					next = time.Now() // late: the next batch at once, carrying everything since
				}
			}
		}()
	}
	// CPU of both processes at the phase boundaries.
	type cpu struct{ ingest, influx, gen time.Duration } // gen: this process, the load generator
	sample := func() cpu {
		a, err1 := procCPU(cmd.Process.Pid)
		c, err2 := procCPU(ipid)
		g, err3 := procCPU(os.Getpid())
		if err1 != nil || err2 != nil || err3 != nil {
			b.Fatalf("cpu: %v %v %v", err1, err2, err3)
		}
		return cpu{a, c, g}
	}
	time.Sleep(time.Until(steadyFrom))
	c1, w1 := sample(), time.Now()
	cmd.Process.Signal(syscall.SIGUSR1) // the profile starts (SAQSHY_BENCH_CPUPROFILE)
	time.Sleep(time.Until(comeback))
	c2, w2 := sample(), time.Now()
	<-ctx.Done()
	c3, w3 := sample(), time.Now()
	wg.Wait()

	// The ingest's view: every accepted point counted, no gap, no refusal.
	resp, err := http.Get(base + "/centres")
	if err != nil {
		b.Fatal(err)
	}
	var hs []ingest.Head
	json.NewDecoder(resp.Body).Decode(&hs)
	resp.Body.Close()
	var headPoints, gaps, refused uint64
	for _, h := range hs {
		headPoints += h.Points
		gaps += h.GapsTotal
		for _, r := range h.Refused {
			refused += r
		}
	}
	sent := warm.points.Load() + steady.points.Load() + burstLive.points.Load() + backlog.points.Load()
	if headPoints < uint64(sent) || gaps != 0 || refused != 0 {
		b.Errorf("ingest heads: %d points (generator saw %d accepted), %d gaps, %d refused", headPoints, sent, gaps, refused)
	}

	us := func(d time.Duration, k int64) float64 {
		if k == 0 {
			return 0
		}
		return float64(d.Microseconds()) / float64(k)
	}
	report := func(name string, p *phase, extra *phase, c0, c1 cpu, wall time.Duration) {
		pts, reqs := p.points.Load(), p.requests.Load()
		if extra != nil {
			pts += extra.points.Load()
			reqs += extra.requests.Load()
		}
		di, dx := c1.ingest-c0.ingest, c1.influx-c0.influx
		ratio := 0.0
		if dx > 0 {
			ratio = float64(di) / float64(dx)
		}
		// One core of ingest serves this many gateways at this run's cost per
		// request, a gateway sending a batch every `every`.
		perCore := 0.0
		if di > 0 {
			perCore = float64(reqs) / di.Seconds() * every.Seconds()
		}
		b.Logf("%-6s gateways=%d wall=%.1fs verified=%.0f points/s (%.0f req/s) | ingest %.1f µs/point %.0f µs/request, %.0f%% of a core | influxd %.1f µs/point | ingest/influxd CPU %.2f | generator %.0f%% of a core | live latency p50 %v p99 %v | refused %d | one ingest core serves %.0f gateways",
			name, n, wall.Seconds(), float64(pts)/wall.Seconds(), float64(reqs)/wall.Seconds(), us(di, pts), us(di, reqs), 100*di.Seconds()/wall.Seconds(),
			us(dx, pts), ratio, 100*(c1.gen-c0.gen).Seconds()/wall.Seconds(), p.pct(0.5).Round(100*time.Microsecond), p.pct(0.99).Round(100*time.Microsecond), p.refused.Load(), perCore)
		if name == "steady" {
			b.ReportMetric(float64(pts)/wall.Seconds(), "points/s")
			b.ReportMetric(us(di, pts), "ingest-µs/point")
			b.ReportMetric(us(di, reqs), "ingest-µs/req")
			b.ReportMetric(ratio, "ingest/influxd-cpu")
			b.ReportMetric(float64(p.pct(0.99).Microseconds())/1000, "p99-ms")
			b.ReportMetric(perCore, "gateways/core")
		}
	}
	report("steady", &steady, nil, c1, c2, w2.Sub(w1))
	report("burst", &burstLive, &backlog, c2, c3, w3.Sub(w2))
	drain := "not drained before the run ended"
	if d := drained.Load(); d != 0 {
		drain = fmt.Sprintf("drained in %.1fs", time.Unix(0, d).Sub(comeback).Seconds())
	}
	b.Logf("burst  %d gateways back after %v: backlog %d points in %d requests (p50 %v, p99 %v), %s; live requests meanwhile: p50 %v p99 %v, %d refused",
		n/10, outage, backlogPoints.Load(), backlog.requests.Load(), backlog.pct(0.5).Round(time.Millisecond), backlog.pct(0.99).Round(time.Millisecond),
		drain, burstLive.pct(0.5).Round(100*time.Microsecond), burstLive.pct(0.99).Round(100*time.Microsecond), burstLive.refused.Load())
	if f, err := os.Open(filepath.Join(dir, "ingest.log")); err == nil {
		sc := bufio.NewScanner(f)
		for i := 0; sc.Scan() && i < 5; i++ {
			if strings.Contains(sc.Text(), "level=ERROR") {
				b.Logf("ingest log: %s", sc.Text())
			}
		}
		f.Close()
	}
}
