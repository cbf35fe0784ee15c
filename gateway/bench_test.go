package gateway_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

// End-to-end benchmarks (docs/BENCHMARKS.md): the gateway binary and a bare paho
// subscriber (internal/baresub) run as separate processes against a real Mosquitto
// and a real InfluxDB 1.8, so that each one's CPU time and peak RSS are its own.
// One iteration is one whole scenario; run them with -benchtime=1x:
//
//	go test -run='^$' -bench=. -benchtime=1x -count=3 -timeout=60m ./gateway/
var (
	benchMessages  = flag.Int("bench.messages", 200_000, "messages per end-to-end benchmark run (a multiple of -bench.sensors)")
	benchRelease   = flag.Bool("bench.release", true, "build the gateway as `make release` builds the Pi's binary (-tags nodemo, stripped); false: a plain go build")
	benchSensors   = flag.Int("bench.sensors", 200, "Zigbee2MQTT sensors (topics) in the end-to-end benchmarks")
	benchProfile   = flag.String("bench.gateway-cpuprofile", "", "write the measured gateway process's CPU profile to `prefix`-<scenario>.pprof")
	benchEnvVars   = flag.String("bench.gateway-env", "", "space-separated VAR=value pairs added to the measured gateway process's environment (e.g. GOGC=50), after the Pi's unit's (-bench.unit-env)")
	benchUnitEnv   = flag.Bool("bench.unit-env", true, "give the gateway the Environment= of the Pi's systemd unit (deploy/pi/saqshy-gateway.service), as the arm64 build runs")
	benchBatch     = flag.Int("bench.influx-batch", 0, "the gateway's influx.batch_size (0: the default)")
	benchBins      = flag.String("bench.bin", "", "`dir` holding prebuilt saqshy-gateway and baresub binaries (a Pi without Go); default: go build them")
	benchMemProf   = flag.String("bench.gateway-memprofile", "", "write the measured gateway process's heap profile at its stop to `prefix`-<scenario>.pprof, and, in a drain, what is live every 2 s to prefix-drain.pprof.N")
	benchBareProf  = flag.String("bench.bare-cpuprofile", "", "write the measured bare subscriber's CPU profile to `prefix`-<scenario>.pprof")
	benchBareOrder = flag.Bool("bench.bare-order-matters", false, "run the bare subscriber with SetOrderMatters(true), as the gateway's source, instead of paho's goroutine per message")
	benchTelegraf  = flag.String("bench.telegraf", "../.tools/bin/telegraf", "Telegraf binary the drain benchmark runs beside the gateway (`make telegraf` builds it); empty: leave Telegraf out")
)

// figures are one scenario's results, by metric unit.
type figures map[string]float64

// results accumulates the figures of a benchmark's iterations.
type results []figures

// add adds one run's figures with its ratios, each taken within the run: the
// gateway's rate and CPU to the bare subscriber's, and, when Telegraf ran, the
// gateway's rate, CPU per message and peak RSS to Telegraf's.
func (r *results) add(b *testing.B, f figures) {
	f["rate_ratio"] = f["gateway_points/s"] / f["bare_msgs/s"]
	f["cpu_ratio"] = f["gateway_cpu_s/100k"] / f["bare_cpu_s/100k"]
	if _, ok := f["telegraf_msgs/s"]; ok {
		f["tg_rate_ratio"] = f["gateway_points/s"] / f["telegraf_msgs/s"]
		f["tg_cpu_ratio"] = f["gateway_cpu_s/100k"] / f["telegraf_cpu_s/100k"]
		f["tg_rss_ratio"] = f["gateway_peak_rss_MB"] / f["telegraf_peak_rss_MB"]
	}
	keys := slices.Sorted(maps.Keys(f))
	var line strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&line, " %s=%.4g", k, f[k])
	}
	b.Logf("run %d:%s", len(*r)+1, line.String())
	*r = append(*r, f)
}

// report reports the median over the runs of every figure and ratio.
func (r results) report(b *testing.B) {
	b.ReportMetric(0, "ns/op") // one op is a whole scenario, servers' start-up included
	for k := range r[0] {
		vs := make([]float64, 0, len(r))
		for _, f := range r {
			vs = append(vs, f[k])
		}
		b.ReportMetric(median(vs), k)
	}
}

