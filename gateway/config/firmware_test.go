package config_test

// These tests keep firmware-config/ true: the centre configs load, and what the
// device-side files (ESPHome, Tasmota, Zigbee2MQTT) make devices publish is what the
// example centre's gateway subscribes to and decodes.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/decode"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

const firmwareDir = "../../firmware-config"

// TestFirmwareCentresLoad: every centre config under firmware-config/centres/ passes
// check-config (config.Load) and gives a gateway (no topic claimed by two sources).
func TestFirmwareCentresLoad(t *testing.T) {
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(firmwareDir, "centres", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 2 {
		t.Fatalf("found %d centre configs in firmware-config/centres, want the example and a real centre", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := config.Load(f)
			if err != nil {
				t.Fatalf("check-config fails:\n%v", err)
			}
			if _, err := gateway.New(cfg, gateway.Options{}); err != nil {
				t.Fatalf("gateway: %v", err)
			}
		})
	}
}

// exampleCentre is firmware-config/centres/example.yaml with the topic filters its
// gateway subscribes to.
type exampleCentre struct {
	cfg    *config.Config
	topics []string
}

func loadExampleCentre(t *testing.T) exampleCentre {
	t.Helper()
	cfg, err := config.Load(filepath.Join(firmwareDir, "centres", "example.yaml"))
	if err != nil {
		t.Fatalf("example centre config: %v", err)
	}
	g, err := gateway.New(cfg, gateway.Options{})
	if err != nil {
		t.Fatalf("gateway for the example centre: %v", err)
	}
	return exampleCentre{cfg: cfg, topics: g.Topics()}
}

// subscribed reports whether the gateway receives messages published on topic.
func (c exampleCentre) subscribed(topic string) bool {
	return slices.ContainsFunc(c.topics, func(f string) bool { return topicMatch(f, topic) })
}

// sensors returns the network sensors of source whose Device() is device.
func (c exampleCentre) sensors(source, device string) []config.Sensor {
	var out []config.Sensor
	for _, s := range c.cfg.Sensors {
		if s.Source == source && s.Device() == device {
			out = append(out, s)
		}
	}
	return out
}

// topicMatch reports whether an MQTT topic filter (with + and #) matches topic.
func topicMatch(filter, topic string) bool {
	f, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, lvl := range f {
		switch {
		case lvl == "#":
			return true
		case i >= len(tl):
			return false
		case lvl != "+" && lvl != tl[i]:
			return false
		}
	}
	return len(f) == len(tl)
}

func TestTopicMatch(t *testing.T) {
	for _, c := range []struct {
		filter, topic string
		want          bool
	}{
		{"a/+/state", "a/x/state", true},
		{"a/+/state", "a/x/y/state", false},
		{"a/#", "a/b/c", true},
		{"a/b", "a/b", true},
		{"a/b", "a/b/c", false},
		{"a/b/c", "a/b", false},
	} {
		if got := topicMatch(c.filter, c.topic); got != c.want {
			t.Errorf("topicMatch(%q, %q) = %v", c.filter, c.topic, got)
		}
	}
}

// ---- ESPHome ----

// secret is a YAML scalar tagged !secret (a key of ESPHome's secrets.yaml).
type secret string

// lambda is a YAML scalar tagged !lambda (C++ code).
type lambda string

// yamlValue converts a YAML node to map[string]any / []any / string / secret /
// lambda. ESPHome's own tags (!secret, !lambda, ...) are kept as types instead of
// failing the decoder; plain scalars stay strings (ESPHome validates them itself).
func yamlValue(t *testing.T, n *yaml.Node) any {
	t.Helper()
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return yamlValue(t, n.Content[0])
	case yaml.AliasNode:
		return yamlValue(t, n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = yamlValue(t, n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			l = append(l, yamlValue(t, c))
		}
		return l
	case yaml.ScalarNode:
		switch n.Tag {
		case "!secret":
			return secret(n.Value)
		case "!lambda":
			return lambda(n.Value)
		case "!!null":
			return nil
		}
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			t.Fatalf("line %d: unexpected YAML tag %s", n.Line, n.Tag)
		}
		return n.Value
	}
	t.Fatalf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	return nil
}

var substRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// substitute applies ESPHome substitutions (${name} and $name) to every string.
func substitute(t *testing.T, v any, subs map[string]string) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = substitute(t, x, subs)
		}
	case []any:
		for i, x := range v {
			v[i] = substitute(t, x, subs)
		}
	case string:
		return substRE.ReplaceAllStringFunc(v, func(m string) string {
			sm := substRE.FindStringSubmatch(m)
			name := sm[1] + sm[2]
			val, ok := subs[name]
			if !ok {
				t.Errorf("substitution %s is not defined", m)
			}
			return val
		})
	}
	return v
}

// readESPHome parses an ESPHome file with its substitutions applied.
func readESPHome(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	doc, ok := yamlValue(t, &root).(map[string]any)
	if !ok {
		t.Fatalf("%s: not a YAML mapping", path)
	}
	subs := map[string]string{}
	if s, ok := doc["substitutions"].(map[string]any); ok {
		for k, v := range s {
			str, ok := v.(string)
			if !ok {
				t.Fatalf("%s: substitution %s is not a plain string", path, k)
			}
			subs[k] = str
		}
		delete(doc, "substitutions")
	}
	return substitute(t, doc, subs).(map[string]any)
}

// dig returns doc[k1][k2]..., or nil.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func digString(v any, keys ...string) string {
	s, _ := dig(v, keys...).(string)
	return s
}

