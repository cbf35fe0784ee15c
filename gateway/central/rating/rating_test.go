package rating

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

var almaty = func() *time.Location {
	l, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		panic(err)
	}
	return l
}()

// day0 is the local day the tests rate.
var day0 = time.Date(2025, 3, 10, 0, 0, 0, 0, almaty)

type entries []*registry.Entry

func (e entries) Entries() []*registry.Entry { return e }

func entry(id string) *registry.Entry {
	return &registry.Entry{
		Version:    1,
		Centre:     registry.Centre{ID: id, Name: id, Region: "r1", Timezone: "Asia/Almaty"},
		Zones:      []registry.Zone{{ID: "mf", Kind: "med-fridge", Name: "fridge", Coverage: "optional"}},
		Sensors:    []registry.Sensor{{ID: "fridge", Zone: "mf", MaxInterval: registry.Duration(5 * time.Minute)}},
		Recipients: []registry.Recipient{{Name: "duty", Email: "duty@example.org"}},
		Score: registry.Score{WeightsVersion: "2025.1", Caps: "on", Weights: registry.Weights{
			Temperature: 0.35, Availability: 0.15, Coverage: 0.20, Rounds: 0.20, Response: 0.10}},
	}
}

type lines []string

func (l *lines) add(format string, a ...any) { *l = append(*l, fmt.Sprintf(format, a...)) }

// gamedFridge is the fridge at 11 °C all day with one 5 °C reading per slot, and
// the gateway's heartbeats, from day0 00:00 to 00:10 the next day.
func gamedFridge(centre string) (lines, []telemetry.Event, []time.Time) {
	var ls lines
	var evs []telemetry.Event
	var alive []time.Time
	for t := day0; t.Before(day0.AddDate(0, 0, 1).Add(10 * time.Minute)); t = t.Add(time.Minute) {
		ls.add("gateway,centre=%s uptime_s=%di %d", centre, t.Unix(), t.UnixNano())
		alive = append(alive, t)
		if t.Minute()%5 == 0 {
			for _, r := range []struct {
				at time.Time
				v  float64
			}{{t, 11}, {t.Add(299 * time.Second), 5}} {
				ls.add("climate,centre=%s,sensor=fridge,zone=mf,zone_kind=med-fridge temperature_c=%g %d", centre, r.v, r.at.UnixNano())
				evs = append(evs, telemetry.Event{Time: r.at, Sensor: "fridge", Values: []telemetry.Value{{Metric: telemetry.Temperature, V: r.v}}})
			}
		}
	}
	return ls, evs, alive
}

func startStore(t *testing.T) *store.Store {
	t.Helper()
	in := testenv.StartInflux(t, "saqshy")
	st := store.NewStore(in.URL(), "", "", in.Bucket())
	t.Cleanup(st.Close)
	return st
}

