package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/plausibility"
)

// TestHonestCentresPlausible: honest simulated centres (the demo centre's 20 zones,
// each device at its source's interval, two days) are judged by
// gateway/plausibility as the gateway does (verdict at the end of each day, twins
// among the judged sensors). The false-positive rate must stay at most 1 %; the
// measured rate is logged (go test -v -run HonestCentresPlausible ./gateway/sim).
func TestHonestCentresPlausible(t *testing.T) {
	const centres = 40
	p := plausibility.DefaultParams()
	start := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	end := start.Add(48 * time.Hour)
	judged, flagged, sensors, twinPairs := 0, 0, 0, 0
	var examples []string
	for i := range centres {
		c := NewCentre(fmt.Sprintf("h%02d", i), uint64(1000+i))
		var named []plausibility.Named
		for _, d := range c.Devices {
			class := plausibility.ClassOf(d.Kind)
			if class == plausibility.Unjudged {
				continue
			}
			sensors++
			s := plausibility.NewSensor(class, p)
			iv := d.Sensor.Interval.Std()
			for now := start; now.Before(end); now = now.Add(iv) {
				if err := s.Observe(now, c.reading(d, now).TemperatureC); err != nil {
					t.Fatal(err)
				}
			}
			v := s.Verdict(end)
			if v.Judged {
				judged++
			}
			if v.Implausible {
				flagged++
				examples = append(examples, fmt.Sprintf("%s/%s (%s, %s): %s", c.Config.Centre.ID, d.Sensor.ID, d.Kind, iv, v.Reason))
			}
			named = append(named, plausibility.Named{ID: d.Sensor.ID, Zone: d.Sensor.Zone, S: s})
		}
		for _, tp := range plausibility.FindTwins(named, end, p) {
			twinPairs++
			examples = append(examples, fmt.Sprintf("%s: %s and %s: %s", c.Config.Centre.ID, tp.A.ID, tp.B.ID, tp.Pair.Reason))
		}
	}
	if judged == 0 {
		t.Fatal("no sensor judged: the test judges nothing")
	}
	rate := float64(flagged+2*twinPairs) / float64(sensors)
	t.Logf("honest simulated centres: %d sensors with a rule, %d judged, %d flagged on their own, %d twin pairs: false-positive rate %.2f %%",
		sensors, judged, flagged, twinPairs, 100*rate)
	for _, e := range examples {
		t.Log(e)
	}
	if rate > 0.01 {
		t.Errorf("false-positive rate %.2f %% on honest simulated centres, want at most 1 %%", 100*rate)
	}
}

// TestFlatFridgeFlagged: the same judgement flags a simulated fridge whose probe
// was taken out of the fridge's cycle (its readings flat at 5.0 °C): the test
// above can fail.
func TestFlatFridgeFlagged(t *testing.T) {
	c := NewCentre("d1", 1)
	start := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	for _, d := range c.Devices {
		if d.Kind != "med-fridge" {
			continue
		}
		s := plausibility.NewSensor(plausibility.ClassOf(d.Kind), plausibility.DefaultParams())
		for now := start; now.Before(start.Add(24 * time.Hour)); now = now.Add(time.Minute) {
			s.Observe(now, 5.0)
		}
		if v := s.Verdict(start.Add(24 * time.Hour)); !v.Implausible || v.Code != plausibility.NoCycles {
			t.Errorf("flat fridge: %+v", v)
		}
		return
	}
	t.Fatal("no med-fridge in the demo centre")
}
