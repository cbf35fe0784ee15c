package monitor

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/central/web"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

// anyHourTimes are the fake "now"s of TestOverviewAtAnyHour on a fixed day: around
// midnight and 01:00 UTC, the 36-hour edge of the last-night range, and, in every
// time zone the fleet and the config use, around local midnight (a new "yesterday")
// and around 06:00 local (the simulator stamps a round night then; from then until
// 18:00 local two nights lie in the last 36 hours).
func anyHourTimes(t *testing.T) []time.Time {
	t.Helper()
	day := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	var out []time.Time
	for _, hm := range [][2]int{{0, 53}, {1, 4}, {5, 59}, {6, 1}, {12, 59}, {13, 1}, {23, 59}} {
		out = append(out, day.Add(time.Duration(hm[0])*time.Hour+time.Duration(hm[1])*time.Minute))
	}
	zones := map[string]bool{"Asia/Almaty": true} // the config's report zone
	for _, c := range sim.Fleet(6, 7, day, 5) {
		zones[c.Timezone] = true
	}
	for _, c := range []string{"Asia/Almaty", "Asia/Aqtobe"} { // the config's centres
		zones[c] = true
	}
	for z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatal(err)
		}
		midnight := store.StartOfDay(day.Add(12*time.Hour), loc)
		out = append(out, midnight.Add(-time.Second), midnight, midnight.Add(6*time.Hour), midnight.Add(18*time.Hour))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	uniq := out[:0]
	for _, at := range out {
		if len(uniq) == 0 || !at.Equal(uniq[len(uniq)-1]) {
			uniq = append(uniq, at.UTC())
		}
	}
	return uniq
}

// TestOverviewAtAnyHour writes the fleet ending at fake "now"s around the clock and
// checks the overview against the points written, read raw, through the monitor's
// centre_latest writer and through the InfluxDB task's query, with the monitor and
// its queries' relative ranges on that clock. The last night once came out as a mix
// of two nights' fields from 06:00 to 18:00 local time (rounds 0 for a centre whose
// night was 38/40).
func TestOverviewAtAnyHour(t *testing.T) {
	in := testenv.StartInflux(t, "saqshy")
	ministry := &web.User{Name: "min", Role: web.RoleMinistry}
	for i, now := range anyHourTimes(t) {
		t.Run(now.Format("15:04:05Z"), func(t *testing.T) {
			ctx := context.Background()
			db := fmt.Sprintf("at%02d", i)
			if _, err := in.Query(ctx, "CREATE DATABASE "+db); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			cur := now
			set := func(at time.Time) { mu.Lock(); cur = at; mu.Unlock() }
			// Two days: the last 36 hours and yesterday's complete local day.
			e := newEnvAt(t, in, db+"/autogen", now, 2, func() time.Time { mu.Lock(); defer mu.Unlock(); return cur })
			e.tick = func() { set(now.Add(time.Millisecond)) }
			// The gateway writes a night's figures per zone kind too (tag zone_kind, same
			// night and time); the overview shows the overall point.
			var kinds []string
			for _, p := range e.points {
				if p.m == "round_night" {
					kinds = append(kinds, fmt.Sprintf("round_night,centre=%s,night=%s,zone_kind=living due=5i,on_time=1i,late=1i,missed=3i,unjudged=0i,compliance=0.2,unknown=true %d",
						p.tags["centre"], p.tags["night"], p.t.UnixNano()))
				}
			}
			if err := e.app.Store.Write(ctx, kinds...); err != nil {
				t.Fatal(err)
			}
			raw, err := store.BuildOverview(ctx, e.app.Store, e.cfg.Centres, e.app.Watcher.States(), e.cfg.Attention, e.cfg.reportLoc, now)
			if err != nil {
				t.Fatal(err)
			}
			e.checkOverview(t, raw)
			if _, err := e.app.Latest.Step(ctx); err != nil {
				t.Fatal(err)
			}
			e.tick() // the run stamped its points at now, which a range's stop excludes on InfluxDB 2.x
			rows, asOf, source, err := e.app.Server.OverviewRows(ctx, ministry)
			if err != nil {
				t.Fatal(err)
			}
			if source != web.SourceInflux || !asOf.Equal(now) {
				t.Fatalf("overview read %q as of %v, want the centre_latest run of %v", source, asOf, now)
			}
			e.checkOverview(t, rows)
			set(now) // the task runs at now too
			e.checkLatestTask(t)
			// The centre page's nights are the overall points too.
			nights, err := e.app.Store.Nights(ctx, "c00001", now.AddDate(0, 0, -3))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, p := range e.points {
				if p.m == "round_night" && p.tags["centre"] == "c00001" {
					want = append(want, p.tags["night"]+" "+p.fields["on_time"]+"/"+p.fields["due"]+" "+p.fields["compliance"])
				}
			}
			var got []string
			for _, n := range nights {
				got = append(got, fmt.Sprintf("%s %d/%d %v", n.Night, n.OnTime, n.Due, n.Compliance))
			}
			if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("c00001 nights %v, want %v", got, want)
			}
		})
	}
}
