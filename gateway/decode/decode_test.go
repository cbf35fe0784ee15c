package decode

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

func TestSources(t *testing.T) {
	got := Sources()
	if !slices.IsSorted(got) {
		t.Errorf("Sources() = %v, not sorted", got)
	}
	want := []string{"ble", "chirpstack", "esphome", "saqshy", "shelly", "tasmota", "zigbee2mqtt"}
	if !slices.Equal(got, want) {
		t.Errorf("Sources() = %v, want %v", got, want)
	}
	for _, s := range got {
		if _, err := New(s, time.UTC); err != nil {
			t.Errorf("New(%q): %v", s, err)
		}
	}
	got[0] = "mutated"
	if Sources()[0] != "ble" {
		t.Error("Sources() shares its slice between calls")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		source string
		loc    *time.Location
	}{
		{"unknown source", "frigate", time.UTC},
		{"empty source", "", time.UTC},
		{"case matters", "Tasmota", time.UTC},
		{"nil location", "tasmota", nil},
		{"nil location for a source without local times", "zigbee2mqtt", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := New(tt.source, tt.loc)
			if err == nil || dec != nil {
				t.Errorf("New(%q, %v) = %v, %v; want an error", tt.source, tt.loc, dec, err)
			}
		})
	}
}

func TestReason(t *testing.T) {
	bad := &telemetry.RejectError{Source: "tasmota", Topic: "tele/x/SENSOR", Reason: "bad_json", Err: errors.New("boom")}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"ignored", telemetry.ErrIgnored, "ignored"},
		{"wrapped ignored", fmt.Errorf("route: %w", telemetry.ErrIgnored), "ignored"},
		{"error", bad, "bad_json"},
		{"wrapped error", fmt.Errorf("mqttsrc: %w", bad), "bad_json"},
		{"other", errors.New("boom"), "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := telemetry.Reason(tt.err); got != tt.want {
				t.Errorf("telemetry.Reason(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestError(t *testing.T) {
	cause := errors.New("unexpected end of JSON input")
	e := &telemetry.RejectError{Source: "tasmota", Topic: "tele/fridge-1/SENSOR", Reason: "bad_json", Err: cause}
	if got, want := e.Error(), "tasmota tele/fridge-1/SENSOR: bad_json: unexpected end of JSON input"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, cause) {
		t.Error("errors.Is does not reach the cause")
	}
	e.Err = nil
	if got, want := e.Error(), "tasmota tele/fridge-1/SENSOR: bad_json"; got != want {
		t.Errorf("Error() without cause = %q, want %q", got, want)
	}
	e.Topic, e.Reason = "tele/x\n2026-01-01 forged log line", "bad_topic"
	if got, want := e.Error(), `tasmota "tele/x\n2026-01-01 forged log line": bad_topic`; got != want {
		t.Errorf("Error() with a control character = %q, want %q", got, want)
	}
}

// TestErrorFromDecoder checks what a caller sees: an *telemetry.RejectError naming source and topic
// whose cause survives errors.As and errors.Is.
func TestErrorFromDecoder(t *testing.T) {
	dec := mustNew(t, "zigbee2mqtt")
	_, err := dec("zigbee2mqtt/room-101", []byte(`{"temperature":"hot"}`))
	var e *telemetry.RejectError
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want an *telemetry.RejectError", err)
	}
	if e.Source != "zigbee2mqtt" || e.Topic != "zigbee2mqtt/room-101" || e.Reason != "bad_value" {
		t.Errorf("err = %#v", e)
	}
	t.Log(err)

	_, err = dec("zigbee2mqtt/room-101", []byte(`{"temperature":21,}`))
	var syn *json.SyntaxError
	if !errors.As(err, &syn) || telemetry.Reason(err) != "bad_json" {
		t.Errorf("bad JSON: %v, want bad_json wrapping a *json.SyntaxError", err)
	} else if syn.Offset != 19 {
		t.Errorf("syntax error at offset %d, want 19", syn.Offset)
	}
	t.Log(err)
}