func median(vs []float64) float64 {
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// BenchmarkDrainPrequeued: -bench.messages Zigbee2MQTT messages at QoS 1 over
// -bench.sensors topics are queued by Mosquitto for the gateway's persistent session
// and for a bare subscriber's (and Telegraf's, see -bench.telegraf); each then drains
// its queue, the bare subscriber first, then the gateway and Telegraf, whose order
// alternates from run to run, each until InfluxDB holds every reading.
func BenchmarkDrainPrequeued(b *testing.B) {
	bins := buildBenchBinaries(b)
	var r results
	for b.Loop() {
		r.add(b, drainPrequeued(b, bins, len(r)%2 == 1))
	}
	r.report(b)
}

// BenchmarkLive: a publisher sends -bench.messages messages at full speed while the
// consumer runs: first to a bare subscriber, then, on a fresh broker, to the gateway.
func BenchmarkLive(b *testing.B) {
	bins := buildBenchBinaries(b)
	var r results
	for b.Loop() {
		r.add(b, live(b, bins))
	}
	r.report(b)
}

// startBroker starts Mosquitto with the in-flight window firmware-config ships (1000)
// and persistence off: testenv's 1 s autosave (for the restart tests) would write the
// whole queue to disk every second and take a core from the processes measured.
// Sessions still persist in memory while the broker runs.
func startBroker(b *testing.B) (*testenv.Mosquitto, *server) {
	mq := testenv.StartMosquitto(b, testenv.MosquittoOptions{MaxInflight: 1000, Extra: "persistence false\n"})
	return mq, findServer(b, "mosquitto", mq.Dir)
}

func startDatabase(b *testing.B) (*testenv.Influx, *server) {
	in := testenv.StartInflux(b, "saqshy")
	return in, findServer(b, "influxd", in.Dir)
}

func bareArgs(url, clientID string, n int, extra ...string) []string {
	args := []string{"--url", url, "--client-id", clientID, "--topic", "zigbee2mqtt/#", "--n", fmt.Sprint(n)}
	if *benchBareOrder {
		args = append(args, "--order-matters")
	}
	if *benchBareProf != "" && n > 0 {
		args = append(args, "--cpuprofile", *benchBareProf+"-"+clientID+".pprof")
	}
	return append(args, extra...)
}

func drainPrequeued(b *testing.B, bins benchBinaries, telegrafFirst bool) figures {
	n := *benchMessages
	per100k := func(d time.Duration) float64 { return d.Seconds() / float64(n) * 1e5 }
	mq, broker := startBroker(b)
	in, influxd := startDatabase(b)
	c := zigbeeFleet("bench-drain", *benchSensors)
	cfgPath := writeBenchConfig(b, c, mq, in)
	status := watchStatus(b, mq.URL(), "saqshy/"+c.Config.Centre.ID+"/gateway/status")

	// 1. The persistent sessions exist before anything is published.
	gw := startChild(b, "gateway", bins.gateway, gatewayArgs(cfgPath, "")...)
	status.waitFor(b, "online", 30*time.Second)
	time.Sleep(time.Second) // settled: connected, subscribed, the first ticks made
	idle := gw.stop(b)
	bare := startChild(b, "baresub", bins.baresub, bareArgs(mq.URL(), "bare-drain", 0, "--subscribe-only")...)
	bare.waitLine(b, "subscribed", 30*time.Second)
	bare.wait(b, 30*time.Second)
	if bins.telegraf != "" {
		tg := startTelegraf(b, bins.telegraf, mq, in)
		tg.waitSubscribed(b, 30*time.Second)
		tg.stop(b)
	}

	// 2. Queue n messages for all. Payload times sit just ahead of now, so they stay
	// within the gateway's clock-skew window while it drains.
	msgs := zigbeeMessages(c, n/len(c.Devices), time.Now().Add(30*time.Second))
	publishAll(b, mq.URL(), msgs)

	// 3. The bare subscriber drains its queue.
	brokerCPU := broker.cpu(b)
	bare = startChild(b, "baresub", bins.baresub, bareArgs(mq.URL(), "bare-drain", n)...)
	done := bare.waitLine(b, "done", 10*time.Minute)
	bareU := bare.wait(b, 30*time.Second)
	bareBroker := broker.cpu(b) - brokerCPU

	f := figures{
		"bare_msgs/s":            float64(n) / done.at.Sub(bare.started).Seconds(),
		"bare_cpu_s/100k":        per100k(bareU.cpu),
		"bare_peak_rss_MB":       bareU.rssMB,
		"bare_peak_anon_MB":      bareU.anonMB,
		"bare_broker_cpu_s/100k": per100k(bareBroker),
		"gateway_idle_rss_MB":    idle.rssMB,
		"gateway_idle_anon_MB":   idle.anonMB,
	}
	// 4. The gateway and Telegraf drain their queues into InfluxDB, one after the other.
	drains := []func(){
		func() { // the gateway
			d := drainInto(b, in, broker, influxd, func() *child {
				gw := startChild(b, "gateway", bins.gateway, gatewayArgs(cfgPath, "drain")...)
				if *benchMemProf != "" { // heap profiles during the drain, to find its peak's
					go gw.every(2*time.Second, func() { _ = gw.cmd.Process.Signal(syscall.SIGUSR1) })
				}
				return gw
			}, "climate", "temperature_c", n)
			checkExactly(b, in, int64(n))
			d.put(f, "gateway", "points/s", per100k)
		},
		func() { // Telegraf, when it runs
			d := drainInto(b, in, broker, influxd, func() *child {
				return startTelegraf(b, bins.telegraf, mq, in).child
			}, telegrafMeasurement, "temperature", n)
			if got := in.Count(b, telegrafMeasurement, "temperature", ""); got != int64(n) {
				b.Fatalf("InfluxDB holds %d of Telegraf's points, want exactly %d", got, n)
			}
			d.put(f, "telegraf", "msgs/s", per100k)
		},
	}
	if bins.telegraf == "" {
		drains = drains[:1]
	} else if telegrafFirst {
		slices.Reverse(drains)
	}
	for _, drain := range drains {
		drain()
	}
	return f
}

// drained is what one consumer's drain into InfluxDB cost.
type drained struct {
	rate                float64 // messages landed per second, from its start
	use                 usage
	broker, influxd     time.Duration // the servers' CPU while it drained
	points, values, req int64         // InfluxDB's count of what it wrote: points, field values, write requests
}

// drainInto starts a consumer and waits until InfluxDB holds n points of measurement
// with field, then stops it and returns what the drain cost.
func drainInto(b *testing.B, in *testenv.Influx, broker, influxd *server, start func() *child, measurement, field string, n int) drained {
	b.Helper()
	brokerCPU, influxCPU, w0 := broker.cpu(b), influxd.cpu(b), influxWrites(b, in)
	p := start()
	landedAt := waitLanded(b, in, measurement, field, int64(n), p, 10*time.Minute)
	u := p.stop(b)
	w := influxWrites(b, in)
	return drained{
		rate: float64(n) / landedAt.Sub(p.started).Seconds(), use: u,
		broker: broker.cpu(b) - brokerCPU, influxd: influxd.cpu(b) - influxCPU,
		points: w.points - w0.points, values: w.values - w0.values, req: w.req - w0.req,
	}
}

// put adds the drain's figures to f under the consumer's name.
func (d drained) put(f figures, name, rateUnit string, per100k func(time.Duration) float64) {
	f[name+"_"+rateUnit] = d.rate
	f[name+"_cpu_s/100k"] = per100k(d.use.cpu)
	f[name+"_peak_rss_MB"] = d.use.rssMB
	f[name+"_peak_anon_MB"] = d.use.anonMB
	f[name+"_broker_cpu_s/100k"] = per100k(d.broker)
	f[name+"_influxd_cpu_s/100k"] = per100k(d.influxd)
	f[name+"_points_written"] = float64(d.points)
	f[name+"_values_written"] = float64(d.values)
	f[name+"_writes"] = float64(d.req)
}

func live(b *testing.B, bins benchBinaries) figures {
	n := *benchMessages
	per100k := func(d time.Duration) float64 { return d.Seconds() / float64(n) * 1e5 }
	c := zigbeeFleet("bench-live", *benchSensors)
	msgs := zigbeeMessages(c, n/len(c.Devices), time.Now().Add(30*time.Second))

	// The bare subscriber, on a broker of its own.
	mq, broker := startBroker(b)
	bare := startChild(b, "baresub", bins.baresub, bareArgs(mq.URL(), "bare-live", n)...)
	bare.waitLine(b, "subscribed", 30*time.Second)
	brokerCPU := broker.cpu(b)
	t0 := time.Now()
	publishAll(b, mq.URL(), msgs)
	done := bare.waitLine(b, "done", 10*time.Minute)
	bareU := bare.wait(b, 30*time.Second)
	bareBroker := broker.cpu(b) - brokerCPU
	bareRate := float64(n) / done.at.Sub(t0).Seconds()
	mq.Stop()

	// The gateway, on a fresh broker and database.
	mq, broker = startBroker(b)
	in, influxd := startDatabase(b)
	cfgPath := writeBenchConfig(b, c, mq, in)
	status := watchStatus(b, mq.URL(), "saqshy/"+c.Config.Centre.ID+"/gateway/status")
	gw := startChild(b, "gateway", bins.gateway, gatewayArgs(cfgPath, "live")...)
	status.waitFor(b, "online", 30*time.Second)
	brokerCPU, influxCPU := broker.cpu(b), influxd.cpu(b)
	t0 = time.Now()
	publishAll(b, mq.URL(), msgs)
	published := time.Now()
	landedAt := waitLanded(b, in, "climate", "temperature_c", int64(n), gw, 10*time.Minute)
	gwU := gw.stop(b)
	gwBroker, gwInflux := broker.cpu(b)-brokerCPU, influxd.cpu(b)-influxCPU
	checkExactly(b, in, int64(n))

	return figures{
		"gateway_points/s":       float64(n) / landedAt.Sub(t0).Seconds(),
		"bare_msgs/s":            bareRate,
		"publish_msgs/s":         float64(n) / published.Sub(t0).Seconds(),
		"gateway_cpu_s/100k":     per100k(gwU.cpu),
		"bare_cpu_s/100k":        per100k(bareU.cpu),
		"gateway_peak_rss_MB":    gwU.rssMB,
		"bare_peak_rss_MB":       bareU.rssMB,
		"gateway_peak_anon_MB":   gwU.anonMB,
		"bare_peak_anon_MB":      bareU.anonMB,
		"broker_cpu_s/100k":      per100k(gwBroker),
		"bare_broker_cpu_s/100k": per100k(bareBroker),
		"influxd_cpu_s/100k":     per100k(gwInflux),
	}
}

// zigbeeFleet is a centre of n Zigbee2MQTT climate sensors, one per zone and topic.
func zigbeeFleet(id string, n int) *sim.Centre {
	c := sim.NewFleet(id, n, 7)
	cfg := c.Config
	keep := map[string]bool{}
	cfg.Sensors = cfg.Sensors[:0:0]
	var devices []*sim.Device
	for _, d := range c.Devices {
		if d.Format == "zigbee2mqtt" {
			devices = append(devices, d)
			cfg.Sensors = append(cfg.Sensors, d.Sensor)
			keep[d.Sensor.Zone] = true
		}
	}
	c.Devices = devices
	zones := cfg.Zones[:0:0]
	for _, z := range cfg.Zones {
		if keep[z.ID] {
			zones = append(zones, z)
		}
	}
	cfg.Zones = zones
	return c
}

// zigbeeMessages returns perSensor rounds of one message from every device, as an
// Aqara temperature/humidity sensor sends them through Zigbee2MQTT (temperature,
// humidity, battery, voltage, link quality). A device's k-th message has last_seen
// base + k ms, so no two of its points share a timestamp.
func zigbeeMessages(c *sim.Centre, perSensor int, base time.Time) []sim.Message {
	base = base.Truncate(time.Millisecond)
	msgs := make([]sim.Message, 0, perSensor*len(c.Devices))
	for k := range perSensor {
		for i, d := range c.Devices {
			r := sim.Reading{
				TemperatureC: 18 + float64((i*7+k)%80)/10,
				HumidityPct:  40 + float64((i+k)%200)/10,
				BatteryPct:   float64(60 + i%40),
				LinkQuality:  float64(80 + (i+k)%100),
			}
			msgs = append(msgs, sim.Zigbee2MQTT(d.Sensor.Topic, r, base.Add(time.Duration(k)*time.Millisecond)))
		}
	}
	return msgs
}

func writeBenchConfig(b *testing.B, c *sim.Centre, mq *testenv.Mosquitto, in *testenv.Influx) string {
	b.Helper()
	cfg := c.Config
	cfg.MQTT.URL = mq.URL()
	cfg.MQTT.ClientID = "saqshy-" + cfg.Centre.ID
	cfg.Influx.URL = in.URL()
	cfg.Influx.Bucket = in.Bucket()
	cfg.Spool.Dir = b.TempDir()
	cfg.Influx.BatchSize = *benchBatch
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		b.Fatalf("benchmark config invalid: %v", err)
	}
	return writeCentreConfig(b, cfg)
}

