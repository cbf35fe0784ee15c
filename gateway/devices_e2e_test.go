package gateway

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/corpus"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// fieldCapture names one capture of the real-capture corpus by file and name.
type fieldCapture struct{ file, name string }

// fieldFormat is one row of TestDevicesInTheFieldE2E: a device of one format as it
// is in the field, configured as the docs say, fed its real captures.
type fieldFormat struct {
	name     string
	captures []fieldCapture
	// extra are messages that are not in the corpus (a Home Assistant discovery
	// message the capture's node would publish), published before the captures.
	extra     []message
	sensors   []config.Sensor
	cameras   []config.Camera
	points    []config.Checkpoint
	landed    []landed // what must be in InfluxDB
	nothingOf []string // sensors of the row of which no climate point may land
}

type message struct{ topic, payload string }

// landed is one value that must land: the last value of field in measurement where
// tag = value.
type landed struct {
	measurement, tag, value, field string
	want                           any // float64, bool or string
}

// TestDevicesInTheFieldE2E publishes, to a real Mosquitto, real captures (from
// gateway/decode/testdata/corpus, with their sources) of one configured device of
// each format the gateway reads as it is in the field, and checks in a real InfluxDB
// that each one's readings landed: one gateway, one broker, one database for the
// whole table. A mixed stream with bad fields keeps every good field.
func TestDevicesInTheFieldE2E(t *testing.T) {
	climate := func(sensor, field string, v float64) landed {
		return landed{"climate", "sensor", sensor, field, v}
	}
	rows := []fieldFormat{{
		name:     "Zigbee2MQTT thermostatic valve: local_temperature",
		captures: []fieldCapture{{"zigbee2mqtt-issues.txt", "Viessmann ViCare TRV (Z2M 1.x, 2020), friendly name with a slash"}},
		sensors:  []config.Sensor{{ID: "trv", Source: "zigbee2mqtt", Topic: "zigbee2mqtt/bedroom/radiator"}},
		landed:   []landed{climate("trv", "temperature_c", 19.81), {"device", "device", "trv", "battery_pct", 75.0}},
	}, {
		name: "Zigbee2MQTT output: attribute_and_json (JSON and one topic per attribute), mains volts",
		captures: []fieldCapture{
			{"zigbee2mqtt-issues.txt", "TS011F plug with last_seen ISO offset (Z2M 2.x)"},
			{"zigbee2mqtt-issues.txt", "TS011F plug, attribute output: voltage (volts)"},
			{"zigbee2mqtt-issues.txt", "TS011F plug, attribute output: state"},
		},
		sensors: []config.Sensor{{ID: "plug", Source: "zigbee2mqtt", Topic: "zigbee2mqtt/z1"}},
		landed:  []landed{{"device", "device", "plug", "voltage_v", 243.0}, {"device", "device", "plug", "link_quality", 43.0}},
	}, {
		name:     "Zigbee2MQTT 1.x by IEEE address, battery millivolts",
		captures: []fieldCapture{{"zigbee2mqtt-issues.txt", "Aqara WSDCGQ11LM by IEEE address (Z2M 1.6, 2019)"}},
		sensors:  []config.Sensor{{ID: "aqara", Source: "zigbee2mqtt", Topic: "zigbee2mqtt/0x00158d00039200a1"}},
		landed:   []landed{climate("aqara", "humidity_pct", 78.12), {"device", "device", "aqara", "voltage_v", 2.965}},
	}, {
		name: "Tasmota beyond the allow-list: SHT4X, AHT1X, DS18x20 by Id, FullTopic %topic%/%prefix%",
		captures: []fieldCapture{
			{"tasmota-users.txt", "SHT4X (Tasmota 14.x, 2026)"},
			{"tasmota-docs.txt", "AHT1x sensor"},
			{"tasmota-docs.txt", "DS18x20 three probes"},
			{"tasmota-users.txt", "AM2301 with FullTopic %topic%/%prefix%/ (Home Assistant discovery setup, 2019)"},
		},
		sensors: []config.Sensor{
			{ID: "sht4x", Source: "tasmota", Topic: "tele/tasmota/SENSOR", Key: "SHT4X"},
			{ID: "aht1x", Source: "tasmota", Topic: "tele/tasmota/SENSOR", Key: "AHT1X-0x38"},
			{ID: "ds18-2", Source: "tasmota", Topic: "tele/tasmota/SENSOR", Key: "0000059352D4"},
			{ID: "am2301", Source: "tasmota", Topic: "device_name/tele/SENSOR", Key: "AM2301"},
		},
		landed: []landed{climate("sht4x", "humidity_pct", 29.8), climate("aht1x", "temperature_c", 24.7),
			climate("ds18-2", "temperature_c", 1.2), climate("am2301", "temperature_c", 20.5)},
	}, {
		name:     "Tasmota Zigbee bridge: ZbReceived",
		captures: []fieldCapture{{"tasmota-docs.txt", "ZbReceived SNZB-02 temperature and humidity"}},
		sensors:  []config.Sensor{{ID: "zb", Source: "tasmota", Topic: "tele/tasmota/SENSOR", Key: "0x2916"}},
		landed:   []landed{climate("zb", "humidity_pct", 47.73)},
	}, {
		name:     "Tasmota MI32: BLE thermometers through an ESP32",
		captures: []fieldCapture{{"tasmota-docs.txt", "MI32 BLE thermometers LYWSD03/LYWSD02/MJ_HT_V1"}},
		sensors:  []config.Sensor{{ID: "mi32", Source: "tasmota", Topic: "tele/tasmota/SENSOR", Key: "LYWSD03-52680f"}},
		landed:   []landed{climate("mi32", "temperature_c", 21.1), {"device", "device", "mi32", "battery_pct", 100.0}},
	}, {
		name:     "OpenMQTTGateway / Theengs BTtoMQTT",
		captures: []fieldCapture{{"ble-theengs.txt", "Inkbird T(H) Sensor (IBS-TH1/TH2/P01B/ITH-12S)"}},
		sensors:  []config.Sensor{{ID: "inkbird", Source: "ble", Topic: "home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11"}},
		landed:   []landed{climate("inkbird", "temperature_c", 26.62)},
	}, {
		name:     "BTHome v2 (Shelly BLU H&T) through Theengs",
		captures: []fieldCapture{{"ble-theengs.txt", "Shelly ShellyBLU H&T (SBHT-003C)"}},
		sensors:  []config.Sensor{{ID: "bthome", Source: "ble", Topic: "home/OpenMQTTGateway/BTtoMQTT/AABBCCDDEEFF"}},
		landed:   []landed{climate("bthome", "humidity_pct", 63.0)},
	}, {
		name:     "Shelly BLU through a gen2 device: bthomesensor with quantity: in the config",
		captures: []fieldCapture{{"shelly-bthome.txt", "Shelly Pro 2PM status/bthomesensor:202 of a BLU H&T with quantity: temperature in the config (2025)"}},
		sensors:  []config.Sensor{{ID: "blu", Source: "shelly", Topic: "shellypro2pm-ec62608a1c04", Key: "bthomesensor:202", Quantity: "temperature"}},
		landed:   []landed{climate("blu", "temperature_c", 17.2)},
	}, {
		// The node's discovery message is not a capture: no real ESPHome discovery in
		// °F was found; it is what ESPHome's mqtt component publishes for a sensor
		// with unit_of_measurement: °F (abbreviated keys).
		name: "Home Assistant discovery: an ESPHome node in °F lands in °C",
		extra: []message{{"homeassistant/sensor/esp-weather-outdoor/temperature/config",
			`{"dev_cla":"temperature","unit_of_meas":"°F","stat_cla":"measurement","name":"Temperature","stat_t":"esp-weather-outdoor/sensor/temperature/state","avty_t":"esp-weather-outdoor/status","uniq_id":"ESPsensortemperature","dev":{"ids":"c8c9a3a1b2c3","name":"esp-weather-outdoor","sw":"esphome v2023.6.0","mdl":"esp32dev","mf":"espressif"}}`}},
		captures: []fieldCapture{{"esphome-issues.txt", "Outdoor weather node temperature (2023)"}},
		sensors:  []config.Sensor{{ID: "esp-f", Source: "esphome", Topic: "esp-weather-outdoor", Key: "temperature"}},
		landed:   []landed{climate("esp-f", "temperature_c", (20.0-32)*5/9)},
	}, {
		name:     "LoRaWAN through ChirpStack v4",
		captures: []fieldCapture{{"chirpstack.txt", "Dragino LHT52: TempC_SHT, Hum_SHT, TempC_DS 327.67 (no probe)"}},
		sensors:  []config.Sensor{{ID: "lora", Source: "chirpstack", Topic: "application/9f1832a7-2862-4e8e-9c20-0f8342e689de/device/a840415711866a85"}},
		landed:   []landed{climate("lora", "temperature_c", 26.6), climate("lora", "humidity_pct", 52.7)},
	}, {
		name:     "Frigate 0.11 stats: cameras at the top level",
		captures: []fieldCapture{{"frigate-stats.txt", "Frigate 0.11.0, a user's stats with two cameras and an NFS recordings mount (2022)"}},
		cameras:  []config.Camera{{ID: "cam-door", Source: "frigate", Name: "citofono"}},
		landed:   []landed{{"camera", "camera", "cam-door", "fps", 10.5}, {"camera", "camera", "cam-door", "online", true}},
	}, {
		name: "Zigbee buttons: a two-key switch's single_right and a legacy click",
		captures: []fieldCapture{
			{"rounds-checkpoints.txt", "Aqara two-key wall switch, right key (Z2M 1.35, 2024, last_seen ISO)"},
			{"rounds-checkpoints.txt", "Xiaomi button, legacy click single (Z2M 1.6, 2019)"},
		},
		points: []config.Checkpoint{
			{ID: "cp-switch", Source: "zigbee2mqtt", Topic: "zigbee2mqtt/AZ_SWITCH01"},
			{ID: "cp-button", Source: "zigbee2mqtt", Topic: "zigbee2mqtt/0x00158d00035cf702"},
		},
		// A scan point, not flagged (the gateway started mid-night: its slots are
		// unjudged, so the scan is not counted against one).
		landed: []landed{{"round", "checkpoint", "cp-switch", "flagged", false}, {"round", "checkpoint", "cp-button", "flagged", false}},
	}, {
		name:     "Tasmota RFID reader (RC522) fixed at a checkpoint",
		captures: []fieldCapture{{"rounds-checkpoints.txt", "RC522 (MFRC522) card read with Type (Tasmota 9.x docs, 2021)"}},
		points:   []config.Checkpoint{{ID: "cp-reader", Source: "tasmota", Topic: "tele/rfid-test/SENSOR"}},
		landed:   []landed{{"round", "checkpoint", "cp-reader", "tag", "BA839D07"}},
	}, {
		// A mixed stream with bad fields: the string battery and the unreadable
		// last_seen of a Zigbee sensor, and a Tasmota with an unreadable time and a
		// DS18B20 at its power-on 85 °C beside a good probe. Not captures: each bad
		// field is one of the kinds, put beside good ones.
		name: "a mixed stream with bad fields keeps every good field",
		extra: []message{
			{"zigbee2mqtt/room-5", `{"temperature":21.3,"humidity":44.7,"battery":"low","last_seen":"yesterday"}`},
			{"tele/fridge-1/SENSOR", `{"Time":"not a time","DS18B20-1":{"Id":"000008BD38BF","Temperature":85.0},"DS18B20-2":{"Id":"000008BD9714","Temperature":4.1},"TempUnit":"C"}`},
		},
		sensors: []config.Sensor{
			{ID: "z2m-bad", Source: "zigbee2mqtt", Topic: "zigbee2mqtt/room-5"},
			{ID: "probe-a", Source: "tasmota", Topic: "tele/fridge-1/SENSOR", Key: "000008BD38BF"},
			{ID: "probe-b", Source: "tasmota", Topic: "tele/fridge-1/SENSOR", Key: "000008BD9714"},
		},
		landed:    []landed{climate("z2m-bad", "temperature_c", 21.3), climate("z2m-bad", "humidity_pct", 44.7), climate("probe-b", "temperature_c", 4.1)},
		nothingOf: []string{"probe-a"},
	}}

	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "saqshy")
	cfg := e2eConfig(t, mq, in, "c17")
	loc := cfg.Centre.Location
	if loc == nil {
		loc = time.UTC
	}
	// The rounds window: the hour around now, so that the button presses are scans.
	now := time.Now().In(loc)
	cfg.Rounds.Window = now.Add(-time.Hour).Format("15:04") + "-" + now.Add(time.Hour).Format("15:04")
	var msgs []message
	for i, r := range rows {
		zone := fmt.Sprintf("zone-%02d", i)
		cfg.Zones = append(cfg.Zones, config.Zone{ID: zone, Kind: "living"})
		for _, s := range r.sensors {
			s.Zone = zone
			cfg.Sensors = append(cfg.Sensors, s)
		}
		for _, c := range r.cameras {
			c.Zones = []string{zone}
			cfg.Cameras = append(cfg.Cameras, c)
		}
		for _, p := range r.points {
			p.Zone = zone
			cfg.Rounds.Checkpoints = append(cfg.Rounds.Checkpoints, p)
		}
		msgs = append(msgs, r.extra...)
		for _, fc := range r.captures {
			c, err := corpus.Find("decode/testdata/corpus", fc.file, fc.name)
			if err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			msgs = append(msgs, message{c.Topic, c.Payload})
		}
	}
	g := runE2E(t, cfg, Options{Clock: FixedSync(true)})
	pub := mqttClient(t, mq.URL(), "devices-e2e-pub")
	for _, m := range msgs {
		if tok := pub.Publish(m.topic, 1, false, m.payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", m.topic, tok.Error())
		}
	}

	// Wait for the last row's values, then read every row's.
	n := 0
	for _, r := range rows {
		n += len(r.landed)
	}
	lastValue := func(l landed) (any, bool) {
		series, err := in.Query(t.Context(), fmt.Sprintf(`SELECT last(%q) FROM %q WHERE "centre"='c17' AND %q='%s'`, l.field, l.measurement, l.tag, l.value))
		if err != nil || len(series) == 0 || len(series[0].Values) == 0 {
			return nil, false
		}
		return series[0].Values[0][1], true
	}
	missing := func() []string {
		var m []string
		for _, r := range rows {
			for _, l := range r.landed {
				if _, ok := lastValue(l); !ok {
					m = append(m, fmt.Sprintf("%s (%s %s of %s)", r.name, l.measurement, l.field, l.value))
				}
			}
		}
		return m
	}
	for deadline := time.Now().Add(60 * time.Second); len(missing()) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not in InfluxDB after 60 s: %s; counters %v", strings.Join(missing(), "; "), g.Stats().Counters)
		}
	}
	for _, r := range rows {
		for _, l := range r.landed {
			got, _ := lastValue(l)
			if !sameValue(got, l.want) {
				t.Errorf("%s: %s %s of %s=%s: got %v, want %v", r.name, l.measurement, l.field, l.tag, l.value, got, l.want)
			}
		}
		for _, s := range r.nothingOf {
			if c := in.Count(t, "climate", "temperature_c", `"sensor"='`+s+`'`); c != 0 {
				t.Errorf("%s: %d climate points of %s", r.name, c, s)
			}
		}
	}
	// The bad fields of the mixed stream: stored nowhere, counted by reason.
	if c := in.Count(t, "device", "battery_pct", `"device"='z2m-bad'`); c != 0 {
		t.Errorf("%d battery points for the string battery", c)
	}
	c := g.Stats().Counters
	for _, k := range []Key{{"zigbee2mqtt", "bad_value"}, {"zigbee2mqtt", "bad_time"}, {"tasmota", "out_of_range"}, {"tasmota", "bad_time"}} {
		if c[k] == 0 {
			t.Errorf("counter %v not counted; counters %v", k, c)
		}
	}
	t.Logf("%d formats, %d values landed; counters %v", len(rows), n, c)
}

// sameValue compares an InfluxDB value (json.Number, bool, string) with want.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case float64:
		n, ok := got.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && (f == w || strings.TrimRight(fmt.Sprintf("%.6f", f), "0") == strings.TrimRight(fmt.Sprintf("%.6f", w), "0"))
	default:
		return got == want
	}
}
