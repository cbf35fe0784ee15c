package gateway

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// TestDevicesInTheFieldE2E publishes, to a real Mosquitto, one configured device of
// each new format (a BLE thermometer through OpenMQTTGateway, a LoRaWAN room sensor
// through ChirpStack, a Zigbee sensor through a Tasmota bridge's ZbReceived, a
// thermostatic valve's local_temperature) and a mixed stream with bad fields (a
// string battery, an unreadable time, a DS18B20 power-on 85 °C beside a good probe),
// and checks in a real InfluxDB that every good field landed and no bad one did.
func TestDevicesInTheFieldE2E(t *testing.T) {
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "saqshy")
	cfg := e2eConfig(t, mq, in, "c17")
	cfg.Zones = append(cfg.Zones,
		config.Zone{ID: "room-1", Kind: "living"}, config.Zone{ID: "room-2", Kind: "living"},
		config.Zone{ID: "room-3", Kind: "living"}, config.Zone{ID: "room-4", Kind: "living"},
		config.Zone{ID: "room-5", Kind: "living"}, config.Zone{ID: "med-fridge", Kind: "med-fridge"},
	)
	cfg.Sensors = append(cfg.Sensors,
		config.Sensor{ID: "ble-1", Zone: "room-1", Source: "ble", Topic: "home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11"},
		config.Sensor{ID: "lora-1", Zone: "room-2", Source: "chirpstack", Topic: "application/9f18/device/a840415711866a85"},
		config.Sensor{ID: "zb-1", Zone: "room-3", Source: "tasmota", Topic: "tele/zbbridge/SENSOR", Key: "SNZB-02"},
		config.Sensor{ID: "trv-1", Zone: "room-4", Source: "zigbee2mqtt", Topic: "zigbee2mqtt/bedroom/radiator"},
		config.Sensor{ID: "z2m-1", Zone: "room-5", Source: "zigbee2mqtt", Topic: "zigbee2mqtt/room-5"},
		config.Sensor{ID: "probe-a", Zone: "med-fridge", Source: "tasmota", Topic: "tele/fridge-1/SENSOR", Key: "000008BD38BF"},
		config.Sensor{ID: "probe-b", Zone: "med-fridge", Source: "tasmota", Topic: "tele/fridge-1/SENSOR", Key: "000008BD9714"},
	)
	g := runE2E(t, cfg, Options{Clock: FixedSync(true)})

	now := time.Now().UTC()
	pub := mqttClient(t, mq.URL(), "devices-e2e-pub")
	for _, m := range []struct{ topic, payload string }{
		{"home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11", `{"id":"A4:C1:38:5F:2B:11","rssi":-70,"brand":"Xiaomi","model":"LYWSD03MMC","model_id":"LYWSD03MMC_ATC","type":"THB","tempc":23.3,"tempf":73.94,"hum":53,"batt":84,"volt":2.951}`},
		{"application/9f18/device/a840415711866a85/event/up", `{"time":"` + now.Format(time.RFC3339Nano) + `","deviceInfo":{"devEui":"a840415711866a85"},"object":{"TempC_SHT":26.6,"Hum_SHT":52.7,"TempC_DS":327.67}}`},
		{"tele/zbbridge/SENSOR", `{"ZbReceived":{"0x2916":{"Device":"0x2916","Name":"SNZB-02","Temperature":26.27,"Humidity":47.73,"Endpoint":1,"LinkQuality":105}}}`},
		{"zigbee2mqtt/bedroom/radiator", `{"local_temperature":19.81,"linkquality":39,"occupied_heating_setpoint":16.5,"pi_heating_demand":0,"battery":75}`},
		// Mixed stream with bad fields.
		{"zigbee2mqtt/room-5", `{"temperature":21.3,"humidity":44.7,"battery":"low","last_seen":"yesterday"}`},
		{"tele/fridge-1/SENSOR", `{"Time":"not a time","DS18B20-1":{"Id":"000008BD38BF","Temperature":85.0},"DS18B20-2":{"Id":"000008BD9714","Temperature":4.1},"TempUnit":"C"}`},
	} {
		if tok := pub.Publish(m.topic, 1, false, m.payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", m.topic, tok.Error())
		}
	}

	want := map[string]map[string]float64{
		"ble-1":   {"temperature_c": 23.3, "humidity_pct": 53},
		"lora-1":  {"temperature_c": 26.6, "humidity_pct": 52.7},
		"zb-1":    {"temperature_c": 26.27, "humidity_pct": 47.73},
		"trv-1":   {"temperature_c": 19.81},
		"z2m-1":   {"temperature_c": 21.3, "humidity_pct": 44.7},
		"probe-b": {"temperature_c": 4.1},
	}
	waitE2E(t, g, 30*time.Second, "every good reading in InfluxDB", func() bool {
		return in.Count(t, "climate", "temperature_c", `"centre"='c17'`) >= int64(len(want))
	})
	series, err := in.Query(t.Context(), `SELECT last("temperature_c") AS t, last("humidity_pct") AS h FROM "climate" WHERE "centre"='c17' GROUP BY "sensor"`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]float64{}
	for _, s := range series {
		vals := map[string]float64{}
		for i, col := range s.Columns {
			if n, ok := s.Values[0][i].(json.Number); ok && col != "time" {
				f, _ := n.Float64()
				vals[map[string]string{"t": "temperature_c", "h": "humidity_pct"}[col]] = f
			}
		}
		got[s.Tags["sensor"]] = vals
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("climate points by sensor:\n got %v\nwant %v", got, want)
	}
	// The bad fields: the string battery, and the 85 °C probe, stored nowhere.
	if n := in.Count(t, "device", "battery_pct", `"sensor"='z2m-1'`); n != 0 {
		t.Errorf("%d battery points for the string battery", n)
	}
	if n := in.Count(t, "climate", "temperature_c", `"sensor"='probe-a'`); n != 0 {
		t.Errorf("%d points for the 85 °C power-on value", n)
	}
	// Every bad field was counted by its reason.
	c := g.Stats().Counters
	t.Logf("counters %v", c)
	for _, k := range []Key{{"zigbee2mqtt", "bad_value"}, {"zigbee2mqtt", "bad_time"}, {"tasmota", "out_of_range"}, {"tasmota", "bad_time"}} {
		if c[k] == 0 {
			t.Errorf("counter %v not counted", k)
		}
	}
}
