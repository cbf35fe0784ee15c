package config

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/zonekind"
)

func TestExampleLoads(t *testing.T) {
	cfg, err := Parse("example.yaml", Example())
	if err != nil {
		t.Fatalf("the embedded example does not load:\n%v", err)
	}
	// Every source and section is shown to the technician.
	sources := map[string]bool{}
	for _, s := range cfg.Sensors {
		sources[s.Source] = true
	}
	for _, src := range []string{SourceZigbee2MQTT, SourceTasmota, SourceESPHome, SourceShelly, SourceSaqshy, SourceDS18B20} {
		if !sources[src] {
			t.Errorf("the example has no %s sensor", src)
		}
	}
	if len(cfg.Cameras) == 0 || len(cfg.Rounds.Checkpoints) == 0 || len(cfg.Alerts.Recipients) == 0 || cfg.Influx.URL == "" {
		t.Errorf("the example lacks a section:\n%s", cfg.Summary())
	}
	for _, key := range []string{"centre:", "mqtt:", "influx:", "spool:", "status:", "zones:", "sensors:", "cameras:", "rounds:", "alerts:",
		"client_id", "ca_file", "cert_file", "key_file", "max_inflight", "keep_alive", "silence_timeout",
		"batch_size", "flush_interval", "timeout:", "max_bytes", "listen:", "interval:", "window:", "lang:"} {
		if !bytes.Contains(Example(), []byte(key)) {
			t.Errorf("the example does not mention %q", key)
		}
	}
}

func TestExampleCopiesMatch(t *testing.T) {
	other, err := os.ReadFile("../../firmware-config/centres/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(other, Example()) {
		t.Fatal("firmware-config/centres/example.yaml differs from gateway/config/example.yaml: cp gateway/config/example.yaml firmware-config/centres/")
	}
}

func TestShymkentLoads(t *testing.T) {
	cfg, err := Load("../../firmware-config/centres/shymkent-csu-2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cfg.Zones); n < 40 {
		t.Errorf("%d zones, want about 40 rooms or more", n)
	}
	if n := len(cfg.Sensors); n < 55 {
		t.Errorf("%d sensors, want about 60", n)
	}
	if n := len(cfg.Cameras); n < 25 {
		t.Errorf("%d cameras, want about 25", n)
	}
	if len(cfg.Rounds.Checkpoints) < 10 {
		t.Errorf("%d checkpoints", len(cfg.Rounds.Checkpoints))
	}
	// Every living, medical and dining zone is covered by a camera.
	covered := map[string]bool{}
	for _, c := range cfg.Cameras {
		for _, z := range c.Zones {
			covered[z] = true
		}
	}
	for _, z := range cfg.Zones {
		switch z.Kind {
		case "living", "medical", "dining", "play", "entrance":
			if !covered[z.ID] {
				t.Errorf("zone %s (%s) has no camera", z.ID, z.Kind)
			}
		}
	}
}

// TestAllCentreConfigsLoad keeps every config under firmware-config/centres valid.
func TestAllCentreConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../firmware-config/centres/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("centre configs: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%v", err)
		}
	}
}

const minimal = "centre: {id: shymkent-csu-2}\n"

