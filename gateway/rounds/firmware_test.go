package rounds

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

const firmwareDir = "../../firmware-config"

// TestFirmwareScans: what the checkpoint devices in firmware-config publish is a
// scan at the right checkpoint of centres/example.yaml: the ESPHome NFC reader
// (native topic), the Tasmota RFID reader and the Zigbee2MQTT button.
func TestFirmwareScans(t *testing.T) {
	cfg, err := config.Load(filepath.Join(firmwareDir, "centres", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]config.Checkpoint{}
	for _, cp := range cfg.Rounds.Checkpoints {
		byID[cp.ID] = cp
	}

	// ESPHome: substitutions name the centre, checkpoint and reader; on_tag publishes
	// tag (dashes removed), reader and ts on the native topic.
	var esp struct {
		Substitutions map[string]string `yaml:"substitutions"`
	}
	data, err := os.ReadFile(filepath.Join(firmwareDir, "esphome", "nfc-checkpoint.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &esp); err != nil {
		t.Fatal(err)
	}
	sub := esp.Substitutions
	if sub["centre"] != cfg.Centre.ID {
		t.Errorf("nfc-checkpoint.yaml centre %q, example centre %q", sub["centre"], cfg.Centre.ID)
	}
	cp, ok := byID[sub["checkpoint"]]
	if !ok || cp.Reader != sub["node_name"] {
		t.Errorf("nfc-checkpoint.yaml checkpoint %q reader %q: not a checkpoint with that reader in example.yaml (%+v)", sub["checkpoint"], sub["node_name"], cp)
	}
	if !strings.Contains(string(data), "topic: saqshy/${centre}/round/${checkpoint}/scan") {
		t.Error("nfc-checkpoint.yaml does not publish on the native scan topic")
	}

	// Tasmota: Topic cp-xxx-reader is a tasmota checkpoint's tele/<Topic>/SENSOR.
	tas, err := os.ReadFile(filepath.Join(firmwareDir, "tasmota", "rfid-reader.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Backlog .*\bTopic ([a-z0-9-]+);`).FindSubmatch(tas)
	if m == nil {
		t.Fatal("rfid-reader.txt sets no Topic")
	}
	tasTopic := "tele/" + string(m[1]) + "/SENSOR"

	// Zigbee2MQTT: the button's friendly name is a zigbee2mqtt checkpoint's topic.
	var z2m struct {
		Devices map[string]struct {
			FriendlyName string `yaml:"friendly_name"`
		} `yaml:"devices"`
	}
	zdata, err := os.ReadFile(filepath.Join(firmwareDir, "zigbee2mqtt", "checkpoint-button.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(zdata, &z2m); err != nil || len(z2m.Devices) != 1 {
		t.Fatalf("checkpoint-button.yaml: %v %v", z2m, err)
	}
	var button string
	for _, d := range z2m.Devices {
		button = "zigbee2mqtt/" + d.FriendlyName
	}

	conds := newCondLog()
	ck, err := New(Options{Config: cfg, Conditions: conds})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 15, 21, 50, 0, 0, cfg.Centre.Location)
	for now := start; now.Before(start.Add(20 * time.Minute)); now = now.Add(time.Minute) {
		ck.Tick(now, true)
	}
	now := start.Add(20 * time.Minute)
	for i, msg := range []struct{ topic, payload, cp string }{
		{config.RoundsTopic(cfg.Centre.ID, sub["checkpoint"]), fmt.Sprintf(`{"tag":"04A1B2C3D4E580","reader":%q,"ts":%d}`, sub["node_name"], now.Unix()), sub["checkpoint"]},
		{tasTopic, `{"Time":"2026-01-15T22:11:00","PN532":{"UID":"04A1B2C3D4E580","DATA":""}}`, ""},
		{button, `{"action":"single","battery":97,"linkquality":120}`, ""},
	} {
		now = now.Add(time.Minute)
		evs, err := ck.Message(telemetry.Message{Topic: msg.topic, Payload: []byte(msg.payload), Received: now}, true)
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s: %v %v", msg.topic, evs, err)
		}
		e := evs[0]
		if f := fields(e); f["counted"] != true || tag(e, "reason") != "" || (msg.cp != "" && tag(e, "checkpoint") != msg.cp) {
			t.Errorf("scan %d on %s: %v %v", i, msg.topic, e.Point.Tags, f)
		}
		if i == 1 && tag(e, "staff") != "nurse-aigul" {
			t.Errorf("the Tasmota card is not the example badge: %v", e.Point.Tags)
		}
	}
}
