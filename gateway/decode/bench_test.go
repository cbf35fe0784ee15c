package decode

import (
	"testing"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Benchmarks of the decode of one typical message per source: what the Pi pays per
// MQTT message.

func BenchmarkZigbee2MQTT(b *testing.B) {
	benchDecode(b, "zigbee2mqtt", "zigbee2mqtt/room-101", z2mTypical)
}

// BenchmarkZigbee2MQTTNoLastSeen is Z2M's default configuration (last_seen disabled).
func BenchmarkZigbee2MQTTNoLastSeen(b *testing.B) {
	benchDecode(b, "zigbee2mqtt", "zigbee2mqtt/room-101",
		`{"battery":91,"humidity":44.72,"linkquality":84,"temperature":21.34,"voltage":2985}`)
}

func BenchmarkZigbee2MQTTAvailability(b *testing.B) {
	benchDecode(b, "zigbee2mqtt", "zigbee2mqtt/room-101/availability", `{"state":"online"}`)
}

func BenchmarkTasmota(b *testing.B) {
	benchDecode(b, "tasmota", "tele/fridge-1/SENSOR", tasmotaAM2301)
}

func BenchmarkTasmotaMultiDS18B20(b *testing.B) {
	benchDecode(b, "tasmota", "tele/fridge-1/SENSOR", tasmotaMultiDS)
}

func BenchmarkESPHome(b *testing.B) {
	benchDecode(b, "esphome", "room-101-node/sensor/temperature/state", "21.5")
}

func BenchmarkShellyNotifyFullStatus(b *testing.B) {
	benchDecode(b, "shelly", "shellyplusht-b8d61a8b17cc/events/rpc", shellyFullStatus)
}

func BenchmarkSaqshy(b *testing.B) {
	benchDecode(b, "saqshy", "saqshy/shymkent-csu-2/sensor/room-101/state", saqshyState)
}

func benchDecode(b *testing.B, source, topic, payload string) {
	dec := mustNew(b, source)
	p := []byte(payload)
	if _, err := dec(topic, p); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec(topic, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkZigbee2MQTTTRV(b *testing.B) {
	benchDecode(b, "zigbee2mqtt", "zigbee2mqtt/bedroom/radiator",
		`{"local_temperature":19.81,"linkquality":39,"occupied_heating_setpoint":16.5,"pi_heating_demand":0,"battery":75}`)
}

func BenchmarkZigbee2MQTTAttribute(b *testing.B) {
	benchDecode(b, "zigbee2mqtt", "zigbee2mqtt/room-101/temperature", `21.34`)
}

func BenchmarkTasmotaZbReceived(b *testing.B) {
	benchDecode(b, "tasmota", "tele/zbbridge/SENSOR",
		`{"ZbReceived":{"0x2916":{"Device":"0x2916","Name":"SNZB-02","Temperature":25.72,"Humidity":47.73,"Endpoint":1,"LinkQuality":116}}}`)
}

func BenchmarkTasmotaMI32(b *testing.B) {
	benchDecode(b, "tasmota", "tele/ble-bridge/SENSOR",
		`{"Time":"2020-03-24T12:47:51","LYWSD03-52680f":{"Temperature":21.1,"Humidity":58.0,"DewPoint":12.5,"Battery":100},"LYWSD02-a2fd09":{"Temperature":21.4,"Humidity":57.0,"DewPoint":12.5,"Battery":2},"MJ_HT_V1-d8799d":{"Temperature":21.4,"Humidity":54.6,"DewPoint":11.9},"TempUnit":"C"}`)
}

// BenchmarkPartial is a message with a bad field: the good ones kept, the bad named.
func BenchmarkPartial(b *testing.B) {
	dec := mustNew(b, "zigbee2mqtt")
	p := []byte(`{"temperature":21.3,"humidity":44.7,"battery":"low"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec("zigbee2mqtt/room-101", p); telemetry.AsPartial(err) == nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkBLE(b *testing.B) {
	benchDecode(b, "ble", "home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11",
		`{"id":"A4:C1:38:5F:2B:11","rssi":-70,"brand":"Xiaomi","model":"LYWSD03MMC","model_id":"LYWSD03MMC_ATC","type":"THB","tempc":23.3,"tempf":73.94,"hum":53,"batt":84,"volt":2.951}`)
}

func BenchmarkChirpStack(b *testing.B) {
	benchDecode(b, "chirpstack", "application/9f1832a7-2862-4e8e-9c20-0f8342e689de/device/a840415711866a85/event/up",
		`{"deduplicationId":"838f2b6e-a781-48ec-9a79-600442adbe7c","time":"2024-02-29T16:01:18.118252739+00:00","deviceInfo":{"tenantId":"52f14cd4-c6f1-4fbd-8f87-4025e1d49242","tenantName":"ChirpStack","applicationId":"9f1832a7-2862-4e8e-9c20-0f8342e689de","applicationName":"Sensors","deviceProfileId":"f35e1cad-8571-405d-85c3-e4c6b01c4e90","deviceProfileName":"LHT52","deviceName":"LHT52","devEui":"a840415711866a85","deviceClassEnabled":"CLASS_A","tags":{}},"devAddr":"01272c9e","adr":true,"dr":5,"fCnt":1,"fPort":2,"confirmed":false,"data":"CmQCD3//AWXgqk4=","object":{"TempC_SHT":26.6,"Hum_SHT":52.7,"TempC_DS":327.67,"Systimestamp":1709222478.0,"Ext":1.0},"rxInfo":[{"gatewayId":"0016c001f1427f6e","uplinkId":1966232800,"nsTime":"2024-02-29T16:01:17.868407010+00:00","rssi":-49,"snr":14.2,"channel":4,"location":{},"context":"SWed3w==","metadata":{"region_config_id":"eu868","region_common_name":"EU868"},"crcStatus":"CRC_OK"}],"txInfo":{"frequency":867300000,"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":7,"codeRate":"CR_4_5"}}}}`)
}

func BenchmarkParseDiscovery(b *testing.B) {
	p := []byte(`{"availability":[{"topic":"zigbee2mqtt/bridge/state"}],"device":{"identifiers":["zigbee2mqtt_0x00158d00040670c2"],"manufacturer":"Xiaomi","model":"MiJia temperature & humidity sensor (WSDCGQ01LM)","name":"maison","sw_version":"3000-0001"},"device_class":"temperature","enabled_by_default":true,"json_attributes_topic":"zigbee2mqtt/maison","name":"maison temperature","state_class":"measurement","state_topic":"zigbee2mqtt/maison","unique_id":"0x00158d00040670c2_temperature_zigbee2mqtt","unit_of_measurement":"°C","value_template":"{{ value_json.temperature }}"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDiscovery("homeassistant/sensor/0x00158d00040670c2/temperature/config", p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkShellyBLU decodes a BLU H&T temperature through a Shelly gen2+ device
// (status/bthomesensor:N), its quantity known.
func BenchmarkShellyBLU(b *testing.B) {
	dec, err := NewShelly(centre, anyDeviceTemperature{})
	if err != nil {
		b.Fatal(err)
	}
	topic, payload := "shellypro2pm-ec62608a1c04/status/bthomesensor:200", []byte(`{"id":200,"value":17.2,"last_updated_ts":1737674475}`)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec(topic, payload); err != nil {
			b.Fatal(err)
		}
	}
}