// TestSamplesDoNotShareValues checks that appending to one sample's Values cannot
// overwrite another's.
func TestSamplesDoNotShareValues(t *testing.T) {
	dec := mustNew(t, "tasmota")
	got, err := dec("tele/fridge-1/SENSOR", []byte(tasmotaMixed))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(got[1].Values)
	got[0].Values = append(got[0].Values, telemetry.Value{Metric: telemetry.Online, V: 1})
	if !slices.Equal(got[1].Values, before) {
		t.Errorf("appending to sample 0 changed sample 1: %v, was %v", got[1].Values, before)
	}

	z := mustNew(t, "zigbee2mqtt")
	a, err := z("zigbee2mqtt/a", []byte(`{"temperature":1}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := z("zigbee2mqtt/b", []byte(`{"temperature":2}`))
	if err != nil {
		t.Fatal(err)
	}
	a[0].Values = append(a[0].Values, telemetry.Value{Metric: telemetry.Online, V: 1})
	if b[0].Values[0].V != 2 {
		t.Error("two results share memory")
	}
}

// TestPure checks every fixture for determinism and that no result aliases the
// payload buffer, which the MQTT client may reuse.
func TestPure(t *testing.T) {
	for _, src := range allSeeds() {
		dec := mustNew(t, src.source)
		for _, c := range src.seeds {
			checkPure(t, dec, c.topic, []byte(c.payload))
		}
	}
}

// TestConcurrent runs every decoder from many goroutines at once; run with -race.
func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for _, src := range allSeeds() {
		dec := mustNew(t, src.source)
		for range 4 {
			wg.Go(func() {
				for _, c := range src.seeds {
					s, err := dec(c.topic, []byte(c.payload))
					if err == nil && len(s) == 0 {
						t.Errorf("%s %s: no samples, no error", src.source, c.topic)
					}
				}
			})
		}
	}
	wg.Wait()
}

// TestMaxPayloadBoundary checks that exactly telemetry.MaxPayload bytes are still parsed.
func TestMaxPayloadBoundary(t *testing.T) {
	dec := mustNew(t, "zigbee2mqtt")
	p := []byte(big(0))
	pad := telemetry.MaxPayload - len(p)
	p = []byte(big(pad))
	if len(p) != telemetry.MaxPayload {
		t.Fatalf("fixture is %d bytes", len(p))
	}
	if _, err := dec("zigbee2mqtt/room-101", p); err != nil {
		t.Errorf("%d bytes: %v", len(p), err)
	}
	if _, err := dec("zigbee2mqtt/room-101", append(p, ' ')); telemetry.Reason(err) != "too_large" {
		t.Errorf("%d bytes: %v, want too_large", len(p)+1, err)
	}
}

type sourceSeeds struct {
	source string
	seeds  []rejectCase // topic and payload; reason unused for decode cases
}

// allSeeds returns every fixture of every source.
func allSeeds() []sourceSeeds {
	return []sourceSeeds{
		{"zigbee2mqtt", seeds(zigbee2mqttDecodeCases(), zigbee2mqttRejectCases())},
		{"tasmota", seeds(tasmotaDecodeCases(), tasmotaRejectCases())},
		{"esphome", seeds(esphomeDecodeCases(), esphomeRejectCases())},
		{"shelly", seeds(shellyDecodeCases(), shellyRejectCases())},
		{"saqshy", seeds(saqshyDecodeCases(), saqshyRejectCases())},
	}
}

func seeds(ok []decodeCase, bad []rejectCase) []rejectCase {
	out := make([]rejectCase, 0, len(ok)+len(bad))
	for _, c := range ok {
		out = append(out, rejectCase{name: c.name, topic: c.topic, payload: c.payload})
	}
	return append(out, bad...)
}
