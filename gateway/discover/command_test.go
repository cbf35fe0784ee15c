package discover

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/corpus"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

// familyRow is one row of TestDiscoverCommandNamesFamilies: real captures of one
// device family (gateway/decode/testdata/corpus), and the config line discover must
// print for it, whose comment names the family.
type familyRow struct {
	family   string   // "" for a camera
	captures []string // "file: capture name"
	// extra are messages that are not captures, published before them.
	extra  []sim.Message
	line   string   // the start of the printed config line, up to its comment
	report []string // what else the report must say
}

// TestDiscoverCommandNamesFamilies runs the real `saqshy-gateway discover` against a
// real Mosquitto fed one real capture of each device family, checks that the report
// and the printed config block name each family, and that `saqshy-gateway
// check-config` accepts the block once its zones are filled in.
func TestDiscoverCommandNamesFamilies(t *testing.T) {
	rows := []familyRow{{
		family:   FamilyZigbee2MQTT,
		captures: []string{"zigbee2mqtt-issues.txt: Viessmann ViCare TRV (Z2M 1.x, 2020), friendly name with a slash"},
		line:     "source: zigbee2mqtt, topic: zigbee2mqtt/bedroom/radiator}",
	}, {
		family:   FamilyTasmota,
		captures: []string{"tasmota-users.txt: AM2301 with FullTopic %topic%/%prefix%/ (Home Assistant discovery setup, 2019)"},
		line:     "source: tasmota, topic: device_name/tele/SENSOR}",
	}, {
		family:   FamilyZbReceived,
		captures: []string{"tasmota-docs.txt: ZbReceived SNZB-02 temperature and humidity"},
		line:     "source: tasmota, topic: tele/tasmota/SENSOR, key: 0x2916}",
	}, {
		family:   FamilyMI32,
		captures: []string{"tasmota-docs.txt: MI32 BLE thermometers LYWSD03/LYWSD02/MJ_HT_V1"},
		line:     "source: tasmota, topic: tele/tasmota/SENSOR, key: LYWSD03-52680f}",
	}, {
		// The node's discovery message is not a capture (none in °F was found): it
		// is what ESPHome's mqtt component publishes for a sensor in °F.
		family: FamilyESPHome,
		extra: []sim.Message{{Topic: "homeassistant/sensor/esp-weather-outdoor/temperature/config", Payload: []byte(
			`{"dev_cla":"temperature","unit_of_meas":"°F","stat_cla":"measurement","name":"Temperature","stat_t":"esp-weather-outdoor/sensor/temperature/state","avty_t":"esp-weather-outdoor/status","uniq_id":"ESPsensortemperature","dev":{"ids":"c8c9a3a1b2c3","name":"esp-weather-outdoor","sw":"esphome v2023.6.0","mdl":"esp32dev","mf":"espressif"}}`)}},
		captures: []string{"esphome-issues.txt: Outdoor weather node temperature (2023)"},
		line:     "source: esphome, topic: esp-weather-outdoor}",
		report:   []string{"(espressif esp32dev, esphome v2023.6.0)", "WARNING: esp-weather-outdoor/sensor/temperature/state is in °F"},
	}, {
		family:   FamilyShellyGen2,
		captures: []string{"shelly-issues.txt: Shelly Plus H&T on USB: battery percent 0, V 0.43, external present (2022)"},
		line:     "source: shelly, topic: shellyplusht-c049ef8bc088}",
	}, {
		family: FamilyShellyBLU,
		captures: []string{
			"shelly-bthome.txt: Shelly 1 Mini Gen3 Shelly.GetComponents answer with a BLU device and its battery sensor (2024)",
			"shelly-bthome.txt: Shelly 1 Mini Gen3 bthomesensor:200 status (battery, obj_id 1 learnt from the answer above)",
		},
		line: `source: shelly, topic: shelly1minig3-ecda3bc252b0, key: "bthomesensor:200"}`,
	}, {
		family:   FamilyOMG,
		captures: []string{"ble-theengs.txt: Inkbird T(H) Sensor (IBS-TH1/TH2/P01B/ITH-12S)"},
		line:     "source: ble, topic: home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11}",
	}, {
		family:   FamilyTheengs,
		captures: []string{"ble-theengs.txt: Govee Thermo-Hygrometer (H5072/75), line 32"},
		line:     "source: ble, topic: home/TheengsGateway/BTtoMQTT/A4C1385F2B11}",
	}, {
		family:   FamilyBTHome + FamilyOMG,
		captures: []string{"ble-theengs.txt: Shelly ShellyBLU H&T (SBHT-003C)"},
		line:     "source: ble, topic: home/OpenMQTTGateway/BTtoMQTT/AABBCCDDEEFF}",
	}, {
		family:   FamilyZigbee2MQTT + FamilyAnnounced,
		captures: []string{"homeassistant-discovery.txt: Z2M 1.28 temperature of a WSDCGQ01LM"},
		line:     "source: zigbee2mqtt, topic: zigbee2mqtt/maison}",
		report:   []string{`"maison" (Xiaomi MiJia temperature & humidity sensor (WSDCGQ01LM), 3000-0001)`},
	}, {
		family:   FamilyChirpStack,
		captures: []string{"chirpstack.txt: Dragino LHT52: TempC_SHT, Hum_SHT, TempC_DS 327.67 (no probe)"},
		line:     "source: chirpstack, topic: application/9f1832a7-2862-4e8e-9c20-0f8342e689de/device/a840415711866a85}",
	}, {
		captures: []string{"frigate-stats.txt: Frigate 0.11.0, a user's stats with two cameras and an NFS recordings mount (2022)"},
		line:     "{id: citofono, zones: [ZONE], source: frigate, name: citofono}",
		report:   []string{"Frigate — 2 cameras"},
	}}
	var msgs []sim.Message
	for _, r := range rows {
		msgs = append(msgs, r.extra...)
		for _, fc := range r.captures {
			file, name, _ := strings.Cut(fc, ": ")
			c, err := corpus.Find("../decode/testdata/corpus", file, name)
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, sim.Message{Topic: c.Topic, Payload: []byte(c.Payload)})
		}
	}

	bin := testenv.BuildCommand(t, "saqshy-gateway")
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	pub := publisher(t, mq.URL())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout bytes.Buffer
	stderr := &watchWriter{want: "discover: listening to", seen: make(chan struct{})}
	cmd := exec.CommandContext(ctx, bin, "discover", "--mqtt", mq.URL(), "--seconds", "2")
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stderr.seen: // subscribed: what is published now is heard
	case <-time.After(20 * time.Second):
		t.Fatalf("discover did not start listening:\n%s", stderr.String())
	}
	pub(msgs...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("discover: %v\n%s", err, stderr.String())
	}
	report, block, ok := strings.Cut(stdout.String(), "# Paste into the centre config.")
	if !ok {
		t.Fatalf("no config block printed:\n%s", stdout.String())
	}
	block = "# Paste into the centre config." + block
	t.Logf("report:\n%s\nblock:\n%s", report, block)
	for _, r := range rows {
		want := r.line
		if r.family != "" {
			want += "  # " + r.family
			r.report = append(r.report, r.family)
		}
		if !strings.Contains(block, want) {
			t.Errorf("config block lacks %q", want)
		}
		for _, w := range r.report {
			if !strings.Contains(report, w) {
				t.Errorf("report lacks %q", w)
			}
		}
	}

	path := filepath.Join(t.TempDir(), "centre.yaml")
	head := "centre: {id: c1}\nzones:\n  - {id: room-1, kind: living}\n"
	if err := os.WriteFile(path, []byte(head+strings.ReplaceAll(block, ZonePlaceholder, "room-1")), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, bin, "check-config", path).CombinedOutput(); err != nil {
		t.Errorf("check-config refuses the printed block: %v\n%s", err, out)
	}
}

// watchWriter keeps what is written and closes seen once it holds want.
type watchWriter struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
