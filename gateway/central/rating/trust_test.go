package rating

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/telemetry"
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
	j, _, days := rateDay0(t, st, ls, "flat", "honest")
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

// gatewayRun is a gateway's score check run minute by minute over [from, to):
// a fridge reading (temp) and a heartbeat every minute, as the verified points
// the ingest stores, and the check's day points as the gateway writes them.
func gatewayRun(t *testing.T, c *score.Check, centre string, from, to time.Time, temp func(time.Time) float64) lines {
	t.Helper()
	var evs []telemetry.Event
	var ls lines
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		r := telemetry.Event{Time: m, Sensor: "fridge", Zone: "mf", ZoneKind: "med-fridge", Source: "zigbee2mqtt",
			Values: []telemetry.Value{{Metric: telemetry.Temperature, V: temp(m)}}}
		c.Observe([]telemetry.Event{r})
		evs = append(evs, r)
		for _, p := range c.Tick(m, true) {
			if p.Point != nil && p.Point.Measurement == "safety_score" && slices.Contains(p.Point.Tags, telemetry.Tag{Key: "period", Value: "day"}) {
				evs = append(evs, p)
			}
		}
		c.Committed()
		ls.add("gateway,centre=%s uptime_s=%di %d", centre, m.Unix(), m.UnixNano())
	}
	body, _ := influxsink.Encode(centre, evs)
	return append(ls, strings.Split(strings.TrimSpace(body), "\n")...)
}

// TestStateFileDeleted: the dishonest director's trick of issue 15 — stop the
// gateway late on a bad day, delete score-state.json, start it again the next
// morning — leaves the bad day without a gateway day point, so it drops out of a
// mean of the gateway's points. The central rating has every registered day all
// the same: the bad day keeps its low central score, and the 30-day mean is the
// same as for a twin centre whose gateway kept its state. Real InfluxDB.
func TestStateFileDeleted(t *testing.T) {
	st := startStore(t)
	ctx := t.Context()
	set, err := Settings(entry("x"))
	if err != nil {
		t.Fatal(err)
	}
	good, bad := day0.AddDate(0, 0, -2), day0.AddDate(0, 0, -1)
	warm := func(m time.Time) float64 { // the bad day: the fridge at 9–11 °C
		if m.Before(day0) && !m.Before(bad) {
			return cycling(m) + 5
		}
		return cycling(m)
	}
	stop, restart, now := day0.Add(-30*time.Minute), day0.Add(8*time.Hour), day0.AddDate(0, 0, 1).Add(2*time.Hour)
	var ls lines
	for _, centre := range []string{"kept", "deleted"} {
		path := filepath.Join(t.TempDir(), "score-state.json")
		opt := score.Options{Centre: centre, Location: almaty, Sensors: set.Sensors, Weights: set.Weights, WeightsVersion: set.WeightsVersion, StateFile: path}
		c, err := score.New(opt)
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, gatewayRun(t, c, centre, good, stop, warm)...)
		if err := c.Save(); err != nil { // a clean stop at 23:30 of the bad day
			t.Fatal(err)
		}
		if centre == "deleted" {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}
		if c, err = score.New(opt); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, gatewayRun(t, c, centre, restart, now, warm)...)
	}
	if err := st.Write(ctx, ls...); err != nil {
		t.Fatal(err)
	}

	// The gateways' own day points: the deletion cost the bad day its point.
	gw, err := st.Query(ctx, `from(bucket: "`+st.Bucket()+`") |> range(start: 2025-01-01T00:00:00Z)
  |> filter(fn: (r) => r._measurement == "safety_score" and r.period == "day" and r._field == "total")`, "centre")
	if err != nil {
		t.Fatal(err)
	}
	gwDays := map[string]map[time.Time]float64{}
	for _, r := range gw {
		if gwDays[r.Centre()] == nil {
			gwDays[r.Centre()] = map[time.Time]float64{}
		}
		gwDays[r.Centre()][r.Time.In(almaty)], _ = r.Float()
	}
	if _, ok := gwDays["kept"][bad]; !ok || len(gwDays["kept"]) != 3 {
		t.Fatalf("kept: gateway day points %v, want day0-2, the bad day and day0", gwDays["kept"])
	}
	if _, ok := gwDays["deleted"][bad]; ok || len(gwDays["deleted"]) != 2 {
		t.Fatalf("deleted: gateway day points %v, want the bad day missing (the state file was deleted)", gwDays["deleted"])
	}
	gwMean := func(c string) float64 {
		sum := 0.0
		for _, v := range gwDays[c] {
			sum += v
		}
		return sum / float64(len(gwDays[c]))
	}
	if gwMean("deleted") <= gwMean("kept") {
		t.Fatalf("gateway means: deleted %.2f, kept %.2f; the fixture should make the deletion pay off on the gateway's points", gwMean("deleted"), gwMean("kept"))
	}

	// The central rating: every registered day of both, the same.
	j, err := New(Options{DB: st, Centres: entries{entry("kept"), entry("deleted")}, KeepDays: 3, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	rated, err := st.RatingDays(ctx, good.Add(-time.Hour), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"kept", "deleted"} {
		if len(rated[c]) != 3 {
			t.Fatalf("%s: %d rated days, want 3", c, len(rated[c]))
		}
		for i, d := range rated[c] {
			if k := rated["kept"][i]; !d.At.Equal(k.At) || d.Total != k.Total {
				t.Errorf("%s %s: central %v, kept's %s %v: the deletion changed the rating", c, d.At.In(almaty).Format(time.DateOnly), d.Total, k.At.In(almaty).Format(time.DateOnly), k.Total)
			}
			if !d.HasData {
				t.Errorf("%s %s: no data", c, d.At.In(almaty).Format(time.DateOnly))
			}
		}
		if d := rated[c][1]; !d.At.Equal(bad) || d.Total > rated[c][0].Total-30 {
			t.Errorf("%s: the bad day rated %v at %s, want well below the good day's %v", c, d.Total, d.At, rated[c][0].Total)
		}
	}
	month, err := st.MonthRatings(ctx, now.AddDate(0, 0, -30), nil)
	if err != nil {
		t.Fatal(err)
	}
	k, d := month["kept"], month["deleted"]
	t.Logf("gateway points: kept %v (mean %.2f), deleted %v (mean %.2f); central 30-day mean: kept %.2f, deleted %.2f (%d/%d days with data)",
		gwDays["kept"], gwMean("kept"), gwDays["deleted"], gwMean("deleted"), k.Mean, d.Mean, d.WithData, d.Days)
	if k.Days != 3 || d.Days != 3 || k.Mean != d.Mean || d.WithData != 3 {
		t.Errorf("30-day rating: kept %+v, deleted %+v; want the same mean over 3 days with data", k, d)
	}
	if d.Mean >= gwMean("deleted") {
		t.Errorf("deleted: central mean %.2f not below its gateway points' mean %.2f: the bad day should count", d.Mean, gwMean("deleted"))
	}
}
