package readings

import (
	"log/slog"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/mqttsrc"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// clockAt is a Clock at a fixed time with a fixed Synced answer.
type clockAt struct {
	now    time.Time
	synced bool
}

func (c *clockAt) Now() time.Time { return c.now }
func (c *clockAt) Synced() bool   { return c.synced }

func exampleRouter(t *testing.T, clock check.Clock) (*router, *Counters) {
	t.Helper()
	cfg, err := config.Parse("example.yaml", config.Example())
	if err != nil {
		t.Fatal(err)
	}
	counters := newCounters(slog.New(slog.DiscardHandler), clock.Now)
	r, err := newRouter(cfg, counters, clock)
	if err != nil {
		t.Fatal(err)
	}
	return r, counters
}

// TestRouteKeepsGoodFieldsOfABadMessage: a string battery beside a good temperature
// and humidity keeps both and counts the bad field by its reason; an unreadable time
// falls back to the arrival time, flagged.
func TestRouteKeepsGoodFieldsOfABadMessage(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	r, counters := exampleRouter(t, &clockAt{now: now, synced: true})
	evs := r.route(nil, []mqttsrc.Message{{
		Topic:    "zigbee2mqtt/room-101",
		Payload:  []byte(`{"temperature":21.3,"humidity":44.7,"battery":"low","last_seen":"yesterday"}`),
		Received: now,
	}})
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1: %+v", len(evs), evs)
	}
	e := evs[0]
	want := []telemetry.Value{{Metric: telemetry.Temperature, V: 21.3}, {Metric: telemetry.Humidity, V: 44.7}}
	if len(e.Values) != 2 || e.Values[0] != want[0] || e.Values[1] != want[1] {
		t.Errorf("values %v, want %v", e.Values, want)
	}
	if !e.Time.Equal(now) || !e.Flags.Has(telemetry.TimeFallback) || e.Flags.Has(telemetry.DeviceTime) {
		t.Errorf("time %v flags %b: want the arrival time, flagged TimeFallback", e.Time, e.Flags)
	}
	snap := counters.Snapshot()
	if snap[Key{"zigbee2mqtt", "bad_value"}] != 1 || snap[Key{"zigbee2mqtt", "bad_time"}] != 1 || snap[Key{"zigbee2mqtt", "decoded"}] != 1 {
		t.Errorf("counters %v: want one bad_value, one bad_time, one decoded", snap)
	}
}

// TestRouteBoundsPayloadTimesWhileUnsynced: with the clock unsynchronised, a payload
// stamped 2036 is not believed (arrival time, flagged, counted bad_time); one before
// the build date neither; a plausible one is kept.
func TestRouteBoundsPayloadTimesWhileUnsynced(t *testing.T) {
	clock := &clockAt{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), synced: true}
	r, counters := exampleRouter(t, clock)
	msg := func(ts string, at time.Time) []mqttsrc.Message {
		return []mqttsrc.Message{{Topic: "saqshy/example-centre/sensor/treatment-climate/state",
			Payload: []byte(`{"temperature_c":21.5,"ts":"` + ts + `"}`), Received: at}}
	}
	// A synchronised message sets the last known good time.
	if evs := r.route(nil, msg("2026-03-01T10:00:00Z", clock.now)); len(evs) != 1 {
		t.Fatalf("synced: %d events", len(evs))
	}
	clock.synced = false
	arrival := time.Date(1970, 1, 1, 0, 5, 0, 0, time.UTC) // a Pi booted without RTC
	tests := []struct {
		ts       string
		fallback bool
	}{
		{"2036-05-01T00:00:00Z", true},
		{"2019-01-01T00:00:00Z", true},
		{"2026-03-01T10:05:00Z", false},
	}
	for _, tt := range tests {
		evs := r.route(nil, msg(tt.ts, arrival))
		if len(evs) != 1 {
			t.Fatalf("%s: %d events", tt.ts, len(evs))
		}
		e := evs[0]
		if tt.fallback {
			if !e.Time.Equal(arrival) || !e.Flags.Has(telemetry.TimeFallback) {
				t.Errorf("%s: stored at %v flags %b; want the arrival time, flagged", tt.ts, e.Time, e.Flags)
			}
		} else if want, _ := time.Parse(time.RFC3339, tt.ts); !e.Time.Equal(want) || e.Flags.Has(telemetry.TimeFallback) {
			t.Errorf("%s: stored at %v flags %b; want the payload time", tt.ts, e.Time, e.Flags)
		}
	}
	if n := counters.Snapshot()[Key{"saqshy", "bad_time"}]; n != 2 {
		t.Errorf("bad_time counted %d times, want 2", n)
	}
}

// TestRouteESPHomeDeclaredFahrenheit: an ESPHome node whose Home Assistant discovery
// declares its temperature in °F has it converted; one named temperature_f is
// converted once, not twice; a node declaring °C is untouched.
func TestRouteESPHomeDeclaredFahrenheit(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	r, counters := exampleRouter(t, &clockAt{now: now, synced: true})
	var node string
	for _, d := range []string{"room-102-node", "esp-climate"} {
		if r.devices[d] != nil {
			node = d
		}
	}
	if node == "" {
		for base, d := range r.devices {
			if d.source == "esphome" {
				node = base
			}
		}
	}
	if node == "" {
		t.Fatal("the example config has no ESPHome sensor")
	}
	if !slices.Contains(r.topics, "homeassistant/sensor/+/+/config") {
		t.Errorf("no subscription to ESPHome's discovery: %v", r.topics)
	}
	key := r.devices[node].targets[0].key
	if key == "" {
		key = "temperature"
	}
	state := node + "/sensor/" + key + "/state"
	temp := func(payload string) float64 {
		t.Helper()
		evs := r.route(nil, []mqttsrc.Message{{Topic: state, Payload: []byte(payload), Received: now}})
		if len(evs) != 1 || len(evs[0].Values) != 1 {
			t.Fatalf("events %+v", evs)
		}
		return evs[0].Values[0].V
	}
	if got := temp("71.6"); got != 71.6 {
		t.Fatalf("before discovery: %g", got)
	}
	r.route(nil, []mqttsrc.Message{{Topic: "homeassistant/sensor/" + node + "/" + key + "/config", Received: now,
		Payload: []byte(`{"name":"Temperature","stat_t":"` + state + `","unit_of_meas":"°F","dev_cla":"temperature"}`)}})
	if got := temp("71.6"); math.Abs(got-22) > 1e-9 {
		t.Errorf("declared °F: %g, want 22", got)
	}
	r.route(nil, []mqttsrc.Message{{Topic: "homeassistant/sensor/" + node + "/" + key + "/config", Received: now,
		Payload: []byte(`{"name":"Temperature","stat_t":"` + state + `","unit_of_meas":"°C","dev_cla":"temperature"}`)}})
	if got := temp("21.5"); got != 21.5 {
		t.Errorf("declared °C again: %g", got)
	}
	var u declaredUnits
	_ = u.learn("homeassistant/sensor/n/temperature_f/config", []byte(`{"stat_t":"n/sensor/temperature_f/state","unit_of_measurement":"°F","device_class":"temperature"}`))
	s := []telemetry.Sample{{Values: []telemetry.Value{{Metric: telemetry.Temperature, V: 20}}}}
	if u.apply("n/sensor/temperature_f/state", s) || s[0].Values[0].V != 20 {
		t.Error("a temperature_f sensor, converted by the decoder, was converted again")
	}
	if n := counters.Snapshot()[Key{"unknown", "unmapped_topic"}]; n != 0 {
		t.Errorf("discovery messages counted as unmapped: %d", n)
	}
}
