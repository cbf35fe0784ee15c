package rating

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/score"
)

// fridgeDay writes a fridge centre's points from `from` to day0's end (+10 min):
// a heartbeat and a fridge reading every minute, the reading temp(t).
func fridgeDay(centre string, from time.Time, temp func(time.Time) float64) lines {
	var ls lines
	for t := from; t.Before(day0.AddDate(0, 0, 1).Add(10 * time.Minute)); t = t.Add(time.Minute) {
		ls.add("gateway,centre=%s uptime_s=%di %d", centre, t.Unix(), t.UnixNano())
		ls.add("climate,centre=%s,sensor=fridge,zone=mf,zone_kind=med-fridge temperature_c=%g %d", centre, temp(t), t.UnixNano())
	}
	return ls
}

// cycling is an honest fridge: the compressor takes it from 6 °C down to 4 °C in
// 10 minutes, and it warms back in 20.
func cycling(t time.Time) float64 {
	m := float64(t.Unix()/60%30) + 0.5
	if m < 10 {
		return math.Round((6-0.2*m)*100) / 100
	}
	return math.Round((4+0.1*(m-10))*100) / 100
}

func flat(time.Time) float64 { return 5.0 }

func startStore(t *testing.T) *store.Store {
	t.Helper()
	in := testenv.StartInflux(t, "saqshy")
	st := store.NewStore(in.URL(), "", "", in.Bucket())
	t.Cleanup(st.Close)
	return st
}

// TestCentralPlausibility: the central job runs the gateway's plausibility rules
// over the verified readings, so a fridge probe flat at 5.0 °C all day (taped
// outside the fridge, or a script) gets no temperature credit centrally, whatever
// the gateway did with its own check, and the rating point says why. An honest
// cycling fridge keeps its credit. Real InfluxDB.
func TestCentralPlausibility(t *testing.T) {
	st := startStore(t)
	ctx := t.Context()
	ls := append(fridgeDay("flat", day0, flat), fridgeDay("honest", day0, cycling)...)
	// The flat centre's gateway had its plausibility check off: it claimed 1.0.
	ls.add(`safety_score,centre=flat,period=day total=100,temperature=1,availability=1,response=1,weights_version="2025.1",caps="",capped=false %d`, day0.UnixNano())
	if err := st.Write(ctx, ls...); err != nil {
		t.Fatal(err)
	}
	now := day0.AddDate(0, 0, 1).Add(2 * time.Hour)
	j, err := New(Options{DB: st, Centres: entries{entry("flat"), entry("honest")}, KeepDays: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	days, err := j.Cycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 {
		t.Fatalf("%d days, want 2", len(days))
	}
	got := ratingRows(t, st)

	f := got["flat"]
	if v, _ := f["temperature"].(float64); v != 0 {
		t.Errorf("flat: central temperature %v, want 0: an implausible probe's readings do not count in band", f["temperature"])
	}
	why, _ := f["implausible"].(string)
	if !strings.Contains(why, "sensor fridge (med-fridge): no compressor cycles") {
		t.Errorf("flat: implausible = %q, want the reason (no compressor cycles)", why)
	}
	if f["differs"] != true || f["differs_in"] != "temperature" {
		t.Errorf("flat: differs %v in %v; want the gateway's 100 flagged in temperature", f["differs"], f["differs_in"])
	}
	if tot, _ := f["total"].(float64); tot > 100-35+0.5 {
		t.Errorf("flat: total %v, want at most 65 (no temperature credit)", tot)
	}

	h := got["honest"]
	if v, _ := h["temperature"].(float64); math.Abs(v-1) > 1e-9 {
		t.Errorf("honest: temperature %v, want 1", h["temperature"])
	}
	if h["implausible"] != nil && h["implausible"] != "" {
		t.Errorf("honest: implausible = %q, want none", h["implausible"])
	}
	for _, d := range days {
		if d.Centre == "flat" && (len(d.Implausible) != 1 || d.Implausible[0] != why) {
			t.Errorf("flat: Day.Implausible %q, want the point's %q", d.Implausible, why)
		}
	}

	// The honest probe's readings arrive late for the flat centre too (the probe
	// was put back): the next cycle recomputes the day and clears the reason.
	if err := st.Write(ctx, fridgeDay("flat", day0, cycling)...); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if f := ratingRows(t, st)["flat"]; f["implausible"] != nil && f["implausible"] != "" || f["temperature"] != 1.0 {
		t.Errorf("recomputed: implausible %q temperature %v, want none and 1", f["implausible"], f["temperature"])
	}
}

// TestInstalledNotSilent: a centre registered with its gateway's installation time
// (gateway.installed, day0 14:00) is not rated for the days before it, and its
// first day is scored from 14:00, not as a silent morning; the same data without
// the registered time scores the morning as missing.
func TestInstalledNotSilent(t *testing.T) {
	st := startStore(t)
	ctx := t.Context()
	install := day0.Add(14 * time.Hour)
	ls := append(fridgeDay("new", install, cycling), fridgeDay("nodate", install, cycling)...)
	if err := st.Write(ctx, ls...); err != nil {
		t.Fatal(err)
	}
	withDate := entry("new")
	withDate.Gateway.Installed = install.UTC()
	now := day0.AddDate(0, 0, 1).Add(2 * time.Hour)
	j, err := New(Options{DB: st, Centres: entries{withDate, entry("nodate")}, KeepDays: 3, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	days, err := j.Cycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rated := map[string][]Day{}
	for _, d := range days {
		rated[d.Centre] = append(rated[d.Centre], d)
	}
	if n := len(rated["new"]); n != 1 || !rated["new"][0].Start.Equal(day0) {
		t.Fatalf("new: %d days rated (%+v), want only day0: the two days before the installation are not its silence", n, rated["new"])
	}
	nd := rated["new"][0].Result
	if nd.Capped() || math.Abs(nd.Parts[score.CompTemperature].Ratio-1) > 1e-9 || math.Abs(nd.Parts[score.CompAvailability].Ratio-1) > 1e-9 {
		t.Errorf("new: caps %v temperature %v availability %v; want no cap and 1, 1 (scored from the installation)",
			nd.Caps, nd.Parts[score.CompTemperature].Ratio, nd.Parts[score.CompAvailability].Ratio)
	}
	if n := len(rated["nodate"]); n != 3 {
		t.Fatalf("nodate: %d days rated, want 3 (no registered installation: every day)", n)
	}
	for _, d := range rated["nodate"] {
		if d.Start.Equal(day0) {
			if !d.Result.Capped() || d.Result.Total >= nd.Total {
				t.Errorf("nodate day0: total %v caps %v; want capped below %v (the morning counts as missing)", d.Result.Total, d.Result.Caps, nd.Total)
			}
		} else if d.Result.Total != 0 || !strings.Contains(strings.Join(d.Result.Caps, ","), score.CapGatewaySilent) {
			t.Errorf("nodate %s: total %v caps %v; want 0, silent", d.Start.Format(time.DateOnly), d.Result.Total, d.Result.Caps)
		}
	}
}