// esphomeObjectID computes an entity's object id from its name the way ESPHome's
// Python code does (esphome/helpers.py: sanitize(snake_case(name))): lower-case,
// spaces to '_', every character other than a-z, 0-9, '-' and '_' dropped.
// (ESPHome's C++ str_sanitize replaces such characters with '_' instead; the names
// in firmware-config/esphome avoid them, see esphomeNameRE.)
func esphomeObjectID(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.ReplaceAll(name, " ", "_")) {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// esphomeNameRE: names whose object id every ESPHome version computes alike.
var esphomeNameRE = regexp.MustCompile(`^[A-Za-z0-9 _-]+$`)

func TestESPHomeObjectID(t *testing.T) {
	for name, want := range map[string]string{
		"Temperature":             "temperature",
		"temperature":             "temperature",
		"Humidity":                "humidity",
		"Fridge Temperature top":  "fridge_temperature_top",
		"Temp (°C)":               "temp_c",
		"Temperature-2":           "temperature-2",
		"Температура temperature": "_temperature",
	} {
		if got := esphomeObjectID(name); got != want {
			t.Errorf("esphomeObjectID(%q) = %q, want %q", name, got, want)
		}
	}
}

// esphomeEntities returns the entities (mappings with a name) of a sensor: item
// itself for one-value platforms (dallas_temp), else its sub-sensors (sht3xd's
// temperature and humidity).
func esphomeEntities(item map[string]any) []map[string]any {
	if _, ok := item["name"]; ok {
		return []map[string]any{item}
	}
	keys := make([]string, 0, len(item))
	for k := range item {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []map[string]any
	for _, k := range keys {
		if m, ok := item[k].(map[string]any); ok {
			out = append(out, esphomeEntities(m)...)
		}
	}
	return out
}

// publishJSON returns every mqtt.publish_json action in v.
func publishJSON(v any) []map[string]any {
	var out []map[string]any
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if m, ok := x.(map[string]any); ok && k == "mqtt.publish_json" {
				out = append(out, m)
				continue
			}
			out = append(out, publishJSON(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, publishJSON(x)...)
		}
	}
	return out
}

// TestESPHomeFirmware: each ESPHome file publishes sensor states and its status
// where the example centre's gateway subscribes, under a topic_prefix that is an
// esphome sensor's topic, with object ids that are configured keys and decode to a
// temperature or humidity; and scans on the native round topic of a configured
// checkpoint.
func TestESPHomeFirmware(t *testing.T) {
	centre := loadExampleCentre(t)
	files, err := filepath.Glob(filepath.Join(firmwareDir, "esphome", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found %d ESPHome files, want room-climate, fridge-probe and nfc-checkpoint", len(files))
	}
	dec, err := decode.New("esphome", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var metrics []telemetry.Metric
	scans := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			doc := readESPHome(t, f)
			node := digString(doc, "esphome", "name")
			if node == "" {
				t.Fatal("esphome.name is missing")
			}
			if dig(doc, "mqtt") == nil {
				t.Fatal("no mqtt: section: the gateway reads ESPHome nodes over MQTT")
			}
			if dig(doc, "api") != nil {
				t.Error("api: without Home Assistant makes the node reboot every 15 minutes; use mqtt: only")
			}
			for _, p := range [][]string{{"wifi", "password"}, {"mqtt", "password"}} {
				if _, ok := dig(doc, p...).(secret); !ok {
					t.Errorf("%s must be a !secret, not written in the file", strings.Join(p, "."))
				}
			}
			prefix := digString(doc, "mqtt", "topic_prefix")
			if prefix == "" {
				prefix = node // ESPHome's default
			}
			status := prefix + "/status"
			for _, m := range []struct{ key, payload string }{{"birth_message", "online"}, {"will_message", "offline"}} {
				if got := digString(doc, "mqtt", m.key, "topic"); got != status {
					t.Errorf("mqtt.%s.topic = %q, want %q", m.key, got, status)
				}
				if got := digString(doc, "mqtt", m.key, "payload"); got != m.payload {
					t.Errorf("mqtt.%s.payload = %q, want %q", m.key, got, m.payload)
				}
			}

			items, _ := dig(doc, "sensor").([]any)
			var entities []map[string]any
			for _, it := range items {
				if m, ok := it.(map[string]any); ok && digString(m, "internal") != "true" {
					entities = append(entities, esphomeEntities(m)...)
				}
			}
			if len(entities) > 0 {
				// A node with readings: it is an esphome sensor device of the centre.
				configured := centre.sensors(config.SourceESPHome, prefix)
				if len(configured) == 0 {
					t.Fatalf("topic_prefix %q is not the topic of any esphome sensor in centres/example.yaml", prefix)
				}
				if u := digString(doc, "mqtt", "username"); u != prefix {
					t.Errorf("mqtt.username %q: want the topic_prefix %q (the broker's ACL lets user X publish X/#)", u, prefix)
				}
				if !centre.subscribed(status) {
					t.Errorf("the gateway does not subscribe to %s", status)
				}
				samples, err := dec(status, []byte("online"))
				if err != nil || len(samples) != 1 || samples[0].Values[0] != (telemetry.Value{Metric: telemetry.Online, V: 1}) {
					t.Errorf("%s online: decoded %+v, %v", status, samples, err)
				}
			}
			for _, e := range entities {
				name, _ := e["name"].(string)
				if !esphomeNameRE.MatchString(name) {
					t.Errorf("sensor name %q: use letters, digits, spaces, '-' and '_' only, so every ESPHome version gives the same object id", name)
					continue
				}
				id := esphomeObjectID(name)
				state := prefix + "/sensor/" + id + "/state"
				if got := digString(e, "retain"); got != "false" {
					t.Errorf("sensor %q: retain is %q; want false (a retained reading without a time is dropped as stale)", name, got)
				}
				if got := digString(e, "qos"); got != "1" {
					t.Errorf("sensor %q: qos is %q; want 1 (QoS 0 is not queued for the gateway)", name, got)
				}
				if !centre.subscribed(state) {
					t.Errorf("the gateway does not subscribe to %s", state)
				}
				if !slices.ContainsFunc(centre.sensors(config.SourceESPHome, prefix), func(s config.Sensor) bool {
					return s.Key == "" || s.Key == id
				}) {
					t.Errorf("%s: no esphome sensor with topic %q and key %q in centres/example.yaml", state, prefix, id)
				}
				samples, err := dec(state, []byte("21.5"))
				if err != nil {
					t.Errorf("%s: the decoder rejects a reading: %v", state, err)
					continue
				}
				if len(samples) != 1 || samples[0].Device != prefix || samples[0].Key != id || len(samples[0].Values) != 1 {
					t.Errorf("%s: decoded %+v", state, samples)
					continue
				}
				v := samples[0].Values[0]
				if v.Metric != telemetry.Temperature && v.Metric != telemetry.Humidity || v.V != 21.5 {
					t.Errorf("%s: decoded %v = %g, want a temperature or humidity of 21.5", state, v.Metric, v.V)
				}
				metrics = append(metrics, v.Metric)
			}

			for _, pub := range publishJSON(doc) {
				scans++
				checkScan(t, centre, pub, prefix)
			}
		})
	}
	for _, m := range []telemetry.Metric{telemetry.Temperature, telemetry.Humidity} {
		if !slices.Contains(metrics, m) {
			t.Errorf("no ESPHome file publishes a %v", m)
		}
	}
	if scans == 0 {
		t.Error("no ESPHome file publishes a night-round scan (mqtt.publish_json)")
	}
}