// gatewayArgs runs the gateway on cfgPath; a measured scenario's run ("" for none)
// writes the profiles asked for.
func gatewayArgs(cfgPath, scenario string) []string {
	args := []string{"run", "--config", cfgPath, "--assume-clock-synced", "--log-level", "warn", "--stats-every", "0"}
	if scenario != "" && *benchProfile != "" {
		args = append(args, "--cpuprofile", *benchProfile+"-"+scenario+".pprof")
	}
	if scenario != "" && *benchMemProf != "" {
		args = append(args, "--memprofile", *benchMemProf+"-"+scenario+".pprof")
	}
	return args
}

// benchBinaries are the programs measured; telegraf is empty when it is left out.
type benchBinaries struct{ gateway, baresub, telegraf string }

func buildBenchBinaries(b *testing.B) benchBinaries {
	b.Helper()
	tg := ""
	if *benchTelegraf != "" {
		var err error
		if tg, err = filepath.Abs(*benchTelegraf); err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(tg); err != nil {
			b.Fatalf("no Telegraf to run beside the gateway: %v (build it with `make telegraf`, or leave it out with -bench.telegraf=)", err)
		}
	}
	bins := benchBinaries{gateway: buildGateway(b), telegraf: tg}
	if *benchBins != "" {
		bins.baresub = filepath.Join(*benchBins, "baresub")
	} else {
		bins.baresub = goBuild(b, "./internal/baresub")
	}
	return bins
}