func TestDefaults(t *testing.T) {
	cfg, err := Parse("minimal.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Centre.ID = "shymkent-csu-2"
	if cfg.File != "minimal.yaml" {
		t.Errorf("File = %q", cfg.File)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"timezone", cfg.Centre.Timezone, "Asia/Almaty"},
		{"location", cfg.Centre.Location.String(), "Asia/Almaty"},
		{"mqtt.url", cfg.MQTT.URL, "tcp://127.0.0.1:1884"},
		{"mqtt.client_id", cfg.MQTT.ClientID, "saqshy-shymkent-csu-2"},
		{"mqtt.max_inflight", cfg.MQTT.MaxInflight, 256},
		{"mqtt.keep_alive", cfg.MQTT.KeepAlive.Std(), 30 * time.Second},
		{"mqtt.silence_timeout", cfg.MQTT.SilenceTimeout.Std(), 10 * time.Minute},
		{"influx.url", cfg.Influx.URL, ""},
		{"influx.batch_size", cfg.Influx.BatchSize, 5000},
		{"influx.flush_interval", cfg.Influx.FlushInterval.Std(), 10 * time.Second},
		{"influx.timeout", cfg.Influx.Timeout.Std(), 10 * time.Second},
		{"spool.dir", cfg.Spool.Dir, "/var/lib/saqshy/spool"},
		{"spool.max_bytes", cfg.Spool.MaxBytes, 2 * GiB},
		{"status.listen", cfg.Status.Listen, "127.0.0.1:8080"},
		{"rounds.window", cfg.Rounds.Window, "22:00-06:00"},
		{"rounds.interval", cfg.Rounds.Interval.Std(), 2 * time.Hour},
		// Default() holds the same section defaults.
		{"Default().MQTT", want.MQTT.URL + want.MQTT.KeepAlive.String(), cfg.MQTT.URL + cfg.MQTT.KeepAlive.String()},
		{"Default().Spool", want.Spool, cfg.Spool},
		{"Default().Influx", want.Influx, cfg.Influx},
		{"Default().Rounds.Window", want.Rounds.Window, cfg.Rounds.Window},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestElementDefaults(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte(minimal+`
zones: [{id: z, kind: living}]
sensors:
  - {id: a, zone: z, source: tasmota, topic: tele/a/SENSOR}
  - {id: b, zone: z, source: zigbee2mqtt, topic: zigbee2mqtt/b}
  - {id: c, zone: z, source: esphome, topic: c-node}
  - {id: d, zone: z, source: shelly, topic: shellies/shellyht-d}
  - {id: e, zone: z, source: saqshy}
  - {id: f, zone: z, source: ds18b20, address: 28-0316a2795eff}
  - {id: g, zone: z, source: zigbee2mqtt, topic: zigbee2mqtt/g, interval: 90s}
  - {id: h, zone: z, source: zigbee2mqtt, topic: zigbee2mqtt/h, interval: }
alerts:
  recipients: [{name: D, email: d@example.org}, {name: E, lang: kk, email: e@example.org}]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{300 * time.Second, 5 * time.Minute, time.Minute, 10 * time.Minute, time.Minute, 30 * time.Second, 90 * time.Second, 5 * time.Minute}
	for i, s := range cfg.Sensors {
		if s.Interval.Std() != want[i] {
			t.Errorf("sensor %s interval = %s, want %s", s.ID, s.Interval, want[i])
		}
	}
	if got := cfg.Sensors[4].Topic; got != "saqshy/shymkent-csu-2/sensor/e" {
		t.Errorf("saqshy topic = %q", got)
	}
	if cfg.Alerts.Recipients[0].Lang != "ru" || cfg.Alerts.Recipients[1].Lang != "kk" {
		t.Errorf("langs = %+v", cfg.Alerts.Recipients)
	}
}

// An empty value means "default"; an explicit zero is taken as written.
func TestNullKeepsDefault(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte(minimal+"mqtt:\n  keep_alive:\n  url:\nspool: {max_bytes: ~}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MQTT.KeepAlive != DefaultKeepAlive || cfg.MQTT.URL != DefaultMQTTURL || cfg.Spool.MaxBytes != DefaultSpoolMaxBytes {
		t.Errorf("defaults lost: %+v %+v", cfg.MQTT, cfg.Spool)
	}
}

func TestApplyDefaultsAndValidateInCode(t *testing.T) {
	c := Default()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "centre.id: required") {
		t.Fatalf("Default().Validate() = %v, want centre.id required", err)
	}
	c.Centre.ID = "demo"
	c.Zones = []Zone{{ID: "room-1", Kind: "living"}}
	c.Sensors = []Sensor{{ID: "s", Zone: "room-1", Source: SourceSaqshy}}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MQTT.ClientID != "saqshy-demo" || c.Sensors[0].Device() != "saqshy/demo/sensor/s" || c.Centre.Location == nil {
		t.Errorf("ApplyDefaults: client id %q, device %q, location %v", c.MQTT.ClientID, c.Sensors[0].Device(), c.Centre.Location)
	}
	// A config built in code has no file and no lines.
	c.Sensors[0].Zone = "room-2"
	err := c.Validate()
	fes := FieldErrors(err)
	if len(fes) != 1 || fes[0].Error() != `sensors[0].zone: unknown zone "room-2" (did you mean "room-1"?)` {
		t.Errorf("got %q", err)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		fe   FieldError
		want string
	}{
		{FieldError{"example.yaml", 42, "sensors[3].zone", errors.New(`unknown zone "room-1O1" (did you mean "room-101"?)`)},
			`example.yaml:42: sensors[3].zone: unknown zone "room-1O1" (did you mean "room-101"?)`},
		{FieldError{"example.yaml", 0, "centre.id", errors.New("required")}, "example.yaml: centre.id: required"},
		{FieldError{"example.yaml", 3, "", errors.New("YAML syntax error: x")}, "example.yaml:3: YAML syntax error: x"},
		{FieldError{"", 0, "mqtt.max_inflight", errors.New("bad")}, "mqtt.max_inflight: bad"},
		{FieldError{"", 7, "", errors.New("bad")}, "line 7: bad"},
	}
	for _, tt := range tests {
		if got := tt.fe.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	inner := fs.ErrNotExist
	fe := &FieldError{Err: inner}
	if !errors.Is(fe, fs.ErrNotExist) {
		t.Error("FieldError does not unwrap")
	}
}

func TestErrorsAreFieldErrors(t *testing.T) {
	_, err := Parse("x.yaml", []byte("centre: {id: X}\nzones: [{id: a, kind: nope}]\n"))
	fes := FieldErrors(err)
	if len(fes) != 2 {
		t.Fatalf("%d FieldErrors in %v", len(fes), err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Line != 1 || fe.Field != "centre.id" {
		t.Errorf("errors.As: %+v", fe)
	}
	if fes[1].Line != 2 || fes[1].Field != "zones[0].kind" {
		t.Errorf("second: %+v", fes[1])
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("Load(missing) = %v", err)
	}
}

func TestLoadNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "centre.yaml")
	if err := os.WriteFile(path, []byte("centre: {id: a}\nmqtt: {max_inflight: 0}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ":2: mqtt.max_inflight: must be between 1 and 65535, got 0"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	for _, name := range []string{"secret-in-file.yaml", "mqtt-url-credentials.yaml"} {
		data, err := os.ReadFile("testdata/bad/" + name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(name, data)
		if err == nil || strings.Contains(err.Error(), "do-not-print") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDevice(t *testing.T) {
	tests := []struct {
		s    Sensor
		want string
	}{
		{Sensor{Source: SourceZigbee2MQTT, Topic: "zigbee2mqtt/room-101"}, "zigbee2mqtt/room-101"},
		{Sensor{Source: SourceZigbee2MQTT, Topic: "zigbee2mqtt/Living room/left"}, "zigbee2mqtt/Living room/left"},
		{Sensor{Source: SourceTasmota, Topic: "tele/fridge-1/SENSOR"}, "tele/fridge-1"},
		{Sensor{Source: SourceTasmota, Topic: "tele/fridge-1/LWT"}, "tele/fridge-1"},
		{Sensor{Source: SourceTasmota, Topic: "tele/fridge-1/STATE"}, "tele/fridge-1"},
		{Sensor{Source: SourceTasmota, Topic: "tele/fridge-1"}, "tele/fridge-1"},
		{Sensor{Source: SourceTasmota, Topic: "fridge-1/tele/SENSOR"}, "fridge-1/tele"},
		{Sensor{Source: SourceESPHome, Topic: "room-101-node"}, "room-101-node"},
		{Sensor{Source: SourceESPHome, Topic: "centre/room-101"}, "centre/room-101"},
		{Sensor{Source: SourceShelly, Topic: "shellies/shellyht-AB12"}, "shellies/shellyht-AB12"},
		{Sensor{Source: SourceShelly, Topic: "shellyplusht-b8d61a8b17cc"}, "shellyplusht-b8d61a8b17cc"},
		{Sensor{Source: SourceSaqshy, Topic: "saqshy/c/sensor/s"}, "saqshy/c/sensor/s"},
		{Sensor{Source: SourceDS18B20, Address: "28-0316A2795EFF"}, "28-0316a2795eff"},
		{Sensor{Source: SourceSHT3x, Address: "0x44"}, "i2c1:0x44"},
		{Sensor{Source: SourceSHT4x, Address: "I2C0:0X45"}, "i2c0:0x45"},
		{Sensor{Source: SourceBME280, Address: "i2c1:0x76"}, "i2c1:0x76"},
	}
	for _, tt := range tests {
		if got := tt.s.Device(); got != tt.want {
			t.Errorf("%s %q%q: Device() = %q, want %q", tt.s.Source, tt.s.Topic, tt.s.Address, got, tt.want)
		}
		if tt.s.Local() != (tt.s.Address != "") {
			t.Errorf("%s: Local() = %v", tt.s.Source, tt.s.Local())
		}
	}
	cfg, err := Parse("x.yaml", []byte(minimal+"zones: [{id: z, kind: living}]\nsensors: [{id: s-1, zone: z, source: saqshy}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sensors[0].Device(); got != "saqshy/shymkent-csu-2/sensor/s-1" {
		t.Errorf("saqshy default device = %q", got)
	}
}

func TestZoneKinds(t *testing.T) {
	kinds := zonekind.All()
	want := []string{"living", "children-bedroom", "medical", "dining", "kitchen", "play", "activity", "corridor", "stairs", "entrance",
		"reception", "office", "cool-room", "med-fridge", "food-fridge", "freezer", "hot-water", "water-outlet", "boiler",
		"bathroom", "toilet", "changing", "laundry", "outdoor", "technical", "other"}
	if len(kinds) != len(want) {
		t.Errorf("%d kinds, want %d", len(kinds), len(want))
	}
	for i := 1; i < len(kinds); i++ {
		if kinds[i-1].Name >= kinds[i].Name {
			t.Errorf("not sorted: %s >= %s", kinds[i-1].Name, kinds[i].Name)
		}
	}
	for _, name := range want {
		k, ok := zonekind.Lookup(name)
		if !ok || k.Description == "" {
			t.Errorf("kind %s missing or undescribed", name)
		}
		if k.Private != (name == "bathroom" || name == "toilet" || name == "changing") {
			t.Errorf("kind %s: Private = %v", name, k.Private)
		}
	}
	if _, ok := zonekind.Lookup("bedroom"); ok {
		t.Error("bedroom is not a kind")
	}
	kinds[0].Name = "mutated"
	if zonekind.All()[0].Name == "mutated" {
		t.Error("ZoneKinds returns the package's slice")
	}
}

func TestWindowBounds(t *testing.T) {
	tests := []struct {
		w          string
		start, end time.Duration
		ok         bool
	}{
		{"22:00-06:00", 22 * time.Hour, 6 * time.Hour, true},
		{"21:30-23:45", 21*time.Hour + 30*time.Minute, 23*time.Hour + 45*time.Minute, true},
		{"0:00-24:00", 0, 24 * time.Hour, false}, // same instant: empty
		{"20:00-24:00", 20 * time.Hour, 24 * time.Hour, true},
		{"22:00 - 06:00", 22 * time.Hour, 6 * time.Hour, true},
		{"22-06", 0, 0, false},
		{"25:00-06:00", 0, 0, false},
		{"22:60-06:00", 0, 0, false},
		{"22:00", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		s, e, err := Rounds{Window: tt.w}.WindowBounds()
		if (err == nil) != tt.ok || (tt.ok && (s != tt.start || e != tt.end)) {
			t.Errorf("%q: %v %v %v", tt.w, s, e, err)
		}
	}
}

func TestSummary(t *testing.T) {
	cfg, err := Load("../../firmware-config/centres/shymkent-csu-2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sum := cfg.Summary()
	for _, want := range []string{"shymkent-csu-2", "Asia/Almaty", "living 16", "zigbee2mqtt", "ds18b20 2", "cameras  27", "checkpoints",
		"tcp://127.0.0.1:1884", "https://influx.ministry.example.org", "8GiB"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	c := Default()
	c.Centre.ID = "x"
	c.MQTT.URL = "tcp://user:hunter2@127.0.0.1:1883"
	if s := c.Summary(); strings.Contains(s, "hunter2") || !strings.Contains(s, "spool only") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct{ s, want string }{
		{"room-1O1", "room-101"},
		{"intervall", "interval"},
		{"nmae", "name"},
		{"zigbee", "zigbee2mqtt"},
		{"DS18B20", "ds18b20"},
		{"max-inflight", "max_inflight"},
		{"foo", ""},
		{"x", ""},
	}
	cands := []string{"room-101", "room-102", "interval", "name", "zigbee2mqtt", "ds18b20", "max_inflight", "fop-long"}
	for _, tt := range tests {
		if got := suggest(tt.s, cands); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestCheckTopic(t *testing.T) {
	tests := []struct {
		source, topic string
		ok            bool
	}{
		{SourceZigbee2MQTT, "zigbee2mqtt/Living room 1", true},
		{SourceZigbee2MQTT, "zigbee2mqtt/room/set", false},
		{SourceTasmota, "tele/fridge-1/SENSOR", true},
		{SourceTasmota, "fridge-1/tele/SENSOR", true},
		{SourceTasmota, "fridge-1", false},
		{SourceESPHome, "room-101-node", true},
		{SourceESPHome, "centre/sensor/room-101", true},
		{SourceESPHome, "room-101-node/sensor/temp/state", false},
		{SourceESPHome, "room-101-node/binary_sensor/door/state", false},
		{SourceShelly, "shellies/shellyht-AB12", true},
		{SourceShelly, "home/sensor/bath", true},
		{SourceShelly, "shellyplusht-b8d6/events/rpc", false},
		{SourceShelly, "shellyplusht-b8d6/status/temperature:0", false},
		{SourceShelly, "shellies/shellyht-AB12/online", false},
		{SourceShelly, "shellies/shelly1-AB12/ext_temperature/0", false},
		{SourceSaqshy, "saqshy/c/sensor/s", true},
		{SourceSaqshy, "saqshy/c/sensor/s/status", false},
		{SourceZigbee2MQTT, "a\x00b", false},
	}
	for _, tt := range tests {
		err := checkTopic(tt.source, tt.topic, "")
		if (err == nil) != tt.ok {
			t.Errorf("%s %q: %v", tt.source, tt.topic, err)
		}
	}
}

// A type error the decoder reports but Parse cannot place still leaves the other
// problems reported.
func TestUnplacedDecodeErrorKeepsOthers(t *testing.T) {
	_, err := Parse("x.yaml", []byte("centre: {id: X}\n[a]: b\n"))
	fes := FieldErrors(err)
	if len(fes) != 2 {
		t.Fatalf("got %v", err)
	}
}

func TestRedact(t *testing.T) {
	for _, raw := range []string{"tcp://u:hunter2@h:1883", "https://u:hun%zzter2@h", "u:hunter2@h:1883", "tcp://hunter2@h"} {
		if got := redact(raw); strings.Contains(got, "hunter2") || strings.Contains(got, "zz") {
			t.Errorf("redact(%q) = %q", raw, got)
		}
	}
}