// checkScan checks an NFC reader's mqtt.publish_json action: the Saqshy native scan
// topic saqshy/<centre>/round/<checkpoint>/scan of a configured checkpoint, not
// retained, QoS 1, with tag, reader and ts in the payload.
func checkScan(t *testing.T, centre exampleCentre, pub map[string]any, prefix string) {
	t.Helper()
	topic := digString(pub, "topic")
	lv := strings.Split(topic, "/")
	if len(lv) != 5 || lv[0] != "saqshy" || lv[2] != "round" || lv[4] != "scan" {
		t.Errorf("scan topic %q, want saqshy/<centre>/round/<checkpoint>/scan", topic)
		return
	}
	if lv[1] != centre.cfg.Centre.ID {
		t.Errorf("scan topic %q: centre %q, but the example centre is %q", topic, lv[1], centre.cfg.Centre.ID)
	}
	if !slices.ContainsFunc(centre.cfg.Rounds.Checkpoints, func(c config.Checkpoint) bool { return c.ID == lv[3] }) {
		t.Errorf("scan topic %q: checkpoint %q is not in rounds.checkpoints of centres/example.yaml", topic, lv[3])
	}
	if got := digString(pub, "retain"); got != "false" {
		t.Errorf("scan: retain is %q; want false (a retained scan is replayed on every reconnect)", got)
	}
	if got := digString(pub, "qos"); got != "1" {
		t.Errorf("scan: qos is %q; want 1", got)
	}
	payload := fmt.Sprint(pub["payload"])
	for _, field := range []string{"tag", "reader", "ts"} {
		if !strings.Contains(payload, `root["`+field+`"]`) {
			t.Errorf("scan payload does not set %q:\n%s", field, payload)
		}
	}
	// The reader's status lives next to its scans.
	if want := strings.TrimSuffix(topic, "/scan"); prefix != want {
		t.Errorf("reader topic_prefix = %q, want %q (its status next to its scans)", prefix, want)
	}
	// Today's saqshy decoder knows the topic as one of its own (not bad_topic); once
	// the gateway subscribes to round topics, the scan topic must be among them.
	dec, err := decode.New("saqshy", centre.cfg.Centre.Location)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"tag": "04A1B2C3D4E580", "reader": "r", "ts": 1767213000})
	if _, err := dec(topic, body); telemetry.Reason(err) == "bad_topic" {
		t.Errorf("the saqshy decoder calls %s a bad topic: %v", topic, err)
	}
	roundTopics := slices.ContainsFunc(centre.topics, func(f string) bool { return strings.Contains(f, "/round/") })
	if roundTopics && !centre.subscribed(topic) {
		t.Errorf("the gateway subscribes to round topics, but not to %s", topic)
	}
}

// ---- Tasmota ----

// readBacklog parses backlog.txt: '#' comment lines, and lines of console commands,
// each optionally a "Backlog a; b; c". It returns the commands by lower-case name.
func readBacklog(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cmds := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, rest, _ := strings.Cut(line, " "); strings.EqualFold(name, "Backlog") || strings.EqualFold(name, "Backlog0") {
			line = rest
		}
		for c := range strings.SplitSeq(line, ";") {
			name, arg, _ := strings.Cut(strings.TrimSpace(c), " ")
			if name == "" {
				t.Errorf("%s:%d: empty command", path, n)
				continue
			}
			key := strings.ToLower(name)
			if _, dup := cmds[key]; dup {
				t.Errorf("%s:%d: %s given twice", path, n, name)
			}
			cmds[key] = strings.TrimSpace(arg)
		}
	}
	return cmds
}