// buildGateway returns the gateway binary to measure: -bench.bin's, or one built as
// -bench.release says.
func buildGateway(b *testing.B) string {
	b.Helper()
	if *benchBins != "" {
		return filepath.Join(*benchBins, "saqshy-gateway")
	}
	if *benchRelease {
		return goBuild(b, "../cmd/saqshy-gateway", releaseFlags...)
	}
	return goBuild(b, "../cmd/saqshy-gateway")
}

// goBuild builds the command pkg with flags into a temporary directory and returns
// the binary's path.
func goBuild(b *testing.B, pkg string, flags ...string) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), filepath.Base(pkg))
	args := append([]string{"build", "-o", bin}, flags...)
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// publishAll publishes msgs at QoS 1 as fast as the broker takes them, with up to
// 1000 unacknowledged at a time, and returns once the broker has acknowledged all.
func publishAll(b *testing.B, url string, msgs []sim.Message) {
	b.Helper()
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("bench-pub-%d", time.Now().UnixNano())).
		SetWriteTimeout(30 * time.Second)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("publisher connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	const window = 1000
	toks := make([]mqtt.Token, 0, len(msgs))
	for i, m := range msgs {
		if i >= window {
			if tok := toks[i-window]; !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
				b.Fatalf("publish: %v", tok.Error())
			}
		}
		toks = append(toks, c.Publish(m.Topic, 1, false, m.Payload))
	}
	for _, tok := range toks[max(0, len(toks)-window):] {
		if !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
			b.Fatalf("publish: %v", tok.Error())
		}
	}
}

