package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/decode"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// temps decodes, as the gateway does, the temperatures in the messages of the
// device.
func temps(t *testing.T, c *Centre, d *Device, msgs []Message) []float64 {
	t.Helper()
	dec, err := decode.New(d.Sensor.Source, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	base := c.base(d)
	for _, m := range msgs {
		if !strings.HasPrefix(m.Topic, base) {
			continue
		}
		samples, err := dec(m.Topic, m.Payload)
		if err != nil {
			t.Fatalf("%s: %v", m.Topic, err)
		}
		for _, s := range samples {
			for _, v := range s.Values {
				if v.Metric == telemetry.Temperature {
					out = append(out, v.V)
				}
			}
		}
	}
	return out
}

// The kitchen chiller warms above its limit for the incident's minutes, every
// period, from the next whole minute; in between it reads its normal 3 °C band. The
// zone gets a limit short enough to fire within an incident, and the config with
// it is valid.
func TestIncidentWarmsTheChiller(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	c := NewCentre("demo", 1)
	in, err := AddIncident(c, "food-fridge", now, 10*time.Minute, 3*time.Minute, 8, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AddIncident(c, "no-such-zone", now, time.Minute, time.Second, 8, 0); err == nil {
		t.Error("a zone without a device should be an error")
	}
	c.Config.ApplyDefaults()
	if err := c.Config.Validate(); err != nil {
		t.Fatalf("config with the incident's limit: %v", err)
	}
	if l := c.Config.Alerts.Limits; len(l) != 1 || l[0].Zone != "food-fridge" || *l[0].Above != 8 || l[0].For.Std() != time.Minute {
		t.Errorf("limits %+v", l)
	}
	first := time.Date(2026, 11, 22, 10, 1, 0, 0, time.UTC)
	if !in.First.Equal(first) || !in.Next(now).Equal(first) || !in.Next(first.Add(time.Second)).Equal(first.Add(10*time.Minute)) {
		t.Errorf("first %v, next %v / %v", in.First, in.Next(now), in.Next(first.Add(time.Second)))
	}
	for _, tc := range []struct {
		at   time.Duration // after first
		warm bool
	}{{-time.Second, false}, {0, true}, {2*time.Minute + 59*time.Second, true}, {3 * time.Minute, false},
		{9 * time.Minute, false}, {10 * time.Minute, true}, {21 * time.Minute, true}, {24 * time.Minute, false}} {
		at := first.Add(tc.at)
		if in.Active(at) != tc.warm {
			t.Errorf("at first%+v: active %v, want %v", tc.at, in.Active(at), tc.warm)
		}
		vs := temps(t, c, in.Device, c.Tick(at))
		if len(vs) == 0 {
			t.Fatalf("at first%+v: no reading from the chiller", tc.at)
		}
		for _, v := range vs {
			if tc.warm && (v < 9.8 || v > 10.2) || !tc.warm && v > 7 {
				t.Errorf("at first%+v (warm %v): %.2f °C", tc.at, tc.warm, v)
			}
		}
	}
}