// rateDay0 writes ls and runs a job rating day0 of the centres (entry) at 02:00
// the next day: one day each.
func rateDay0(t *testing.T, st *store.Store, ls lines, centres ...string) (*Job, time.Time, []Day) {
	t.Helper()
	if err := st.Write(t.Context(), ls...); err != nil {
		t.Fatal(err)
	}
	var es entries
	for _, c := range centres {
		es = append(es, entry(c))
	}
	now := day0.AddDate(0, 0, 1).Add(2 * time.Hour)
	j, err := New(Options{DB: st, Centres: es, KeepDays: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	days, err := j.Cycle(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != len(centres) {
		t.Fatalf("%d days rated, want %d (one per centre): %+v", len(days), len(centres), days)
	}
	return j, now, days
}

func ratingRows(t *testing.T, st *store.Store) map[string]map[string]any {
	t.Helper()
	rows, err := st.Query(t.Context(), `from(bucket: "`+st.Bucket()+`") |> range(start: 2025-01-01T00:00:00Z)
  |> filter(fn: (r) => r._measurement == "rating")`, "centre", "period")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, r := range rows {
		if r.Tags["period"] != "day" {
			t.Errorf("period %q", r.Tags["period"])
		}
		if !r.Time.Equal(day0) {
			t.Errorf("%s: point at %s, want the local day's start %s", r.Centre(), r.Time, day0)
		}
		k := r.Centre()
		if out[k] == nil {
			out[k] = map[string]any{}
		}
		if _, dup := out[k][r.Field]; dup {
			t.Errorf("%s: field %s twice (the day must be overwritten, not duplicated)", k, r.Field)
		}
		out[k][r.Field] = r.Value
	}
	return out
}

// TestCycle: the job rates every registered centre's closed day from the raw
// points in a real InfluxDB with score.ComputeDay, flags a gateway score that
// differs, gives a centre without data 0 with the silent-gateway cap, and
// recomputes the day when late data arrives.
func TestCycle(t *testing.T) {
	st := startStore(t)
	ctx := t.Context()

	ls, evs, alive := gamedFridge("gamed")
	// The gamed centre's gateway (old rule) claimed a perfect temperature.
	ls.add(`safety_score,centre=gamed,period=day total=99.5,temperature=1,availability=1,response=1,weights_version="2025.1",caps="",capped=false %d`, day0.UnixNano())
	j, now, _ := rateDay0(t, st, ls, "gamed", "silent")
	got := ratingRows(t, st)

	// The same points through the score's day entry point.
	set, err := Settings(entry("gamed"))
	if err != nil {
		t.Fatal(err)
	}
	// The plausibility rules hold the gamed trace implausible too: 11 °C with a
	// lone 5 °C reading is no compressor's cycle (it never stays down). Without
	// them the time-weighted rule alone gives 0: each 11 °C reading holds its 5
	// minutes, the lone 5 °C reading inside them.
	held := judge(entry("gamed"), evs, day0, day0.AddDate(0, 0, 1))
	want, err := score.ComputeDay(set, day0, score.DayData{Readings: evs, Alive: alive, Plausibility: held, Others: score.Others{
		Response: score.Part{Applicable: true, Known: true, Ratio: 1}}}, now)
	if err != nil {
		t.Fatal(err)
	}
	unjudged, err := score.ComputeDay(set, day0, score.DayData{Readings: evs, Alive: alive}, now)
	if err != nil {
		t.Fatal(err)
	}
	g := got["gamed"]
	if v, _ := g["total"].(float64); math.Abs(v-want.Total) > 1e-9 {
		t.Errorf("gamed: total %v, want %v", g["total"], want.Total)
	}
	if v := unjudged.Parts[score.CompTemperature].Ratio; v != 0 {
		t.Errorf("gamed, without the plausibility rules: temperature %v, want 0", v)
	}
	if v, _ := g["temperature"].(float64); v != 0 || !strings.Contains(fmt.Sprint(g["implausible"]), "no compressor cycles") {
		t.Errorf("gamed: temperature %v, implausible %q; want 0, held implausible (no compressor cycles)", g["temperature"], g["implausible"])
	}
	if g["has_data"] != true || g["gateway_total"] != 99.5 || g["differs"] != true || g["differs_in"] != "temperature" {
		t.Errorf("gamed: has_data %v gateway_total %v differs %v differs_in %v; want true 99.5 true temperature",
			g["has_data"], g["gateway_total"], g["differs"], g["differs_in"])
	}
	if _, ok := g["coverage"]; ok {
		t.Error("coverage written for a centre whose registry requires no camera")
	}

	s := got["silent"]
	if s["total"] != 0.0 || s["has_data"] != false || !strings.Contains(fmt.Sprint(s["caps"]), score.CapGatewaySilent) {
		t.Errorf("silent: total %v has_data %v caps %v; want 0, false, %s", s["total"], s["has_data"], s["caps"], score.CapGatewaySilent)
	}
	if _, ok := s["gateway_total"]; ok {
		t.Error("silent: gateway_total without a gateway score")
	}

	// Late data: the silent centre's points arrive; the next cycle recomputes its day
	// in place.
	late, _, _ := gamedFridge("silent")
	if err := st.Write(ctx, late...); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	got = ratingRows(t, st)
	if s := got["silent"]; s["has_data"] != true || s["total"] != g["total"] {
		t.Errorf("after late data: silent has_data %v total %v, want true and %v", s["has_data"], s["total"], g["total"])
	}
}

// TestCycleWaitsForClose: a day is not rated before CloseAfter past its end.
func TestCycleWaitsForClose(t *testing.T) {
	db := &nullDB{}
	now := day0.AddDate(0, 0, 1).Add(59 * time.Minute)
	j, err := New(Options{DB: db, Centres: entries{entry("a")}, KeepDays: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	days, err := j.Cycle(t.Context())
	if err != nil || len(days) != 0 || db.queries.Load() != 0 {
		t.Errorf("at 00:59: %d days, %d queries, err %v; want none", len(days), db.queries.Load(), err)
	}
	now = now.Add(time.Minute)
	if days, err = j.Cycle(t.Context()); err != nil || len(days) != 1 {
		t.Errorf("at 01:00: %d days, err %v; want 1", len(days), err)
	}
}

// TestBadEntries: an entry with an unknown time zone is named in the error; the
// others are still rated. New refuses missing parts.
func TestBadEntries(t *testing.T) {
	bad := entry("bad")
	bad.Centre.Timezone = "Mars/Olympus"
	now := day0.AddDate(0, 0, 1).Add(2 * time.Hour)
	j, _ := New(Options{DB: &nullDB{}, Centres: entries{bad, entry("ok")}, KeepDays: 1, Now: func() time.Time { return now }})
	days, err := j.Cycle(t.Context())
	if err == nil || !strings.Contains(err.Error(), "centre bad") || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("err = %v, want one naming centre bad and its time zone", err)
	}
	if len(days) != 1 || days[0].Centre != "ok" {
		t.Errorf("days %+v, want centre ok rated", days)
	}
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "registry") {
		t.Errorf("New without db and registry: %v", err)
	}
}

// nullDB is an empty database (for tests of the job's scheduling, not of queries).
type nullDB struct{ queries atomic.Int64 }

func (d *nullDB) Query(context.Context, string, ...string) ([]store.Row, error) {
	d.queries.Add(1)
	return nil, nil
}
func (d *nullDB) Write(context.Context, ...string) error { return nil }
func (d *nullDB) Bucket() string                         { return "saqshy/autogen" }
