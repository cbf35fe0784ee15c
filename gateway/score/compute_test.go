package score

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

func TestCompute(t *testing.T) {
	all := func(v float64) [NumComponents]Part {
		var p [NumComponents]Part
		for i := range p {
			p[i] = Part{Applicable: true, Known: true, Ratio: v}
		}
		return p
	}
	w := DefaultWeights
	tests := []struct {
		name    string
		parts   [NumComponents]Part
		caps    []string
		on      bool
		total   float64
		used    [NumComponents]float64
		capsOut []string
	}{
		{"all perfect", all(1), nil, true, 100, [NumComponents]float64{1, 1, 1, 1, 1}, nil},
		{"all zero", all(0), nil, true, 0, [NumComponents]float64{}, nil},
		{"weighted", func() [NumComponents]Part {
			p := all(1)
			p[CompTemperature].Ratio, p[CompCoverage].Ratio = 0.5, 0.25
			return p
		}(), nil, true, 100 * (0.35*0.5 + 0.15 + 0.20*0.25 + 0.20 + 0.10), [NumComponents]float64{0.5, 1, 0.25, 1, 1}, nil},
		{"unknown counts as zero", func() [NumComponents]Part {
			p := all(1)
			p[CompRounds] = Part{Applicable: true, Known: false, Ratio: 1}
			return p
		}(), nil, true, 80, [NumComponents]float64{1, 1, 1, 0, 1}, nil},
		{"not applicable renormalises", func() [NumComponents]Part {
			p := all(1)
			p[CompCoverage], p[CompRounds] = Part{}, Part{}
			p[CompTemperature].Ratio = 0.5
			return p
		}(), nil, true, 100 * (0.35*0.5 + 0.15 + 0.10) / 0.60, [NumComponents]float64{0.5, 1, 0, 0, 1}, nil},
		{"scald caps temperature and total", all(1), []string{CapScald}, true, 70, [NumComponents]float64{1, 1, 1, 1, 1}, []string{CapScald}},
		{"cap above the score changes nothing but is listed", func() [NumComponents]Part { return all(0.5) }(),
			[]string{CapCameraDown}, true, 100 * (0.35*0.5 + 0.15*0.5 + 0.20*0.5 + 0.20*0.5 + 0.10*0.5), [NumComponents]float64{0.5, 0.5, 0.5, 0.5, 0.5}, []string{CapCameraDown}},
		{"gateway silent caps at 50, lowest wins", all(1), []string{CapScald, CapGatewaySilent, "unknown_cap", CapScald}, true, 50,
			[NumComponents]float64{1, 1, 1, 1, 1}, []string{CapGatewaySilent, CapScald}},
		{"component cap binds below the total cap", func() [NumComponents]Part {
			p := all(0.7)
			p[CompTemperature].Ratio = 0.9
			return p
		}(), []string{CapFreeze}, true, 100 * (0.35*0.6 + 0.65*0.7), [NumComponents]float64{0.9, 0.7, 0.7, 0.7, 0.7}, []string{CapFreeze}},
		{"caps off", all(1), []string{CapScald}, false, 100, [NumComponents]float64{1, 1, 1, 1, 1}, nil},
		{"ratio clamped", func() [NumComponents]Part { p := all(1); p[CompResponse].Ratio = 7; p[CompRounds].Ratio = -1; return p }(),
			nil, true, 80, [NumComponents]float64{1, 1, 1, 0, 1}, nil},
		{"nothing applicable", [NumComponents]Part{}, nil, true, 0, [NumComponents]float64{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute(w, tt.parts, tt.caps, tt.on)
			if !near(r.Total, tt.total) {
				t.Errorf("total = %.12g, want %.12g", r.Total, tt.total)
			}
			for i, p := range r.Parts {
				if !near(p.Ratio, tt.used[i]) {
					t.Errorf("%s = %g, want %g", Component(i), p.Ratio, tt.used[i])
				}
			}
			if !slices.Equal(r.Caps, tt.capsOut) || r.Capped() != (len(tt.capsOut) > 0) {
				t.Errorf("caps = %v (capped %t), want %v", r.Caps, r.Capped(), tt.capsOut)
			}
		})
	}
}

func TestPointSchema(t *testing.T) {
	p := [NumComponents]Part{CompTemperature: {Applicable: true, Known: true, Ratio: 0.5},
		CompAvailability: {Applicable: true, Known: false}}
	r := Compute(DefaultWeights, p, []string{CapFreeze}, true)
	ev := r.Point(at(0, 0, 0), "day", "v9")
	if err := ev.Point.Check(); err != nil {
		t.Fatal(err)
	}
	f, period := fields(ev)
	if period != "day" || ev.Point.Measurement != "safety_score" {
		t.Fatalf("period %q measurement %q", period, ev.Point.Measurement)
	}
	for _, k := range []string{"coverage", "rounds", "response"} {
		if _, ok := f[k]; ok {
			t.Errorf("not-applicable %s written: %v", k, f)
		}
	}
	if f["availability"] != 0.0 || f["temperature"] != 0.5 || f["caps"] != CapFreeze || f["capped"] != true || f["weights_version"] != "v9" {
		t.Errorf("fields %v", f)
	}
	wantField(t, f, "total", 100*(0.35*0.5)/0.5)
}

// TestFridgeGamingOneReadingPerSlot: a medicine fridge at 11 °C all day (every
// 5 min), with one extra 5 °C reading in each 5-minute slot, 1 s or 4 min 59 s
// after the 11 °C one. The old rule ("a slot is in band if any reading in it
// is") scored this 1.0; with each reading held until the next, 1/300 (299 s in)
// or 299/300 (1 s in); now that an out-of-band reading holds its full interval
// whatever comes in between, 0.
func TestFridgeGamingOneReadingPerSlot(t *testing.T) {
	s := Sensor{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: 5 * time.Minute}
	for _, after := range []time.Duration{time.Second, 299 * time.Second} {
		var evs []telemetry.Event
		for tm := at(0, 0, 0); tm.Before(at(1, 0, 10)); tm = tm.Add(5 * time.Minute) {
			evs = append(evs, reading("fridge", tm, 11), reading("fridge", tm.Add(after), 5))
		}
		set := Settings{Location: almaty, Sensors: []Sensor{s}}
		r, err := ComputeDay(set, at(0, 0, 0), DayData{Readings: evs}, at(1, 2, 0))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Parts[CompTemperature].Ratio; got != 0 {
			t.Errorf("5 °C %v after each 11 °C reading: temperature %.6f, want 0", after, got)
		}
		// The gateway's check, fed the same readings, writes the same day.
		c := newTestCheck(t, []Sensor{s}, Options{})
		c.Tick(at(0, 0, 0), true)
		c.Observe(evs)
		f := closeDay(t, c)
		wantField(t, f, "temperature", r.Parts[CompTemperature].Ratio)
	}
}

// TestComputeDayNeedsLocation: settings without a time zone are refused.
func TestComputeDayNeedsLocation(t *testing.T) {
	if _, err := ComputeDay(Settings{}, at(0, 0, 0), DayData{}, at(1, 0, 0)); err == nil || !strings.Contains(err.Error(), "time zone") {
		t.Errorf("err = %v, want one naming the time zone", err)
	}
}
