package decode

import (
	"testing"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// The fuzz targets are seeded with every fixture of their source (the payloads of
// FORMATS.md and the bad-input tables) and assert the contract of Func on whatever
// they produce: no panic; on success a non-empty Device derived from the topic, at
// least one Value per sample, every Value passing telemetry.CheckValue, a UTC time in
// 2000..2100 or none; on error a known Reason, a *telemetry.RejectError naming source and topic, or
// ErrIgnored itself; and the same result twice with the payload buffer scribbled over
// in between.
//
//	go test -run='^$' -fuzz=FuzzTasmota -fuzztime=20s ./gateway/decode

func FuzzZigbee2MQTT(f *testing.F) {
	fuzzSource(f, "zigbee2mqtt", seeds(zigbee2mqttDecodeCases(), zigbee2mqttRejectCases()))
}

func FuzzTasmota(f *testing.F) {
	fuzzSource(f, "tasmota", seeds(tasmotaDecodeCases(), tasmotaRejectCases()))
}

func FuzzESPHome(f *testing.F) {
	fuzzSource(f, "esphome", seeds(esphomeDecodeCases(), esphomeRejectCases()))
}

func FuzzShelly(f *testing.F) {
	fuzzSource(f, "shelly", seeds(shellyDecodeCases(), shellyRejectCases()))
}

func FuzzSaqshy(f *testing.F) {
	fuzzSource(f, "saqshy", seeds(saqshyDecodeCases(), saqshyRejectCases()))
}

func fuzzSource(f *testing.F, source string, seeds []rejectCase) {
	dec := mustNew(f, source)
	for _, c := range seeds {
		if len(c.payload) <= telemetry.MaxPayload { // keep the corpus small; too_large is tested
			f.Add(c.topic, []byte(c.payload))
		}
	}
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		samples, err := dec(topic, payload)
		checkInvariants(t, source, topic, payload, samples, err)
		checkPure(t, dec, topic, payload)
	})
}
