package doctor

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/internal/tgtest"
	"github.com/saqshy/saqshy/gateway/sim"
)

type fixedClock bool

func (f fixedClock) Synced() bool { return bool(f) }

// env is one real Mosquitto (password required) and one real InfluxDB 1.8 shared
// by the subtests of a test.
type env struct {
	mq       *testenv.Mosquitto
	in       *testenv.Influx
	dir      string
	passFile string
	pub      mqtt.Client
	almaty   *time.Location
}

const mqttPassword = "s3cret"

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	if out, err := exec.Command("mosquitto_passwd", "-b", "-c", passwd, "saqshy", mqttPassword).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd (Debian package mosquitto): %v\n%s", err, out)
	}
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{Extra: fmt.Sprintf(`
per_listener_settings false
allow_anonymous false
password_file %s
`, passwd)})
	in := testenv.StartInflux(t, "saqshy")
	passFile := filepath.Join(dir, "mqtt.pass")
	if err := os.WriteFile(passFile, []byte(mqttPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := mqtt.NewClientOptions().AddBroker(mq.URL()).SetClientID("doctor-test-pub").
		SetUsername("saqshy").SetPassword(mqttPassword)
	pub := mqtt.NewClient(o)
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	t.Cleanup(func() { pub.Disconnect(100) })
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	return &env{mq: mq, in: in, dir: dir, passFile: passFile, pub: pub, almaty: loc}
}

func (e *env) publish(t *testing.T, msgs ...sim.Message) {
	t.Helper()
	for _, m := range msgs {
		tok := e.pub.Publish(m.Topic, 1, m.Retained, m.Payload)
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", m.Topic, tok.Error())
		}
	}
}

func retained(m sim.Message) sim.Message { m.Retained = true; return m }

// centre is a test config: three sensors of three formats, their device topics
// made unique by tag (retained messages outlive a subtest).
type centre struct {
	tag        string
	mqttURL    string
	passFile   string
	influxURL  string
	bucket     string
	spoolDir   string
	extraLines string
}

func (c centre) yaml() string {
	influx := ""
	if c.influxURL != "" {
		influx = fmt.Sprintf("influx: {url: %q, bucket: %q, timeout: 3s}\n", c.influxURL, c.bucket)
	}
	return fmt.Sprintf(`centre: {id: doc-%[1]s, name: "Doctor test centre", timezone: Asia/Almaty}
mqtt: {url: %[2]q, username: saqshy, password_file: %[3]q}
%[4]sspool: {dir: %[5]q, max_bytes: 1MiB}
status: {listen: "off"}
zones:
  - {id: room-101, kind: living, name: "Room 101"}
  - {id: med-fridge, kind: med-fridge, name: "Treatment room fridge"}
  - {id: room-102, kind: living, name: "Room 102"}
sensors:
  - {id: room-101-t, zone: room-101, source: zigbee2mqtt, topic: zigbee2mqtt/room-101-%[1]s}
  - {id: fridge-t, zone: med-fridge, source: tasmota, topic: tele/fridge-%[1]s/SENSOR}
  - {id: room-102-t, zone: room-102, source: saqshy}
%[6]s`, c.tag, c.mqttURL, c.passFile, influx, c.spoolDir, c.extraLines)
}

func (e *env) centre(t *testing.T, tag string) centre {
	return centre{tag: tag, mqttURL: e.mq.URL(), passFile: e.passFile, influxURL: e.in.URL(), bucket: e.in.Bucket(), spoolDir: t.TempDir()}
}

// publishAll publishes a fresh retained reading of each of the three sensors, or
// only of those not named in skip.
func (e *env) publishAll(t *testing.T, tag string, skip ...string) {
	t.Helper()
	now := time.Now()
	r := sim.Reading{TemperatureC: 21.5, HumidityPct: 45}
	has := func(id string) bool {
		for _, s := range skip {
			if s == id {
				return false
			}
		}
		return true
	}
	if has("room-101-t") {
		e.publish(t, retained(sim.Zigbee2MQTT("zigbee2mqtt/room-101-"+tag, r, now)))
	}
	if has("fridge-t") {
		e.publish(t, retained(sim.Tasmota("tele/fridge-"+tag, "DS18B20", sim.Reading{TemperatureC: 4.8}, now, e.almaty)))
	}
	if has("room-102-t") {
		e.publish(t, retained(sim.Saqshy("saqshy/doc-"+tag+"/sensor/room-102-t", r, now)))
	}
}