// TestTasmotaFirmware: the device's Topic gives tele/<Topic>/SENSOR and LWT that the
// example centre's gateway subscribes to, for tasmota sensors whose interval is the
// TelePeriod; a SENSOR message with their probe Ids decodes to one reading each.
func TestTasmotaFirmware(t *testing.T) {
	centre := loadExampleCentre(t)
	cmds := readBacklog(t, filepath.Join(firmwareDir, "tasmota", "backlog.txt"))
	topic := cmds["topic"]
	if topic == "" {
		t.Fatal("backlog.txt sets no Topic")
	}
	if ft, ok := cmds["fulltopic"]; ok && ft != "%prefix%/%topic%/" {
		t.Errorf("FullTopic %q: the gateway expects the default %%prefix%%/%%topic%%/ (tele/<Topic>/SENSOR)", ft)
	}
	if u := cmds["mqttuser"]; u != topic {
		t.Errorf("MqttUser %q: want the Topic %q (the broker's ACL lets user X publish tele/X/#)", u, topic)
	}
	device := "tele/" + topic
	configured := centre.sensors(config.SourceTasmota, device)
	if len(configured) == 0 {
		t.Fatalf("no tasmota sensor with topic %s/SENSOR in centres/example.yaml", device)
	}
	for _, leaf := range []string{"/SENSOR", "/LWT"} {
		if !centre.subscribed(device + leaf) {
			t.Errorf("the gateway does not subscribe to %s", device+leaf)
		}
	}

	period, err := strconv.Atoi(cmds["teleperiod"])
	if err != nil || period < 10 || period > 3600 {
		t.Errorf("TelePeriod %q: want 10..3600 seconds", cmds["teleperiod"])
	}
	for _, s := range configured {
		if got := s.Interval.Std(); got != time.Duration(period)*time.Second {
			t.Errorf("sensor %s: interval %v, but the device's TelePeriod is %ds", s.ID, got, period)
		}
	}

	// The device's Timezone must be the centre's UTC offset: Tasmota's Time has none.
	if tz, ok := cmds["timezone"]; ok && tz != "99" {
		offset, err := tasmotaOffset(tz)
		_, want := time.Now().In(centre.cfg.Centre.Location).Zone()
		switch {
		case err != nil:
			t.Errorf("Timezone %q: %v", tz, err)
		case offset != want:
			t.Errorf("Timezone %s is UTC%+ds, but the centre's zone %s is UTC%+ds now", tz, offset, centre.cfg.Centre.Timezone, want)
		}
	}

	// A SENSOR message as the device sends it (Time 2: with Epoch), one DS18B20 per
	// configured probe.
	dec, err := decode.New("tasmota", centre.cfg.Centre.Location)
	if err != nil {
		t.Fatal(err)
	}
	const epoch = 1768428600 // 2026-01-14T22:10:00Z
	msg := map[string]any{"Time": time.Unix(epoch, 0).In(centre.cfg.Centre.Location).Format("2006-01-02T15:04:05"), "Epoch": epoch, "TempUnit": "C"}
	var keys []string
	for i, s := range configured {
		if s.Key == "" {
			msg["DS18B20"] = map[string]any{"Temperature": 4.9}
			continue
		}
		keys = append(keys, s.Key)
		msg[fmt.Sprintf("DS18B20-%d", i+1)] = map[string]any{"Id": s.Key, "Temperature": 4.9}
	}
	body, _ := json.Marshal(msg)
	samples, err := dec(device+"/SENSOR", body)
	if err != nil {
		t.Fatalf("%s %s: %v", device+"/SENSOR", body, err)
	}
	var got []string
	for _, s := range samples {
		if s.Device != device || !s.Time.Equal(time.Unix(epoch, 0)) || len(s.Values) != 1 || s.Values[0].Metric != telemetry.Temperature {
			t.Errorf("decoded %+v", s)
		}
		if s.Key != "" && !strings.HasPrefix(s.Key, "DS18B20") {
			got = append(got, s.Key)
		}
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("decoded probe keys %v, configured %v", got, keys)
	}
	if s, err := dec(device+"/LWT", []byte("Online")); err != nil || s[0].Values[0] != (telemetry.Value{Metric: telemetry.Online, V: 1}) {
		t.Errorf("%s/LWT Online: %+v, %v", device, s, err)
	}
}

// tasmotaOffset parses Tasmota's Timezone argument, "-13..13" or "+HH:MM", to
// seconds east of UTC.
func tasmotaOffset(tz string) (int, error) {
	sign := 1
	switch {
	case strings.HasPrefix(tz, "-"):
		sign, tz = -1, tz[1:]
	case strings.HasPrefix(tz, "+"):
		tz = tz[1:]
	}
	h, m, hasMin := strings.Cut(tz, ":")
	hours, err := strconv.Atoi(h)
	if err != nil || hours > 13 {
		return 0, errors.New("want -13..13 or +HH:MM")
	}
	mins := 0
	if hasMin {
		if mins, err = strconv.Atoi(m); err != nil || mins > 59 {
			return 0, errors.New("want -13..13 or +HH:MM")
		}
	}
	return sign * (hours*3600 + mins*60), nil
}

