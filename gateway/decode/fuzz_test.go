package decode

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// The fuzz targets are seeded with every fixture of their source (the payloads of
// FORMATS.md and the bad-input tables) and assert the contract of Func on whatever
// they produce: no panic; on success a non-empty Device derived from the topic, at
// least one Value per sample, every Value passing telemetry.CheckValue, a UTC time in
// 2000..2100 or none; on error a known Reason, a *telemetry.RejectError naming source and topic, or
// telemetry.ErrIgnored itself; and the same result twice with the payload buffer scribbled over
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
	f.Fuzz(func(t *testing.T, topic string, payload []byte) { fuzzDecode(t, dec, source, topic, payload) })
}

// fuzzDecode is the body of the decoders' fuzz targets, shared with BenchmarkFuzzBodies.
func fuzzDecode(t testing.TB, dec Func, source, topic string, payload []byte) {
	samples, err := dec(topic, payload)
	checkInvariants(t, source, topic, payload, samples, err)
	checkPure(t, dec, topic, payload)
}

func FuzzBLE(f *testing.F) {
	fuzzSource(f, "ble", corpusSeeds(f, "ble"))
}

func FuzzChirpStack(f *testing.F) {
	fuzzSource(f, "chirpstack", corpusSeeds(f, "chirpstack"))
}

// FuzzParseDiscovery: no panic; a result or a known reason; the same result twice.
func FuzzParseDiscovery(f *testing.F) {
	for _, c := range corpusSeeds(f, "homeassistant") {
		f.Add(c.topic, []byte(c.payload))
	}
	f.Fuzz(func(t *testing.T, topic string, payload []byte) { fuzzDiscovery(t, topic, payload) })
}

// fuzzDiscovery is FuzzParseDiscovery's body, shared with BenchmarkFuzzBodies.
func fuzzDiscovery(t testing.TB, topic string, payload []byte) {
	d, err := ParseDiscovery(topic, payload)
	if err != nil {
		if r := telemetry.Reason(err); !knownReasons[r] || r == reasonIgnored {
			t.Fatalf("reason %q for %v", r, err)
		}
		return
	}
	if d.StateTopic == "" {
		t.Fatalf("no state topic in %+v", d)
	}
	d2, err2 := ParseDiscovery(topic, payload)
	if err2 != nil || d2 != d {
		t.Fatalf("two parses disagree: %+v / %+v, %v", d, d2, err2)
	}
}

// BenchmarkFuzzBodies times the fuzz targets' bodies over their seed corpora: one op
// is one input. A slow body (per-input setup) is why a fuzz target stalls under load.
func BenchmarkFuzzBodies(b *testing.B) {
	sources := map[string][]rejectCase{
		"zigbee2mqtt": seeds(zigbee2mqttDecodeCases(), zigbee2mqttRejectCases()),
		"tasmota":     seeds(tasmotaDecodeCases(), tasmotaRejectCases()),
		"esphome":     seeds(esphomeDecodeCases(), esphomeRejectCases()),
		"shelly":      seeds(shellyDecodeCases(), shellyRejectCases()),
		"saqshy":      seeds(saqshyDecodeCases(), saqshyRejectCases()),
		"ble":         corpusSeeds(b, "ble"),
		"chirpstack":  corpusSeeds(b, "chirpstack"),
	}
	for _, source := range slices.Sorted(maps.Keys(sources)) {
		dec := mustNew(b, source)
		cases := slices.DeleteFunc(sources[source], func(c rejectCase) bool { return len(c.payload) > telemetry.MaxPayload })
		b.Run(source, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				c := cases[i%len(cases)]
				fuzzDecode(b, dec, source, c.topic, []byte(c.payload))
			}
		})
	}
	disc := corpusSeeds(b, "homeassistant")
	b.Run("discovery", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c := disc[i%len(disc)]
			fuzzDiscovery(b, c.topic, []byte(c.payload))
		}
	})
}

// corpusSeeds returns the captures of testdata/corpus for source as seeds.
func corpusSeeds(tb testing.TB, source string) []rejectCase {
	tb.Helper()
	files, _ := filepath.Glob("testdata/corpus/*.txt")
	var out []rejectCase
	for _, f := range files {
		caps, err := readCorpus(f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range caps {
			if c.source == source {
				out = append(out, rejectCase{name: c.name, topic: c.topic, payload: c.payload})
			}
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no corpus seeds for %s", source)
	}
	return out
}

// FuzzShellyBTHome fuzzes the Shelly decoder knowing the quantities of some BLU
// sensors (temperature at bthomesensor:200 of any device it is asked about), seeded
// with the Shelly captures.
func FuzzShellyBTHome(f *testing.F) {
	dec, err := NewShelly(centre, anyDeviceTemperature{})
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range append(corpusSeeds(f, "shelly"), seeds(shellyDecodeCases(), shellyRejectCases())...) {
		f.Add(c.topic, []byte(c.payload))
	}
	f.Fuzz(func(t *testing.T, topic string, payload []byte) { fuzzDecode(t, dec, "shelly", topic, payload) })
}

// anyDeviceTemperature says bthomesensor:200 of every device is a temperature.
type anyDeviceTemperature struct{}

func (anyDeviceTemperature) BTHomeQuantity(_, comp string) (telemetry.Metric, bool) {
	return telemetry.Temperature, comp == "bthomesensor:200"
}

// FuzzParseShellyRPCReply: no panic; a known reason or components that are all
// bthomesensor keys; the same result twice.
func FuzzParseShellyRPCReply(f *testing.F) {
	for _, c := range corpusSeeds(f, "shelly-rpc") {
		f.Add([]byte(c.payload))
	}
	f.Add([]byte(`{"id":7,"src":"shellyplugsg3-aa","result":{"id":201,"addr":"7c:c6:b6:00:00:01","name":null,"obj_id":69,"idx":0,"meta":null}}`))
	f.Add([]byte(`{"id":1,"src":"x","error":{"code":404,"message":"No handler for Shelly.GetComponents"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, err := ParseShellyRPCReply(payload)
		if err != nil {
			if rs := telemetry.Reason(err); !knownReasons[rs] || rs == reasonIgnored {
				t.Fatalf("reason %q for %v", rs, err)
			}
			return
		}
		for _, c := range r.Components {
			if !IsBTHomeSensor(c.Key) {
				t.Fatalf("component %q is not a bthomesensor", c.Key)
			}
		}
		r2, err2 := ParseShellyRPCReply(payload)
		if err2 != nil || !slices.Equal(r2.Components, r.Components) || r2.Next != r.Next {
			t.Fatalf("two parses disagree: %+v / %+v, %v", r, r2, err2)
		}
	})
}