// statusWatch follows the gateway's retained status topic.
type statusWatch chan string

func watchStatus(b *testing.B, url, topic string) statusWatch {
	b.Helper()
	ch := make(statusWatch, 64)
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("bench-watch-%d", time.Now().UnixNano()))
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("status watcher connect: %v", tok.Error())
	}
	tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case ch <- string(m.Payload()):
		default:
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("status watcher subscribe: %v", tok.Error())
	}
	b.Cleanup(func() { c.Disconnect(100) })
	return ch
}

func (s statusWatch) waitFor(b *testing.B, want string, d time.Duration) {
	b.Helper()
	timeout := time.After(d)
	for {
		select {
		case got := <-s:
			if got == want {
				return
			}
		case <-timeout:
			b.Fatalf("gateway status not %q within %v", want, d)
		}
	}
}

// waitLanded polls InfluxDB's count of measurement's points with field every 200 ms
// until it reaches n and returns when that poll answered.
func waitLanded(b *testing.B, in *testenv.Influx, measurement, field string, n int64, p *child, d time.Duration) time.Time {
	b.Helper()
	deadline := time.Now().Add(d)
	for {
		got := in.Count(b, measurement, field, "")
		if got >= n {
			return time.Now()
		}
		if time.Now().After(deadline) {
			p.stop(b)
			b.Fatalf("InfluxDB holds %d of %d %s points after %v; %s's log:\n%s", got, n, measurement, d, p.name, p.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func checkExactly(b *testing.B, in *testenv.Influx, n int64) {
	b.Helper()
	if got := in.Count(b, "climate", "temperature_c", ""); got != n {
		b.Fatalf("InfluxDB holds %d climate points, want exactly %d", got, n)
	}
	// Each sensor's battery is constant in the payloads: the deadband writes its first
	// value and, within the run's seconds, no other.
	if got, want := in.Count(b, "device", "battery_pct", ""), int64(*benchSensors); got != want {
		b.Fatalf("InfluxDB holds %d battery values, want exactly %d (one per sensor: the deadband)", got, want)
	}
}

// releaseFlags are the build flags of the Pi's binaries in `make release`.
var releaseFlags = []string{"-tags", "nodemo", "-trimpath", "-ldflags=-s -w"}

// child is a measured process.
type child struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	lines   chan stampedLine // stdout, line by line
	eof     chan struct{}    // closed when stdout is drained
	stderr  bytes.Buffer     // read only after the process has exited
	exited  bool
	hwmKiB  atomic.Int64 // peak RSS seen while it ran
	anonKiB atomic.Int64 // peak anonymous RSS seen while it ran
}

type stampedLine struct {
	text string
	at   time.Time
}

// usage is what a measured process cost.
type usage struct {
	cpu    time.Duration // user + system, from the kernel's accounting at exit
	rssMB  float64       // peak resident set size (VmHWM), MiB
	anonMB float64       // peak anonymous resident memory (RssAnon, sampled), MiB
}

// memStatus returns a process's VmHWM and RssAnon in KiB from /proc/<pid>/status
// (zeros once it has gone); see procStatus.
func memStatus(pid int) (hwm, anon int64) {
	st := procStatus(pid)
	return st["VmHWM"], st["RssAnon"]
}

// procStatus returns the kB figures of /proc/<pid>/status by key (VmRSS, VmHWM,
// RssAnon, RssFile; empty once the process has gone). The rusage of an exited child is no use for the peak: Go
// spawns children with vfork semantics, and Linux folds the parent's RSS at the time
// of exec into the child's ru_maxrss, so it reports the test process's own size.
// RssAnon leaves out the pages of the executable, which are shared and clean.
func procStatus(pid int) map[string]int64 {
	st := map[string]int64{}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st
	}
	for line := range strings.Lines(string(b)) {
		key, v, ok := strings.Cut(line, ":")
		if v, kB := strings.CutSuffix(strings.TrimSpace(v), " kB"); ok && kB {
			st[key], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return st
}

// sampleMem records the process's peak memory now.
func (c *child) sampleMem() {
	hwm, anon := memStatus(c.cmd.Process.Pid)
	if hwm > c.hwmKiB.Load() {
		c.hwmKiB.Store(hwm)
	}
	if anon > c.anonKiB.Load() {
		c.anonKiB.Store(anon)
	}
}

// every calls f every period until the process exits.
func (c *child) every(period time.Duration, f func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-c.eof:
			return
		case <-t.C:
			f()
		}
	}
}

func startChild(b *testing.B, name, bin string, args ...string) *child {
	b.Helper()
	var env []string
	if name == "gateway" {
		if *benchUnitEnv {
			env = unitEnv(b, "../deploy/pi/saqshy-gateway.service")
		}
		env = append(env, strings.Fields(*benchEnvVars)...)
	}
	return startChildEnv(b, name, bin, env, args...)
}

// unitEnv returns the VAR=value pairs of a systemd unit's Environment= lines.
func unitEnv(b *testing.B, path string) []string {
	b.Helper()
	unit, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var env []string
	for line := range strings.Lines(string(unit)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Environment="); ok {
			env = append(env, strings.Fields(v)...)
		}
	}
	return env
}

// startChildEnv starts a measured process with env added to the test's environment.
func startChildEnv(b *testing.B, name, bin string, env []string, args ...string) *child {
	b.Helper()
	c := &child{name: name, cmd: exec.Command(bin, args...), lines: make(chan stampedLine, 16), eof: make(chan struct{})}
	c.cmd.Stderr = &c.stderr
	if len(env) > 0 {
		c.cmd.Env = append(os.Environ(), env...)
	}
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", name, err)
	}
	go func() {
		defer close(c.eof)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case c.lines <- stampedLine{sc.Text(), time.Now()}:
			default: // nobody is waiting for it
			}
		}
	}()
	go c.every(20*time.Millisecond, c.sampleMem) // its peak memory
	b.Cleanup(func() {
		if !c.exited {
			_ = c.cmd.Process.Kill()
			c.wait(b, 10*time.Second)
		}
	})
	return c
}

