package discover

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

func publisher(t *testing.T, url string) func(msgs ...sim.Message) {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("discover-test-pub"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return func(msgs ...sim.Message) {
		for _, m := range msgs {
			if tok := c.Publish(m.Topic, 1, m.Retained, m.Payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Errorf("publish %s: %v", m.Topic, tok.Error())
			}
		}
	}
}

func ret(m sim.Message) sim.Message { m.Retained = true; return m }

func rets(ms []sim.Message) []sim.Message {
	for i := range ms {
		ms[i].Retained = true
	}
	return ms
}

// TestDiscoverEveryFormat publishes one device of each format to a real Mosquitto,
// runs discover, and checks the listing and that the printed config block, with
// its zones filled in, is a valid centre config that maps every device.
func TestDiscoverEveryFormat(t *testing.T) {
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	pub := publisher(t, mq.URL())
	loc, _ := time.LoadLocation("Asia/Almaty")
	now := time.Now()
	r := sim.Reading{TemperatureC: 21.4, HumidityPct: 44, BatteryPct: 87, LinkQuality: 120}

	pub(ret(sim.Zigbee2MQTT("zigbee2mqtt/Room 101 climate", r, now)),
		sim.Zigbee2MQTTAvailability("zigbee2mqtt/Room 101 climate", true),
		sim.Message{Topic: "zigbee2mqtt/bridge/state", Payload: []byte(`{"state":"online"}`), Retained: true},
		sim.Message{Topic: "homeassistant/sensor/0x00158d0001a2b3c4/temperature/config", Retained: true,
			Payload: []byte(`{"name":"Temperature","state_topic":"zigbee2mqtt/Room 101 climate","device":{"name":"Room 101 climate","model":"WSDCGQ11LM","manufacturer":"Aqara"}}`)},
	)
	// A Tasmota with two DS18B20 probes: one sensor per probe, keyed by Id.
	pub(sim.Message{Topic: "tele/kitchen-cold/SENSOR", Retained: true, Payload: []byte(
		`{"Time":"` + now.In(loc).Format("2006-01-02T15:04:05") + `","DS18B20-1":{"Id":"000008BD38BF","Temperature":3.9},"DS18B20-2":{"Id":"0000089F1E2A","Temperature":-19.5},"TempUnit":"C"}`)},
		sim.TasmotaLWT("tele/kitchen-cold", true))
	pub(rets(sim.ESPHome("room-102-node", sim.Reading{TemperatureC: 22.1, HumidityPct: 41}))...)
	pub(sim.ESPHomeStatus("room-102-node", true))
	pub(rets(sim.ShellyGen1("shellies/shellyht-AB12CD", r))...)
	pub(sim.ShellyOnline("shellies/shellyht-AB12CD", true))
	pub(ret(sim.ShellyGen2("shellyplusht-b8d61a8b17cc", r, now)), sim.ShellyOnline("shellyplusht-b8d61a8b17cc", false))
	pub(ret(sim.Saqshy("saqshy/c1/sensor/boiler-out", sim.Reading{TemperatureC: 61.5}, now)), sim.SaqshyStatus("saqshy/c1/sensor/boiler-out", true))
	pub(sim.Message{Topic: "frigate/available", Payload: []byte("online"), Retained: true},
		sim.Message{Topic: "frigate/front_door/detect/state", Payload: []byte("ON"), Retained: true},
		sim.Message{Topic: "saqshy/c1/camera/cam-07/health", Payload: []byte(`{"online":true,"fps":12}`), Retained: true},
		sim.Message{Topic: "office/printer/toner", Payload: []byte("12"), Retained: true},
	)

	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	var res Result
	var err error
	go func() {
		defer close(done)
		res, err = Listen(ctx, Options{URL: mq.URL(), Duration: 2500 * time.Millisecond, ProgressEvery: time.Second, Progress: &progress, Location: loc})
	}()
	// Live messages while it listens: Frigate's stats are never retained.
	time.Sleep(700 * time.Millisecond)
	pub(sim.Message{Topic: "frigate/stats", Payload: []byte(`{"cameras":{"front_door":{"camera_fps":5.0,"process_fps":5.0}},"service":{"uptime":100}}`)})
	pub(sim.Zigbee2MQTT("zigbee2mqtt/Room 101 climate", sim.Reading{TemperatureC: 21.6, HumidityPct: 44}, time.Now()))
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "discover: listening to "+mq.URL()) || !strings.Contains(progress.String(), "messages,") {
		t.Errorf("progress lines missing:\n%s", progress.String())
	}

	var report, block bytes.Buffer
	if err := res.WriteReport(&report, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := res.WriteConfig(&block); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s\nblock:\n%s", report.String(), block.String())
	for _, want := range []string{
		"Zigbee2MQTT — 1 device",
		"zigbee2mqtt/Room 101 climate", "21.6 °C, 44 % RH", `"Room 101 climate" (Aqara WSDCGQ11LM)`,
		"Tasmota — 1 device", "tele/kitchen-cold", "[000008BD38BF]", "3.9 °C", "[0000089F1E2A]", "-19.5 °C",
		"ESPHome — 1 device", "room-102-node", "22.1 °C, 41 % RH",
		"Shelly — 2 devices", "shellies/shellyht-AB12CD", "shellyplusht-b8d61a8b17cc", "OFFLINE",
		"Frigate — 1 camera, Frigate online", "front_door", "5.0 fps",
		"Saqshy firmware — 1 device — 1 camera", "saqshy/c1/sensor/boiler-out", "61.5 °C", "cam-07",
		"Home Assistant discovery: 1 entities",
		"Not recognised:", "office/printer/…",
	} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, want := range []string{
		`  - {id: room-101-climate, zone: ZONE, source: zigbee2mqtt, topic: "zigbee2mqtt/Room 101 climate"}  # Zigbee2MQTT: 21.6 °C, 44 % RH, battery 87 %, "Room 101 climate"`,
		`  - {id: kitchen-cold-000008bd38bf, zone: ZONE, source: tasmota, topic: tele/kitchen-cold/SENSOR, key: 000008BD38BF}`,
		`  - {id: kitchen-cold-0000089f1e2a, zone: ZONE, source: tasmota, topic: tele/kitchen-cold/SENSOR, key: 0000089F1E2A}`,
		`  - {id: room-102-node, zone: ZONE, source: esphome, topic: room-102-node}`,
		`  - {id: shellyht-ab12cd, zone: ZONE, source: shelly, topic: shellies/shellyht-AB12CD}`,
		`  - {id: shellyplusht-b8d61a8b17cc, zone: ZONE, source: shelly, topic: shellyplusht-b8d61a8b17cc}`,
		`  - {id: boiler-out, zone: ZONE, source: saqshy, topic: saqshy/c1/sensor/boiler-out}`,
		`  - {id: front-door, zones: [ZONE], source: frigate, name: front_door}  # 5.0 fps`,
		`  - {id: cam-07, zones: [ZONE], source: saqshy}`,
	} {
		if !strings.Contains(block.String(), want) {
			t.Errorf("config block lacks %q", want)
		}
	}

	// Unfilled, check-config rejects the placeholders by field.
	head := "centre: {id: c1}\nzones:\n  - {id: room-101, kind: living}\n  - {id: kitchen, kind: food-fridge}\n"
	if _, err := config.Parse("discovered.yaml", []byte(head+block.String())); err == nil || !strings.Contains(err.Error(), `sensors[0].zone`) {
		t.Errorf("placeholders accepted, or not named by field: %v", err)
	}
	// Filled in, it is a valid config, and every device's samples route to a sensor.
	filled := strings.ReplaceAll(block.String(), "ZONE", "room-101")
	cfg, err := config.Parse("discovered.yaml", []byte(head+filled))
	if err != nil {
		t.Fatalf("filled-in block is not a valid config: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sensors) != 7 || len(cfg.Cameras) != 2 {
		t.Errorf("%d sensors and %d cameras, want 7 and 2", len(cfg.Sensors), len(cfg.Cameras))
	}
	bases := map[string]bool{}
	for _, d := range res.Devices {
		bases[d.Base] = true
	}
	for _, s := range cfg.Sensors {
		if !bases[s.Device()] {
			t.Errorf("sensor %s: device %q is not one discover heard", s.ID, s.Device())
		}
	}
}

func TestDiscoverBadInput(t *testing.T) {
	c := New(nil)
	at := time.Now()
	c.Add("zigbee2mqtt/r1", []byte(`{"temperature":21}`), false, at)
	c.Add("zigbee2mqtt/r1", []byte(`{not json`), false, at)
	c.Add("frigate/stats", []byte(`[1,2`), false, at)
	c.Add("homeassistant/sensor/x/config", []byte(`garbage`), true, at)
	c.Add("tele/x/SENSOR", []byte(`{"AM2301":{"Temperature":"hot"}}`), false, at)
	c.Add("", nil, false, at)
	c.Add("esphome-node/status", []byte("maybe"), true, at)
	r := c.Result()
	if r.Messages != 7 || r.HAEntities != 1 {
		t.Errorf("messages %d, HA %d", r.Messages, r.HAEntities)
	}
	if len(r.Devices) != 1 || r.Devices[0].Rejected != 1 || !strings.Contains(r.Devices[0].Reason, "bad_json") {
		t.Errorf("devices: %+v", r.Devices)
	}
	if r.Other["rejected frigate"] != 1 || r.Other["rejected tasmota"] != 1 {
		t.Errorf("other: %v", r.Other)
	}
	var b bytes.Buffer
	if err := r.WriteConfig(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "{id: r1, zone: ZONE, source: zigbee2mqtt, topic: zigbee2mqtt/r1}") {
		t.Errorf("block:\n%s", b.String())
	}

	empty := New(nil).Result()
	b.Reset()
	empty.WriteReport(&b, at)
	if !strings.Contains(b.String(), "No sensors or cameras recognised") {
		t.Errorf("empty report:\n%s", b.String())
	}
	b.Reset()
	empty.WriteConfig(&b)
	if !strings.Contains(b.String(), "sensors: []") {
		t.Errorf("empty block:\n%s", b.String())
	}
}

func TestListenUnreachable(t *testing.T) {
	_, err := Listen(context.Background(), Options{URL: "tcp://127.0.0.1:1", Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "no MQTT broker answered") {
		t.Errorf("err = %v", err)
	}
}

func TestSlugAndQuote(t *testing.T) {
	for in, want := range map[string]string{"Room 101 climate": "room-101-climate", "__": "device", "Кухня": "device", "a.b_c": "a-b-c"} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"tele/x/SENSOR": "tele/x/SENSOR", "a b": `"a b"`, "temperature:0": `"temperature:0"`, `q"`: `"q\""`} {
		if got := yamlString(in); got != want {
			t.Errorf("yamlString(%q) = %s, want %s", in, got, want)
		}
	}
}
