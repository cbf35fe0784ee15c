package discover

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// TestDiscoverNewFormats: a BLE thermometer through OpenMQTTGateway, a LoRaWAN room
// sensor through ChirpStack and an ESPHome node whose Home Assistant discovery says
// its temperature is in °F are named, printed as config blocks that parse, and the
// °F unit is warned about.
func TestDiscoverNewFormats(t *testing.T) {
	c := New(time.UTC)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	add := func(topic, payload string) { c.Add(topic, []byte(payload), false, now) }
	add("home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11",
		`{"id":"A4:C1:38:5F:2B:11","rssi":-70,"brand":"Xiaomi","model":"LYWSD03MMC","model_id":"LYWSD03MMC_ATC","tempc":23.3,"tempf":73.94,"hum":53,"batt":84,"volt":2.951}`)
	add("application/9f18/device/a840415711866a85/event/up",
		`{"time":"2026-03-01T09:59:00Z","object":{"TempC_SHT":26.6,"Hum_SHT":52.7}}`)
	add("living/sensor/temperature/state", `71.6`)
	add("homeassistant/sensor/living/temperature/config",
		`{"name":"Temperature","stat_t":"living/sensor/temperature/state","unit_of_meas":"°F","dev_cla":"temperature","dev":{"name":"living","mdl":"esp01_1m","mf":"espressif"}}`)
	res := c.Result()
	var report, block bytes.Buffer
	if err := res.WriteReport(&report, now); err != nil {
		t.Fatal(err)
	}
	if err := res.WriteConfig(&block); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s\nblock:\n%s", report.String(), block.String())
	for _, want := range []string{
		"BLE thermometers (OpenMQTTGateway / Theengs Gateway) — 1 device", "23.3 °C, 53 % RH",
		"LoRaWAN (ChirpStack) — 1 device", "26.6 °C, 53 % RH",
		"WARNING: living/sensor/temperature/state is in °F",
	} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, want := range []string{
		`  - {id: a4c1385f2b11, zone: ZONE, source: ble, topic: home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11}`,
		`  - {id: lorawan-a840415711866a85, zone: ZONE, source: chirpstack, topic: application/9f18/device/a840415711866a85}`,
		"    # WARNING: living/sensor/temperature/state is in °F",
	} {
		if !strings.Contains(block.String(), want) {
			t.Errorf("config block lacks %q", want)
		}
	}
	head := "centre: {id: c1}\nzones:\n  - {id: room-101, kind: living}\n"
	if _, err := config.Parse("discovered.yaml", []byte(head+strings.ReplaceAll(block.String(), ZonePlaceholder, "room-101"))); err != nil {
		t.Errorf("the printed block does not parse: %v", err)
	}
}