// waitLine waits for a stdout line starting with prefix.
func (c *child) waitLine(b *testing.B, prefix string, d time.Duration) stampedLine {
	b.Helper()
	timeout := time.After(d)
	for {
		select {
		case l := <-c.lines:
			if strings.HasPrefix(l.text, prefix) {
				c.noteLine(l)
				return l
			}
		case <-c.eof:
			for len(c.lines) > 0 { // lines printed just before exit
				if l := <-c.lines; strings.HasPrefix(l.text, prefix) {
					c.noteLine(l)
					return l
				}
			}
			c.wait(b, 10*time.Second)
			b.Fatalf("%s exited before printing %q: %v\n%s", c.name, prefix, c.cmd.ProcessState, c.stderr.String())
		case <-timeout:
			_ = c.cmd.Process.Kill()
			c.wait(b, 10*time.Second)
			b.Fatalf("%s printed no %q within %v\n%s", c.name, prefix, d, c.stderr.String())
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (c *child) stop(b *testing.B) usage {
	b.Helper()
	if c.exited {
		return c.usage()
	}
	c.sampleMem()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	return c.wait(b, 60*time.Second)
}

// wait waits for the process to exit and returns its resource usage.
func (c *child) wait(b *testing.B, d time.Duration) usage {
	b.Helper()
	if c.exited {
		return c.usage()
	}
	kill := time.AfterFunc(d, func() { _ = c.cmd.Process.Kill() })
	<-c.eof
	err := c.cmd.Wait()
	kill.Stop()
	c.exited = true
	if err != nil {
		b.Fatalf("%s: %v\n%s", c.name, err, c.stderr.String())
	}
	return c.usage()
}

func (c *child) usage() usage {
	ru := c.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return usage{cpu: cpu, rssMB: float64(c.hwmKiB.Load()) / 1024, anonMB: float64(c.anonKiB.Load()) / 1024}
}

// noteLine takes a peak RSS the process reported itself ("hwm_kb=N" in a line).
func (c *child) noteLine(l stampedLine) {
	for f := range strings.FieldsSeq(l.text) {
		if v, ok := strings.CutPrefix(f, "hwm_kb="); ok {
			if kb, err := strconv.ParseInt(v, 10, 64); err == nil && kb > c.hwmKiB.Load() {
				c.hwmKiB.Store(kb)
			}
		}
	}
}

// server is a broker or database process started by testenv, measured from /proc.
type server struct {
	name string
	pid  int
}

// findServer finds the process whose command line mentions dir (testenv puts each
// server's config file in its own temporary directory).
func findServer(b *testing.B, name, dir string) *server {
	b.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Contains(cmdline, []byte(dir+"/")) {
			return &server{name: name, pid: pid}
		}
	}
	b.Fatalf("no %s process with %s on its command line", name, dir)
	return nil
}

// cpu returns the CPU time (user + system) the server has used so far.
func (s *server) cpu(b *testing.B) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		b.Fatalf("%s: %v", s.name, err)
	}
	// Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clockTick = 10 * time.Millisecond // USER_HZ is 100 on every Linux ABI Go supports
	return time.Duration(utime+stime) * clockTick
}