func (e *env) run(t *testing.T, c centre, opt Options) (*Report, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "centre.yaml")
	if err := os.WriteFile(path, []byte(c.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
	if opt.Listen == 0 {
		opt.Listen = 3 * time.Second
	}
	if opt.Clock == nil {
		opt.Clock = fixedClock(true)
	}
	if opt.Local == nil {
		opt.Local = e.almaty
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := Run(ctx, path, opt)
	var b bytes.Buffer
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	t.Logf("doctor output:\n%s", b.String())
	return r, b.String()
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Errorf("output lacks %q", l)
		}
	}
}

func wantStatus(t *testing.T, r *Report, name string, st Status) {
	t.Helper()
	c, ok := r.Get(name)
	if !ok {
		t.Errorf("no %s check", name)
		return
	}
	if c.Status != st {
		t.Errorf("%s check: %s, want %s (%s)", name, c.Status, st, c.Title)
	}
}

// TestDoctorAgainstRealServers runs doctor against a real Mosquitto and InfluxDB
// 1.8: healthy, then with each thing broken, and checks what it says.
func TestDoctorAgainstRealServers(t *testing.T) {
	e := newEnv(t)

	t.Run("healthy", func(t *testing.T) {
		c := e.centre(t, "ok")
		e.publishAll(t, "ok")
		start := time.Now()
		r, out := e.run(t, c, Options{Listen: 20 * time.Second})
		if !r.OK() {
			t.Error("healthy centre: report not OK")
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("doctor took %s although every sensor had reported (it should stop listening early)", d)
		}
		wantLines(t, out,
			"✓ Config "+"", "is valid: centre doc-ok, 3 zones, 3 sensors",
			"✓ MQTT broker "+e.mq.URL()+` is reachable and accepted user "saqshy"`,
			"✓ All 3 sensors reported in the last 10m",
			"✓ room-101-t — Room 101 (room-101): 21.5 °C, 45 % RH",
			"✓ fridge-t — Treatment room fridge (med-fridge): 4.8 °C",
			"✓ room-102-t — Room 102 (room-102): 21.5 °C, 45 % RH",
			"✓ InfluxDB "+e.in.URL()+` is reachable, took the token, and bucket "saqshy/autogen" is writable`,
			"✓ System clock is synchronised",
			"✓ Time zone: the Pi (Asia/Almaty) and the centre (Asia/Almaty) agree, UTC+5",
			"✓ Spool directory", "is writable",
			"– 1-Wire and I2C buses not checked: no sensors are wired to the Pi",
			"All checks passed",
		)
		if n := e.in.Count(t, TestMeasurement, "nonce", `"centre" = 'doc-ok'`); n != 1 {
			t.Errorf("InfluxDB holds %d doctor points for the centre, want 1", n)
		}
	})

	t.Run("alert channels", func(t *testing.T) {
		tg := tgtest.Start(t, tgTok)
		c := e.centre(t, "alch")
		c.extraLines = channels{tgURL: tg.URL, tgToken: tgTok, webhookURL: "https://ministry.example.kz/saqshy/alerts", webhookSecret: "-"}.yaml(t)
		e.publishAll(t, "alch")
		r, out := e.run(t, c, Options{})
		if r.OK() {
			t.Error("webhook secret missing: report OK")
		}
		wantStatus(t, r, "sensors", Pass)
		wantStatus(t, r, "telegram", Pass)
		wantStatus(t, r, "webhook-secret", Fail)
		wantLines(t, out,
			"– 1-Wire and I2C buses not checked: no sensors are wired to the Pi\n✓ Telegram bot token ",
			"✓ Telegram Bot API "+tg.URL+" knows the bot @"+tgtest.BotUsername,
			"✗ Webhook signing secret file ",
			"1 problem marked ✗ must be fixed",
		)
	})

	t.Run("wrong password", func(t *testing.T) {
		c := e.centre(t, "pw")
		c.passFile = filepath.Join(t.TempDir(), "wrong.pass")
		if err := os.WriteFile(c.passFile, []byte("not-the-password\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r, out := e.run(t, c, Options{})
		if r.OK() {
			t.Error("wrong password: report OK")
		}
		wantStatus(t, r, "mqtt", Fail)
		wantStatus(t, r, "sensors", Skip)
		wantStatus(t, r, "influx", Pass)
		wantLines(t, out,
			"✗ MQTT broker "+e.mq.URL()+` refused user "saqshy": wrong user name or password`,
			"fix: put the right password in "+c.passFile,
			"– 3 sensors not checked: the MQTT broker is not available",
			"1 problem marked ✗ must be fixed",
		)
	})

	t.Run("broker down", func(t *testing.T) {
		c := e.centre(t, "down")
		c.mqttURL = fmt.Sprintf("tcp://127.0.0.1:%d", testenv.FreePort(t))
		r, out := e.run(t, c, Options{})
		wantStatus(t, r, "mqtt", Fail)
		wantLines(t, out, "✗ MQTT broker "+c.mqttURL+" is not reachable", "fix: check that Mosquitto runs")
	})

	t.Run("influxdb down", func(t *testing.T) {
		c := e.centre(t, "idown")
		e.publishAll(t, "idown")
		c.influxURL = fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
		r, out := e.run(t, c, Options{})
		if r.OK() {
			t.Error("InfluxDB down: report OK")
		}
		wantStatus(t, r, "influx", Fail)
		wantStatus(t, r, "sensors", Pass)
		wantLines(t, out, "✗ InfluxDB "+c.influxURL+" is not reachable", "fix: check the centre's uplink (curl -sI "+c.influxURL+"/ping")
	})

	t.Run("bucket missing", func(t *testing.T) {
		c := e.centre(t, "nob")
		e.publishAll(t, "nob")
		c.bucket = "nosuchdb/autogen"
		r, out := e.run(t, c, Options{})
		if r.OK() {
			t.Error("bucket missing: report OK")
		}
		wantStatus(t, r, "influx", Fail)
		wantLines(t, out, "✗ InfluxDB "+e.in.URL()+` has no bucket "nosuchdb/autogen"`, "fix: create it")
	})

	t.Run("a sensor silent", func(t *testing.T) {
		c := e.centre(t, "silent")
		e.publishAll(t, "silent", "fridge-t")
		r, out := e.run(t, c, Options{Listen: 2 * time.Second})
		if r.OK() {
			t.Error("a silent sensor: report OK")
		}
		wantStatus(t, r, "sensors", Fail)
		wantStatus(t, r, "influx", Pass)
		wantLines(t, out,
			"✗ 2 of 3 sensors reported in the last 10m",
			"✓ room-101-t — Room 101 (room-101)",
			"✗ fridge-t — Treatment room fridge (med-fridge): nothing heard on tele/fridge-silent in 2s",
			"fix: for each sensor marked ✗",
		)
	})

	t.Run("a sensor's last reading is old", func(t *testing.T) {
		c := e.centre(t, "old")
		e.publishAll(t, "old", "room-101-t")
		e.publish(t, retained(sim.Zigbee2MQTT("zigbee2mqtt/room-101-old", sim.Reading{TemperatureC: 19}, time.Now().Add(-2*time.Hour))))
		r, out := e.run(t, c, Options{Listen: 2 * time.Second})
		wantStatus(t, r, "sensors", Fail)
		wantLines(t, out, "✗ room-101-t — Room 101 (room-101): last reading 2h ago (19.0 °C)")
	})

	t.Run("a sensor's messages are rejected", func(t *testing.T) {
		c := e.centre(t, "bad")
		e.publishAll(t, "bad", "room-101-t")
		e.publish(t, sim.Message{Topic: "zigbee2mqtt/room-101-bad", Payload: []byte("{not json"), Retained: true})
		r, out := e.run(t, c, Options{Listen: 2 * time.Second})
		wantStatus(t, r, "sensors", Fail)
		wantLines(t, out, "✗ room-101-t — Room 101 (room-101): 1 messages rejected, last: zigbee2mqtt zigbee2mqtt/room-101-bad: bad_json")
	})

	t.Run("live reading after start", func(t *testing.T) {
		c := e.centre(t, "live")
		e.publishAll(t, "live", "room-102-t")
		go func() {
			time.Sleep(500 * time.Millisecond)
			e.publish(t, sim.Saqshy("saqshy/doc-live/sensor/room-102-t", sim.Reading{TemperatureC: 22}, time.Now()))
		}()
		r, out := e.run(t, c, Options{Listen: 20 * time.Second})
		wantStatus(t, r, "sensors", Pass)
		wantLines(t, out, "✓ room-102-t — Room 102 (room-102): 22.0 °C, 0s ago")
	})

	t.Run("clock unsynchronised and time zone wrong", func(t *testing.T) {
		c := e.centre(t, "clk")
		e.publishAll(t, "clk")
		r, out := e.run(t, c, Options{Clock: fixedClock(false), Local: time.UTC})
		wantStatus(t, r, "clock", Fail)
		wantStatus(t, r, "timezone", Warn)
		wantLines(t, out,
			"✗ System clock is not synchronised",
			"! Time zone: the Pi is on UTC (UTC+0) but the centre is Asia/Almaty (UTC+5)",
			"sudo timedatectl set-timezone Asia/Almaty",
		)
	})

	t.Run("cameras and checkpoints", func(t *testing.T) {
		c := e.centre(t, "cam")
		c.extraLines = `cameras:
  - {id: cam-01, zones: [room-101], source: frigate, name: room101cam}
  - {id: cam-02, zones: [room-102], source: saqshy}
  - {id: cam-03, zones: [room-102], source: frigate, name: deadcam}
rounds: {checkpoints: [{id: cp-101, zone: room-101, tag: "04A22B1C"}]}
`
		e.publishAll(t, "cam")
		e.publish(t,
			sim.Message{Topic: "saqshy/doc-cam/camera/cam-02/health", Payload: []byte(`{"online":true,"fps":12}`), Retained: true},
			sim.Message{Topic: "saqshy/doc-cam/camera/cam-02/status", Payload: []byte(`online`), Retained: true},
		)
		go func() {
			time.Sleep(300 * time.Millisecond)
			e.publish(t, sim.Message{Topic: "frigate/stats", Payload: []byte(`{"cameras":{"room101cam":{"camera_fps":5.1},"deadcam":{"camera_fps":0}}}`)})
		}()
		r, out := e.run(t, c, Options{Listen: 2 * time.Second})
		wantStatus(t, r, "cameras", Fail)
		wantStatus(t, r, "checkpoints", Warn)
		wantLines(t, out,
			"✗ 2 of 3 cameras reported in the last 10m",
			"✓ cam-01 — Room 101 (room-101): 5.1 fps",
			"✓ cam-02 — Room 102 (room-102): health report, age unknown (the broker's retained copy), device says online",
			"✗ cam-03 — Room 102 (room-102): 0 fps: Frigate gets no picture in 2s",
			"! cp-101 — Room 101 (room-101): not scanned in the last 10m (saqshy/doc-cam/round/cp-101/scan)",
		)
	})
}

func TestDoctorConfigErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "centre.yaml")
	if err := os.WriteFile(path, []byte("centre: {id: Bad_ID}\nzones: [{id: a, kind: nosuchkind}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := Run(context.Background(), path, Options{})
	var b bytes.Buffer
	r.WriteTo(&b)
	out := b.String()
	if r.OK() || len(r.Checks) != 1 {
		t.Fatalf("invalid config: OK=%v, %d checks\n%s", r.OK(), len(r.Checks), out)
	}
	wantLines(t, out, "✗ Config "+path+" has errors", "centre.yaml:1: centre.id", "centre.yaml:2: zones[0].kind", "fix: correct the lines above")

	r = Run(context.Background(), filepath.Join(t.TempDir(), "missing.yaml"), Options{})
	b.Reset()
	r.WriteTo(&b)
	wantLines(t, b.String(), "cannot be read", "no such file or directory", "fix: give doctor the right file with --config")
}

func TestSpoolAndBuses(t *testing.T) {
	dir := t.TempDir()
	cfgText := fmt.Sprintf(`centre: {id: c1}
spool: {dir: %q, max_bytes: 1MiB}
zones: [{id: boiler, kind: boiler}, {id: room, kind: living}]
sensors:
  - {id: boiler-out, zone: boiler, source: ds18b20, address: 28-0316a2795eff}
  - {id: boiler-in, zone: boiler, source: ds18b20, address: 28-0316a2795e00}
  - {id: room-t, zone: room, source: sht4x, address: "0x44"}
`, filepath.Join(dir, "spool"))
	path := filepath.Join(dir, "centre.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgLoad := func() *Report {
		r := &Report{}
		c, err := loadForTest(path)
		if err != nil {
			t.Fatal(err)
		}
		opt := Options{W1Root: filepath.Join(dir, "w1"), DevRoot: filepath.Join(dir, "dev")}
		opt.defaults()
		r.add(checkSpool(c))
		r.add(checkBuses(c, &opt))
		return r
	}
	r := cfgLoad()
	var b bytes.Buffer
	r.WriteTo(&b)
	wantStatus(t, r, "spool", Fail)
	wantStatus(t, r, "buses", Fail)
	wantLines(t, b.String(),
		"✗ Spool directory "+filepath.Join(dir, "spool")+" does not exist",
		"fix: sudo install -d -o saqshy -g saqshy -m 0750",
		"✗ 1-Wire bus: "+filepath.Join(dir, "w1")+" is missing",
		"✗ I2C bus "+filepath.Join(dir, "dev", "i2c-1")+" is missing (needed by room-t)",
		"dtoverlay=w1-gpio", "dtparam=i2c_arm=on",
	)

	// Create the spool, the bus and one of the two probes.
	for _, d := range []string{"spool", "w1/28-0316a2795eff", "dev"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "dev", "i2c-1"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r = cfgLoad()
	b.Reset()
	r.WriteTo(&b)
	wantStatus(t, r, "spool", Pass)
	wantStatus(t, r, "buses", Fail)
	wantLines(t, b.String(),
		"✓ boiler-out — boiler: DS18B20 28-0316a2795eff is on the 1-Wire bus",
		"✗ boiler-in — boiler: DS18B20 28-0316a2795e00 is not on the 1-Wire bus",
		"✓ I2C bus "+filepath.Join(dir, "dev", "i2c-1")+" is present (for room-t)",
		"4.7 kΩ pull-up",
	)
	if err := os.MkdirAll(filepath.Join(dir, "w1/28-0316a2795e00"), 0o755); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, cfgLoad(), "buses", Pass)

	// A spool directory that cannot be written to (not as root: root writes anyway).
	if os.Geteuid() != 0 {
		if err := os.Chmod(filepath.Join(dir, "spool"), 0o500); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, cfgLoad(), "spool", Fail)
	}
	// A file where the directory should be.
	if err := os.RemoveAll(filepath.Join(dir, "spool")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "spool"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, cfgLoad(), "spool", Fail)
}

func TestWriteToSummary(t *testing.T) {
	r := &Report{Checks: []Check{{Name: "a", Status: Pass, Title: "fine"}, {Name: "b", Status: Warn, Title: "hmm", Fix: "do x\ndo y"}}}
	var b bytes.Buffer
	r.WriteTo(&b)
	want := "✓ fine\n! hmm\n  fix: do x\n       do y\n\nEverything needed passed (1 warning marked ! worth a look).\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if !r.OK() {
		t.Error("warnings only: not OK")
	}
}

func loadForTest(path string) (*config.Config, error) { return config.Load(path) }
