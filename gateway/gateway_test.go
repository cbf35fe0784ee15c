package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/localsensor"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// env is one test's real broker and database.
type env struct {
	mq *testenv.Mosquitto
	in *testenv.Influx
}

func newEnv(t *testing.T) env {
	t.Helper()
	return env{mq: testenv.StartMosquitto(t, testenv.MosquittoOptions{}), in: testenv.StartInflux(t, "saqshy")}
}

// configure points the simulated centre's config at the test's broker, database and
// a spool directory.
func (e env) configure(t *testing.T, c *sim.Centre, spoolDir string) {
	t.Helper()
	cfg := c.Config
	cfg.MQTT.URL = e.mq.URL()
	cfg.MQTT.ClientID = "saqshy-test-" + cfg.Centre.ID
	cfg.Influx.URL = e.in.URL()
	cfg.Influx.Bucket = e.in.Bucket()
	cfg.Spool.Dir = spoolDir
	cfg.Status.Listen = "127.0.0.1:0"
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("simulated config invalid: %v", err)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startGateway runs a gateway in-process until the returned stop is called.
func startGateway(t *testing.T, c *sim.Centre) (*gateway.Gateway, func()) {
	t.Helper()
	return startGatewayWith(t, c, gateway.Options{Logger: testLogger(t), Clock: gateway.FixedSync(true)})
}

// startGatewayWith is startGateway with options.
func startGatewayWith(t *testing.T, c *sim.Centre, opt gateway.Options) (*gateway.Gateway, func()) {
	t.Helper()
	g, err := gateway.New(c.Config, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	waitFor(t, 20*time.Second, "gateway connected", func() bool { return g.Stats().MQTTConnected })
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("gateway.Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return g, stop
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool, g ...*gateway.Gateway) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			for _, g := range g {
				t.Logf("gateway: %s %v", g.Stats(), g.Stats().Counters)
			}
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publisher publishes at QoS 1 with many messages in flight.
type publisher struct {
	t      testing.TB
	client mqtt.Client
	toks   []mqtt.Token
}

func newPublisher(t testing.TB, url string) *publisher {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("pub-%d", time.Now().UnixNano())).
		SetMaxResumePubInFlight(1000).SetWriteTimeout(10 * time.Second)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	p := &publisher{t: t, client: c}
	t.Cleanup(func() { c.Disconnect(100) })
	return p
}

func (p *publisher) send(msgs ...sim.Message) {
	for _, m := range msgs {
		p.toks = append(p.toks, p.client.Publish(m.Topic, 1, m.Retained, m.Payload))
		if len(p.toks) >= 500 {
			p.flush()
		}
	}
}

func (p *publisher) flush() {
	p.t.Helper()
	for _, tok := range p.toks {
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			p.t.Fatalf("publish: %v", tok.Error())
		}
	}
	p.toks = p.toks[:0]
}

// expectation is the set of temperatures each sensor was sent.
type expectation map[string][]float64

// value is a deterministic temperature with one decimal (Tasmota's precision),
// distinct for each tick of a sensor.
func value(sensor, tick int) float64 { return float64(150+(sensor*7+tick)%100) / 10 }

// ticks builds n rounds of one message per device, with distinct payload times one
// second apart ending a minute ago, and records the expected values.
func ticks(c *sim.Centre, from, n int, exp expectation) [][]sim.Message {
	base := time.Now().Add(-time.Minute - time.Duration(from+n)*time.Second).Truncate(time.Second)
	var rounds [][]sim.Message
	for k := from; k < from+n; k++ {
		var msgs []sim.Message
		for i, d := range c.Devices {
			v := value(i, k)
			msgs = append(msgs, c.Message(d, sim.Reading{TemperatureC: v}, base.Add(time.Duration(k)*time.Second))...)
			exp[d.Sensor.ID] = append(exp[d.Sensor.ID], v)
		}
		rounds = append(rounds, msgs)
	}
	return rounds
}

// landed reads every climate point back and returns temperatures per sensor.
func landed(t testing.TB, in *testenv.Influx) (expectation, int) {
	t.Helper()
	series, err := in.Query(context.Background(), `SELECT "temperature_c","centre","zone","zone_kind","source" FROM "climate" GROUP BY "sensor"`)
	if err != nil {
		t.Fatal(err)
	}
	got, n := expectation{}, 0
	for _, s := range series {
		for _, row := range s.Values {
			v, _ := row[1].(json.Number).Float64()
			got[s.Tags["sensor"]] = append(got[s.Tags["sensor"]], v)
			n++
			if row[2] == nil || row[3] == nil || row[4] == nil || row[5] == nil {
				t.Fatalf("point without centre/zone/zone_kind/source tags: %v", row)
			}
		}
	}
	return got, n
}

// compare asserts every expected value landed exactly once per sensor.
func compare(t *testing.T, exp, got expectation) {
	t.Helper()
	missing := 0
	for sensor, want := range exp {
		w := slices.Sorted(slices.Values(want))
		g := slices.Sorted(slices.Values(got[sensor]))
		if !slices.EqualFunc(w, g, func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }) {
			if missing < 5 {
				t.Errorf("sensor %s: got %v, want %v", sensor, g, w)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d sensors differ", missing, len(exp))
	}
}

// TestFiveFormatsTenThousandMessages: 5 formats × 200 sensors, 10 messages each;
// InfluxDB holds exactly the expected points, values and tags.
func TestFiveFormatsTenThousandMessages(t *testing.T) {
	e := newEnv(t)
	c := sim.NewFleet("accept-c1", 200, 1)
	e.configure(t, c, t.TempDir())
	g, stop := startGateway(t, c)
	exp := expectation{}
	p := newPublisher(t, e.mq.URL())
	for _, round := range ticks(c, 0, 10, exp) {
		p.send(round...)
	}
	p.flush()
	waitFor(t, 120*time.Second, "10,000 climate points", func() bool {
		return e.in.Count(t, "climate", "temperature_c", "") >= 10_000 && g.Stats().SpoolBacklog == 0
	})
	stop()
	got, n := landed(t, e.in)
	if n != 10_000 {
		t.Fatalf("InfluxDB holds %d climate points, want exactly 10000", n)
	}
	compare(t, exp, got)
	for _, src := range []string{"zigbee2mqtt", "tasmota", "esphome", "shelly", "saqshy"} {
		if n := e.in.Count(t, "climate", "temperature_c", fmt.Sprintf(`"source"='%s' AND "centre"='accept-c1'`, src)); n != 2000 {
			t.Errorf("source %s: %d points, want 2000", src, n)
		}
	}
	st := g.Stats()
	if st.Rejected != 0 {
		t.Errorf("rejected %d good messages: %v", st.Rejected, st.Counters)
	}
	if st.Acked < 10_000 {
		t.Errorf("acked %d, want >= 10000", st.Acked)
	}
}

// TestMalformedInterleaved: garbage between good messages: every good one lands,
// every bad one is counted with its reason, nothing crashes.
func TestMalformedInterleaved(t *testing.T) {
	e := newEnv(t)
	c := sim.NewFleet("malformed-c1", 4, 3)
	e.configure(t, c, t.TempDir())
	g, stop := startGateway(t, c)
	exp := expectation{}
	p := newPublisher(t, e.mq.URL())
	byFormat := map[string]*sim.Device{}
	for _, d := range c.Devices {
		byFormat[d.Format] = d
	}
	bad := []sim.Message{
		{Topic: "zigbee2mqtt/" + byFormat["zigbee2mqtt"].Sensor.ID, Payload: []byte(`{"temperature":`)},
		{Topic: "zigbee2mqtt/" + byFormat["zigbee2mqtt"].Sensor.ID, Payload: []byte(`{"temperature":"warm"}`)},
		{Topic: "zigbee2mqtt/" + byFormat["zigbee2mqtt"].Sensor.ID, Payload: []byte(strings.Repeat("x", 1<<20))},
		{Topic: "tele/" + byFormat["tasmota"].Sensor.ID + "/SENSOR", Payload: []byte(`{"Time":"2026-01-01T00:00:00","DS18B20":{"Id":"01","Temperature":85.0},"TempUnit":"C"}`)},
		{Topic: "tele/" + byFormat["tasmota"].Sensor.ID + "/SENSOR", Payload: []byte(`{"Time":"2026-01-01T00:00:00","DS18B20":{"Id":"01","Temperature":-127},"TempUnit":"C"}`)},
		{Topic: byFormat["esphome"].Sensor.ID + "/sensor/temperature/state", Payload: []byte("nan")},
		{Topic: byFormat["esphome"].Sensor.ID + "/sensor/temperature/state", Payload: []byte("hot")},
		{Topic: byFormat["shelly-gen2"].Sensor.Topic + "/events/rpc", Payload: []byte(`{"method":"NotifyStatus","params":{"temperature:0":{"tC":1e9}}}`)},
		{Topic: "saqshy/malformed-c1/sensor/" + byFormat["saqshy"].Sensor.ID + "/state", Payload: []byte("\x00\xff\xfe")},
		{Topic: "saqshy/malformed-c1/sensor/" + byFormat["saqshy"].Sensor.ID + "/state", Payload: []byte{}},
	}
	for _, r := range ticks(c, 0, 5, exp) {
		p.send(r...)
		p.send(bad...)
	}
	p.flush()
	want := int64(len(c.Devices) * 5)
	waitFor(t, 60*time.Second, "good points", func() bool {
		return e.in.Count(t, "climate", "temperature_c", "") >= want && g.Stats().SpoolBacklog == 0 &&
			g.Stats().Acked >= uint64(want)+uint64(5*len(bad))
	}, g)
	stop()
	got, n := landed(t, e.in)
	if int64(n) != want {
		t.Fatalf("%d points, want %d", n, want)
	}
	compare(t, exp, got)
	st := g.Stats()
	if st.Rejected != uint64(5*len(bad)) {
		t.Fatalf("rejected %d, want %d: %v", st.Rejected, 5*len(bad), st.Counters)
	}
	for _, k := range []gateway.Key{{"zigbee2mqtt", "bad_json"}, {"zigbee2mqtt", "bad_value"}, {"zigbee2mqtt", "too_large"}, {"tasmota", "out_of_range"}, {"esphome", "not_finite"}, {"esphome", "bad_value"}, {"shelly", "out_of_range"}, {"saqshy", "empty"}} {
		if st.Counters[k] == 0 {
			t.Errorf("no count for %v: %v", k, st.Counters)
		}
	}
}

// TestRetainedAndClockSkew: a retained reading without its own time is not written
// as fresh; a payload time far from a synchronised clock is replaced and flagged.
func TestRetainedAndClockSkew(t *testing.T) {
	e := newEnv(t)
	c := sim.NewFleet("retained-c1", 1, 4)
	e.configure(t, c, t.TempDir())
	var esp, z2m *sim.Device
	for _, d := range c.Devices {
		switch d.Format {
		case "esphome":
			esp = d
		case "zigbee2mqtt":
			z2m = d
		}
	}
	p := newPublisher(t, e.mq.URL())
	stale := sim.ESPHome(esp.Sensor.Topic, sim.Reading{TemperatureC: 99.5})[0]
	stale.Retained = true
	p.send(stale, sim.ESPHomeStatus(esp.Sensor.Topic, true))
	p.flush()
	g, stop := startGateway(t, c)
	skewed := sim.Zigbee2MQTT(z2m.Sensor.Topic, sim.Reading{TemperatureC: 12.3}, time.Now().Add(-3*time.Hour))
	p.send(skewed)
	p.flush()
	waitFor(t, 30*time.Second, "points", func() bool {
		return e.in.Count(t, "climate", "temperature_c", "") >= 1 && e.in.Count(t, "device", "online", "") >= 1
	})
	stop()
	if n := e.in.Count(t, "climate", "temperature_c", `"sensor"='`+esp.Sensor.ID+`'`); n != 0 {
		t.Fatalf("retained stale reading written: %d points", n)
	}
	if g.Stats().Counters[gateway.Key{Source: "esphome", Outcome: "retained_stale"}] != 1 {
		t.Fatalf("retained reading not counted: %v", g.Stats().Counters)
	}
	series, err := e.in.Query(context.Background(), `SELECT "temperature_c","flags" FROM "climate" WHERE "sensor"='`+z2m.Sensor.ID+`'`)
	if err != nil || len(series) != 1 || len(series[0].Values) != 1 {
		t.Fatalf("skewed reading: %v %v", series, err)
	}
	row := series[0].Values[0]
	ts, _ := row[0].(json.Number).Int64()
	if time.Since(time.Unix(0, ts)) > time.Minute {
		t.Fatalf("skewed reading kept its 3 h old payload time %v", time.Unix(0, ts))
	}
	if flags, _ := row[2].(json.Number).Int64(); flags&4 == 0 {
		t.Fatalf("flags %v lack ClockSkew", row[2])
	}
}

// TestStatusPage: the local status page shows each sensor's latest reading, and the
// machine endpoints answer; wrong methods and paths get clear HTTP errors.
func TestStatusPage(t *testing.T) {
	e := newEnv(t)
	c := sim.NewFleet("status-c1", 1, 6)
	e.configure(t, c, t.TempDir())
	g, _ := startGateway(t, c)
	p := newPublisher(t, e.mq.URL())
	for _, r := range ticks(c, 0, 2, expectation{}) {
		p.send(r...)
	}
	p.flush()
	waitFor(t, 30*time.Second, "readings", func() bool { return g.Stats().Spooled >= 10 }, g)
	waitFor(t, 5*time.Second, "status page", func() bool { return g.StatusAddr() != nil })
	base := "http://" + g.StatusAddr().String()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/")
	if code != 200 || !strings.Contains(body, "status-c1") || !strings.Contains(body, c.Devices[0].Sensor.ID) || !strings.Contains(body, "°C") {
		t.Fatalf("GET / = %d\n%s", code, body)
	}
	want := fmt.Sprintf("%.1f °C", value(0, 1))
	if !strings.Contains(body, want) {
		t.Fatalf("status page lacks the latest reading %q", want)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `saqshy_messages_total{centre="status-c1",outcome="decoded",source="zigbee2mqtt"} 2`) {
		t.Fatalf("GET /metrics = %d\n%s", code, body)
	}
	if code, body := get("/status.json"); code != 200 || !json.Valid([]byte(body)) {
		t.Fatalf("GET /status.json = %d %s", code, body)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("GET /readyz = %d", code)
	}
	if code, _ := get("/nope"); code != 404 {
		t.Fatalf("GET /nope = %d, want 404", code)
	}
	resp, err := http.Post(base+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST / = %d, want 405", resp.StatusCode)
	}
}

// TestWiredProbesLand: DS18B20 probes wired to the Pi (a fixture w1 sysfs tree with
// three probes, one answering with a bad CRC) go through the same spool to InfluxDB;
// the bad one is counted, never written, and does not stop the others.
func TestWiredProbesLand(t *testing.T) {
	e := newEnv(t)
	c := sim.NewFleet("wired-c1", 1, 8)
	cfg := c.Config
	cfg.Zones = append(cfg.Zones, config.Zone{ID: "med-fridge", Kind: "med-fridge"}, config.Zone{ID: "boiler", Kind: "hot-water"})
	for _, p := range []struct{ id, zone, addr string }{
		{"fridge-probe", "med-fridge", "28-0316a2795eff"},
		{"fridge-probe-2", "med-fridge", "28-00000a1b2c3d"},
		{"boiler-out", "boiler", "28-0416b1c2d3e4"}, // its w1_slave says crc=.. NO
	} {
		cfg.Sensors = append(cfg.Sensors, config.Sensor{ID: p.id, Zone: p.zone, Source: "ds18b20", Address: p.addr, Interval: config.Duration(300 * time.Millisecond)})
	}
	e.configure(t, c, t.TempDir())
	g, err := gateway.New(cfg, gateway.Options{Logger: testLogger(t), Clock: gateway.FixedSync(true),
		Local: localsensor.Deps{W1Root: "localsensor/testdata/w1/devices"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	waitFor(t, 30*time.Second, "wired readings", func() bool {
		return e.in.Count(t, "climate", "temperature_c", `"source"='ds18b20'`) >= 6 &&
			g.Stats().Counters[gateway.Key{Source: "ds18b20", Outcome: "crc"}] >= 2
	}, g)
	req, _ := http.NewRequest("GET", "http://"+g.StatusAddr().String()+"/", nil)
	req.Header.Set("Accept-Language", "en")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Open conditions") || !strings.Contains(string(page), "probe_error") {
		t.Fatalf("status page does not show the open condition:\n%s", page)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var conds []telemetry.Condition // the fridge probes' readings raise temperature conditions too (rules)
	for _, c := range g.Conditions() {
		if c.Kind == "probe_error" {
			conds = append(conds, c)
		}
	}
	if len(conds) != 1 || conds[0].Kind != "probe_error" || conds[0].Subject != "boiler-out" || conds[0].Zone != "boiler" ||
		!strings.Contains(conds[0].Reason, "crc") {
		t.Fatalf("open conditions %+v, want one probe_error on boiler-out", conds)
	}
	if n := e.in.Count(t, "climate", "temperature_c", `"sensor"='boiler-out'`); n != 0 {
		t.Fatalf("probe with a bad CRC wrote %d points", n)
	}
	series, err := e.in.Query(context.Background(), `SELECT last("temperature_c") FROM "climate" WHERE "source"='ds18b20' GROUP BY "sensor"`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range series {
		got[s.Tags["sensor"]] = fmt.Sprint(s.Values[0][1])
	}
	if len(got) != 2 || got["fridge-probe"] == "" || got["fridge-probe-2"] == "" {
		t.Fatalf("wired readings by sensor: %v", got)
	}
}
