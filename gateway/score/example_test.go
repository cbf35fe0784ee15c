package score

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// docTable reads the two-column table between <!-- name:begin --> and
// <!-- name:end --> in docs/SAFETY_SCORE.md.
func docTable(t *testing.T, name string) map[string]float64 {
	t.Helper()
	f, err := os.Open("../../docs/SAFETY_SCORE.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]float64{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch line {
		case "<!-- " + name + ":begin -->":
			in = true
			continue
		case "<!-- " + name + ":end -->":
			in = false
		}
		if !in || !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 2 {
			t.Fatalf("table %s: row %q", name, line)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(cells[1]), 64)
		if err != nil {
			continue // the header
		}
		out[strings.TrimSpace(cells[0])] = v
	}
	if len(out) == 0 {
		t.Fatalf("table %s not found in docs/SAFETY_SCORE.md", name)
	}
	return out
}

// TestDocWeights: the documented default weights are the code's.
func TestDocWeights(t *testing.T) {
	w := docTable(t, "weights")
	for i := range NumComponents {
		if w[i.String()] != DefaultWeights[i] {
			t.Errorf("%s: doc %g, code %g", i, w[i.String()], DefaultWeights[i])
		}
	}
}

// TestWorkedExample rebuilds the worked example's day from the inputs table in
// docs/SAFETY_SCORE.md, runs it through the check and compares with the expected
// table.
func TestWorkedExample(t *testing.T) {
	in, want := docTable(t, "example"), docTable(t, "expected")
	sensors := []Sensor{
		{ID: "fridge", Zone: "treatment-fridge", ZoneKind: "med-fridge", Interval: 5 * time.Minute},
		{ID: "hall", Zone: "corridor-1", ZoneKind: "corridor", Interval: 10 * time.Minute},
	}
	run := func(t *testing.T, opt Options, s []Sensor) map[string]any {
		c := newTestCheck(t, s, opt)
		for _, s := range s {
			slots, got, inBand := int(in[s.ID+".slots"]), int(in[s.ID+".got"]), int(in[s.ID+".in_band"])
			if want := int(24 * time.Hour / s.Interval); slots != want {
				t.Fatalf("%s: doc says %d slots, a day has %d", s.ID, slots, want)
			}
			b, _ := SensorBand(s)
			var evs []telemetry.Event
			for i := range got { // the first `got` slots have a reading, the first `inBand` in band
				temp := b.Min + 0.5
				if i >= inBand {
					temp = b.Min - 1
				}
				evs = append(evs, reading(s.ID, at(0, 0, 0).Add(time.Duration(i)*s.Interval+time.Second), temp))
			}
			// A sensor that reported to the end goes on the next day as it ended,
			// which confirms its last readings; the hall stays silent.
			if got == slots {
				next := b.Min + 0.5
				if inBand < got {
					next = b.Min - 1
				}
				for i := range 20 {
					evs = append(evs, reading(s.ID, at(1, 0, 0).Add(time.Duration(i)*s.Interval+time.Second), next))
				}
			}
			c.Observe(evs)
		}
		return closeDay(t, c)
	}
	base := Options{Coverage: fixed{in["coverage"], true}, Rounds: fixed{in["rounds"], true}, Response: fixed{in["response"], true}}
	f := run(t, base, sensors)
	wantField(t, f, "temperature", want["temperature"])
	wantField(t, f, "availability", want["availability"])
	wantField(t, f, "total", want["total"])
	if f["caps"] != "" {
		t.Errorf("caps %q", f["caps"])
	}

	scald := base
	scald.Events = &fakeEvents{list: []telemetry.Condition{{Kind: "scald", Subject: "bath-1", Since: at(0, 19, 0), Resolved: at(0, 19, 5)}}}
	f = run(t, scald, sensors)
	wantField(t, f, "total", want["total_with_scald"])
	wantField(t, f, "temperature", want["temperature"])
	if f["caps"] != CapScald {
		t.Errorf("caps %q", f["caps"])
	}

	// Step 7: the fridge at 11 °C all day with one 5 °C reading per slot, early or
	// late in it, computed with the day entry point (the central rating's).
	dayParts := func(evs []telemetry.Event) [NumComponents]Part {
		t.Helper()
		r, err := ComputeDay(Settings{Location: almaty, Sensors: sensors[:1]}, at(0, 12, 0), DayData{Readings: evs}, at(2, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		return r.Parts
	}
	day := func(evs []telemetry.Event) float64 { return dayParts(evs)[CompTemperature].Ratio }
	per := time.Duration(in["gamed.per_slot_s"]) * time.Second
	for _, k := range []string{"early", "late"} {
		after := time.Duration(in["gamed."+k+"_s"]) * time.Second
		var evs []telemetry.Event
		for t := at(0, 0, 0); t.Before(at(1, 0, 10)); t = t.Add(per) {
			evs = append(evs, reading("fridge", t, 11), reading("fridge", t.Add(after), 5))
		}
		if got, want := day(evs), want["temperature_gamed_"+k]; math.Abs(got-want) > 1e-12 {
			t.Errorf("gamed fridge (%s): temperature %.13f, want %.13f", k, got, want)
		}
	}
	// Step 8: the cost: a fridge reporting more often than registered, in band
	// but for one reading at noon.
	every := time.Duration(in["spike.every_s"]) * time.Second
	var evs []telemetry.Event
	for tm := at(0, 0, 0); tm.Before(at(1, 0, 10)); tm = tm.Add(every) {
		v := 5.0
		if tm.Equal(at(0, 12, 0)) {
			v = in["spike.c"]
		}
		evs = append(evs, reading("fridge", tm, v))
	}
	if got := day(evs); math.Abs(got-want["temperature_spike"]) > 1e-12 {
		t.Errorf("spike: temperature %.13f, want %.13f", got, want["temperature_spike"])
	}

	// Step 9: availability of a jittery fridge with a silence, and with an extra
	// reading beside each honest one.
	var honest []time.Time
	short, long := time.Duration(in["jitter.short_s"])*time.Second, time.Duration(in["jitter.long_s"])*time.Second
	silentFrom := at(0, 0, 0).Add(time.Duration(in["jitter.silent_from_h"]) * time.Hour)
	silentTo := silentFrom.Add(time.Duration(in["jitter.silent_min"]) * time.Minute)
	for _, run := range [][2]time.Time{{at(0, 0, 0), silentFrom}, {silentTo, at(1, 0, 10)}} {
		for k, tm := 0, run[0]; tm.Before(run[1]); k++ {
			honest = append(honest, tm)
			tm = tm.Add([]time.Duration{short, long}[k%2])
		}
	}
	early, late := time.Duration(in["extra.early_s"])*time.Second, time.Duration(in["extra.late_s"])*time.Second
	for k, extra := range map[string]func(i int) (time.Time, bool){
		"":       func(int) (time.Time, bool) { return time.Time{}, false },
		"_early": func(i int) (time.Time, bool) { return honest[i].Add(early), true },
		"_late": func(i int) (time.Time, bool) {
			ok := i+1 < len(honest) && honest[i+1].Sub(honest[i]) <= holdLimit(5*time.Minute)
			if !ok {
				return time.Time{}, false
			}
			return honest[i+1].Add(-late), true
		},
	} {
		var evs []telemetry.Event
		for i, tm := range honest {
			evs = append(evs, reading("fridge", tm, 5))
			if x, ok := extra(i); ok {
				evs = append(evs, reading("fridge", x, 5))
			}
		}
		if got, want := dayParts(evs)[CompAvailability].Ratio, want["availability_jitter"+k]; math.Abs(got-want) > 1e-12 {
			t.Errorf("jitter%s: availability %.13f, want %.13f", k, got, want)
		}
	}

	noCameras := base
	noCameras.Coverage = nil
	f = run(t, noCameras, sensors)
	wantField(t, f, "total", want["total_without_cameras"])
	if _, ok := f["coverage"]; ok {
		t.Errorf("coverage written for a centre without cameras: %v", f)
	}
}
