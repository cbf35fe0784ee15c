package decode

import "testing"

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