func TestTasmotaOffset(t *testing.T) {
	for tz, want := range map[string]int{"5": 18000, "+5": 18000, "+05:30": 19800, "-3:30": -12600, "0": 0, "-13": -46800} {
		if got, err := tasmotaOffset(tz); err != nil || got != want {
			t.Errorf("tasmotaOffset(%q) = %d, %v; want %d", tz, got, err, want)
		}
	}
	for _, tz := range []string{"", "x", "14", "5:99"} {
		if _, err := tasmotaOffset(tz); err == nil {
			t.Errorf("tasmotaOffset(%q): no error", tz)
		}
	}
}

// ---- Zigbee2MQTT ----

// TestZigbee2MQTTFirmware: base_topic/<friendly name> of every device is a
// zigbee2mqtt sensor topic of the example centre, subscribed with its availability,
// and a message with last_seen decodes to readings with that time.
func TestZigbee2MQTTFirmware(t *testing.T) {
	centre := loadExampleCentre(t)
	data, err := os.ReadFile(filepath.Join(firmwareDir, "zigbee2mqtt", "configuration.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	base := "zigbee2mqtt" // Zigbee2MQTT's default
	if b, ok := dig(doc, "mqtt", "base_topic").(string); ok {
		base = b
	}
	if on, _ := dig(doc, "availability", "enabled").(bool); !on {
		t.Error("availability.enabled is not true: the gateway reads <base>/<name>/availability")
	}
	lastSeen, _ := dig(doc, "advanced", "last_seen").(string)
	if !slices.Contains([]string{"ISO_8601", "ISO_8601_local", "epoch"}, lastSeen) {
		t.Errorf("advanced.last_seen = %q: want ISO_8601, ISO_8601_local or epoch, the reading's time", lastSeen)
	}
	if pw, _ := dig(doc, "mqtt", "password").(string); !strings.HasPrefix(pw, "!secret") {
		t.Errorf("mqtt.password must come from secret.yaml ('!secret.yaml password'), not be written here")
	}

	devices, _ := doc["devices"].(map[string]any)
	if len(devices) == 0 {
		t.Fatal("no devices: with friendly names")
	}
	dec, err := decode.New("zigbee2mqtt", centre.cfg.Centre.Location)
	if err != nil {
		t.Fatal(err)
	}
	for ieee, d := range devices {
		name, _ := dig(d, "friendly_name").(string)
		if name == "" {
			t.Errorf("device %s has no friendly_name", ieee)
			continue
		}
		topic := base + "/" + name
		if len(centre.sensors(config.SourceZigbee2MQTT, topic)) == 0 {
			t.Errorf("device %s: no zigbee2mqtt sensor with topic %q in centres/example.yaml", ieee, topic)
		}
		for _, tp := range []string{topic, topic + "/availability"} {
			if !centre.subscribed(tp) {
				t.Errorf("the gateway does not subscribe to %s", tp)
			}
		}
		when := time.Date(2026, 1, 14, 22, 10, 0, 0, time.UTC)
		body := fmt.Sprintf(`{"temperature":21.34,"humidity":44.72,"battery":91,"linkquality":84,"last_seen":%q}`, when.Format("2006-01-02T15:04:05.000Z"))
		samples, err := dec(topic, []byte(body))
		if err != nil || len(samples) != 1 {
			t.Errorf("%s %s: %+v, %v", topic, body, samples, err)
			continue
		}
		s := samples[0]
		if s.Device != topic || !s.Time.Equal(when) {
			t.Errorf("%s: decoded device %q time %v, want %q %v", topic, s.Device, s.Time, topic, when)
		}
		var ms []telemetry.Metric
		for _, v := range s.Values {
			ms = append(ms, v.Metric)
		}
		if !slices.Contains(ms, telemetry.Temperature) || !slices.Contains(ms, telemetry.Humidity) {
			t.Errorf("%s: decoded metrics %v, want temperature and humidity", topic, ms)
		}
		if a, err := dec(topic+"/availability", []byte(`{"state":"online"}`)); err != nil || a[0].Device != topic || a[0].Values[0] != (telemetry.Value{Metric: telemetry.Online, V: 1}) {
			t.Errorf("%s/availability: %+v, %v", topic, a, err)
		}
	}
}