// telegrafMeasurement is where testdata/bench/telegraf.conf writes the readings.
const telegrafMeasurement = "zigbee2mqtt"

// telegraf is a running Telegraf and its log file.
type telegraf struct {
	*child
	log string
}

// startTelegraf starts Telegraf with testdata/bench/telegraf.conf on the broker and
// database: Telegraf's own persistent session subscribed to the Zigbee2MQTT topics,
// writing through InfluxDB 1.8's /api/v2/write.
func startTelegraf(b *testing.B, bin string, mq *testenv.Mosquitto, in *testenv.Influx) telegraf {
	b.Helper()
	conf, err := filepath.Abs(filepath.Join("testdata", "bench", "telegraf.conf"))
	if err != nil {
		b.Fatal(err)
	}
	log := filepath.Join(b.TempDir(), "telegraf.log")
	env := []string{
		"SAQSHY_BENCH_MQTT=" + mq.URL(),
		"SAQSHY_BENCH_INFLUX=" + in.URL(),
		"SAQSHY_BENCH_BUCKET=" + in.Bucket(),
		"SAQSHY_BENCH_TELEGRAF_LOG=" + log,
	}
	return telegraf{child: startChildEnv(b, "telegraf", bin, env, "--config", conf), log: log}
}

// waitSubscribed waits until Telegraf has connected its MQTT input (which subscribes
// before it returns) and its output loop runs.
func (t telegraf) waitSubscribed(b *testing.B, d time.Duration) {
	b.Helper()
	deadline := time.Now().Add(d)
	for {
		log, _ := os.ReadFile(t.log)
		_, after, connected := bytes.Cut(log, []byte("[inputs.mqtt_consumer] Connected"))
		if connected && bytes.Contains(after, []byte("Buffer fullness")) {
			return
		}
		if time.Now().After(deadline) {
			t.stop(b)
			b.Fatalf("Telegraf not subscribed within %v; its log:\n%s%s", d, log, t.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeStats are InfluxDB's HTTP write counters since it started.
type writeStats struct{ points, values, req int64 }

// influxWrites reads InfluxDB's HTTP write counters from /debug/vars.
func influxWrites(b *testing.B, in *testenv.Influx) writeStats {
	b.Helper()
	resp, err := http.Get(in.URL() + "/debug/vars")
	if err != nil {
		b.Fatalf("influxd /debug/vars: %v", err)
	}
	defer resp.Body.Close()
	var vars map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		b.Fatalf("influxd /debug/vars: %v", err)
	}
	for k, raw := range vars {
		if !strings.HasPrefix(k, "httpd") {
			continue
		}
		var v struct {
			Values struct {
				PointsWrittenOK int64 `json:"pointsWrittenOK"`
				ValuesWrittenOK int64 `json:"valuesWrittenOK"`
				WriteReq        int64 `json:"writeReq"`
			} `json:"values"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatalf("influxd /debug/vars %s: %v", k, err)
		}
		return writeStats{points: v.Values.PointsWrittenOK, values: v.Values.ValuesWrittenOK, req: v.Values.WriteReq}
	}
	b.Fatal("influxd /debug/vars has no httpd statistics")
	return writeStats{}
}
