package camera

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// TestSimulatedDay runs one local day in 10-second ticks with an injected clock:
// a generic camera going down and up, Frigate going silent for an hour, a recording
// failure, a prober that stops for ten minutes, and a required zone with no camera.
// It asserts the exact per-zone and per-kind ratios of the day, the final
// `period=day` points after midnight, and every condition raised and cleared.
func TestSimulatedDay(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, almaty)
	at := func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	zones := []config.Zone{
		{ID: "room-1", Kind: "living"}, {ID: "room-2", Kind: "living"}, {ID: "dining", Kind: "dining"},
		{ID: "corridor", Kind: "corridor", Cameras: 2}, {ID: "entrance", Kind: "entrance"},
		{ID: "office", Kind: "office"}, // optional: not counted
	}
	cams := []config.Camera{
		{ID: "cam-a", Zones: []string{"room-1", "corridor"}, Source: "frigate", Name: "salon"},
		{ID: "cam-b", Zones: []string{"room-2"}, Source: "generic", Topic: "viseron/binary_sensor/cam_b_connected/state", Field: "state", Online: []string{"on"}},
		{ID: "cam-c", Zones: []string{"dining"}, Source: "saqshy"},
		{ID: "cam-d", Zones: []string{"corridor", "office"}, Source: "frigate", Name: "hall"},
	}
	cfg := testConfig(t, zones, cams)
	now := day
	conds := newCondLog(func() time.Time { return now })
	c, err := New(cfg, conds, nil)
	if err != nil {
		t.Fatal(err)
	}
	stats := `{"cameras":{"salon":{"camera_fps":5.0,"pid":10,"capture_pid":11},"hall":{"camera_fps":0.5,"pid":12,"capture_pid":13}},"service":{"version":"0.17.2"}}`
	var evs []telemetry.Event
	send := func(topic, payload string) {
		t.Helper()
		pts, err := c.Message(msg(topic, payload, now), true)
		if err != nil {
			t.Fatalf("%s %s: %v", hm(now), topic, err)
		}
		evs = append(evs, pts...)
	}
	end := at(24, 0, 10)
	for ; !now.After(end); now = now.Add(10 * time.Second) {
		switch now {
		case day:
			send("frigate/available", "online")
			send("viseron/binary_sensor/cam_b_connected/state", `{"state":"on"}`)
		case at(2, 0, 0):
			send("viseron/binary_sensor/cam_b_connected/state", `{"state":"off"}`)
		case at(2, 20, 0):
			send("viseron/binary_sensor/cam_b_connected/state", `{"state":"on"}`)
		case at(14, 0, 0):
			send("frigate/salon/status/record", "offline")
		case at(14, 20, 0):
			send("frigate/salon/status/record", "online")
		}
		// Frigate's stats every minute, except 10:00:10 to 10:59:59 (silent).
		if now.Second() == 0 && (now.Before(at(10, 0, 1)) || !now.Before(at(11, 0, 0))) {
			send("frigate/stats", stats)
		}
		// The prober's report every 30 s, except 20:00:10 to 20:09:59.
		if now.Second()%30 == 0 && (now.Before(at(20, 0, 1)) || !now.Before(at(20, 10, 0))) {
			send("saqshy/c1/camera/cam-c/health", string(Report{Time: now, State: "healthy", Probe: "rtsp"}.Marshal()))
		}
		evs = append(evs, c.Tick(now, true)...)
		if now.Equal(at(23, 59, 50)) {
			checkToday(t, c.Snapshot())
		}
	}

	// The final day points, stamped at the day's midnight.
	var final []string
	for _, p := range points(evs) {
		if strings.Contains(p, "period=day") && strings.HasSuffix(p, " 00:00:00") {
			final = append(final, p)
		}
	}
	// Each kind's day point is written every minute and once more after midnight:
	// the last of each is the day's total.
	last := map[string]string{}
	for _, p := range final {
		last[strings.Fields(p)[0]] = p
	}
	want := map[string]string{
		"coverage,period=day,zone_kind=all":      "coverage,period=day,zone_kind=all required_s=432000,covered_s=334650,ratio=0.7746527777777777 00:00:00",
		"coverage,period=day,zone_kind=corridor": "coverage,period=day,zone_kind=corridor required_s=86400,covered_s=81780,ratio=0.9465277777777777 00:00:00",
		"coverage,period=day,zone_kind=dining":   "coverage,period=day,zone_kind=dining required_s=86400,covered_s=85890,ratio=0.9940972222222222 00:00:00",
		"coverage,period=day,zone_kind=entrance": "coverage,period=day,zone_kind=entrance required_s=86400,covered_s=0,ratio=0 00:00:00",
		"coverage,period=day,zone_kind=living":   "coverage,period=day,zone_kind=living required_s=172800,covered_s=166980,ratio=0.9663194444444444 00:00:00",
	}
	for k, w := range want {
		if last[k] != w {
			t.Errorf("final day point:\n got %s\nwant %s", last[k], w)
		}
	}
	if len(last) != len(want) {
		t.Errorf("day points for %d kinds, want %d: %v", len(last), len(want), last)
	}
	s := c.Snapshot()
	if !s.YesterdayStart.Equal(day) || !s.Kinds[len(s.Kinds)-1].HasYesterday || s.Kinds[len(s.Kinds)-1].Yesterday.Covered != 334650*time.Second {
		t.Errorf("yesterday in the snapshot: %v %+v", s.YesterdayStart, s.Kinds[len(s.Kinds)-1])
	}
	// The safety score's view of the day: 334650 s covered of 5 zones × 24 h.
	if r, known := c.CoverageRatio(day, day.AddDate(0, 0, 1)); !known || r != 334650.0/432000 {
		t.Errorf("CoverageRatio(day) = %v, %t; want %v", r, known, 334650.0/432000)
	}
	if _, known := c.CoverageRatio(day.AddDate(0, 0, -3), day.AddDate(0, 0, -2)); known {
		t.Error("coverage of a day the check never saw is known")
	}

	// Conditions, in order.
	wantConds := []string{
		"00:05:00 raise coverage_gap entrance warning since 00:00:00",
		"00:30:00 raise coverage_gap entrance critical since 00:00:00",
		"02:05:00 raise coverage_gap room-2 warning since 02:00:00",
		"02:05:00 raise camera_offline cam-b warning since 02:00:00",
		"02:20:00 clear camera_offline cam-b",
		"02:20:00 clear coverage_gap room-2",
		"10:08:00 raise coverage_gap room-1 warning since 10:03:00",
		"10:08:00 raise coverage_gap corridor warning since 10:03:00",
		"10:08:00 raise camera_offline cam-a warning since 10:03:00",
		"10:08:00 raise camera_offline cam-d warning since 10:03:00",
		"10:33:00 raise coverage_gap room-1 critical since 10:03:00",
		"10:33:00 raise coverage_gap corridor critical since 10:03:00",
		"10:33:00 raise camera_offline cam-a critical since 10:03:00",
		"10:33:00 raise camera_offline cam-d critical since 10:03:00",
		"11:00:00 clear camera_offline cam-a",
		"11:00:00 clear camera_offline cam-d",
		"11:00:00 clear coverage_gap room-1",
		"11:00:00 clear coverage_gap corridor",
		"14:05:00 raise coverage_gap room-1 warning since 14:00:00",
		"14:05:00 raise coverage_gap corridor warning since 14:00:00",
		"14:05:00 raise camera_offline cam-a warning since 14:00:00",
		"14:20:00 clear camera_offline cam-a",
		"14:20:00 clear coverage_gap room-1",
		"14:20:00 clear coverage_gap corridor",
		"20:06:30 raise coverage_gap dining warning since 20:01:30",
		"20:06:30 raise camera_offline cam-c warning since 20:01:30",
		"20:10:00 clear camera_offline cam-c",
		"20:10:00 clear coverage_gap dining",
	}
	if got := conds.take(); !slices.Equal(got, wantConds) {
		t.Errorf("conditions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantConds, "\n"))
	}

	// Every camera has a point at least once a minute, and the low-fps camera is
	// degraded but covering.
	perCam := map[string]int{}
	for _, p := range points(evs) {
		if strings.HasPrefix(p, "camera,") {
			perCam[strings.Split(strings.Split(p, ",")[1], "=")[1]]++
		}
		if strings.HasPrefix(p, "camera,camera=cam-d,state=healthy") {
			t.Errorf("cam-d under its fps floor is healthy: %s", p)
		}
	}
	for _, id := range []string{"cam-a", "cam-b", "cam-c", "cam-d"} {
		if perCam[id] < 24*60 {
			t.Errorf("%s: %d camera points in a day, want at least one a minute", id, perCam[id])
		}
	}
}

// checkToday asserts the per-zone ratios of the day, seconds before midnight.
func checkToday(t *testing.T, s Snapshot) {
	t.Helper()
	const full = 86400 - 10 // the snapshot is taken at 23:59:50
	want := map[string]int{"room-1": full - 4620, "room-2": full - 1200, "dining": full - 510, "corridor": full - 4620, "entrance": 0}
	for _, z := range s.Zones {
		if z.Today.Required != full*time.Second || z.Today.Covered != time.Duration(want[z.ID])*time.Second {
			t.Errorf("zone %s today: %s of %s, want %ds of %ds", z.ID, z.Today.Covered, z.Today.Required, want[z.ID], full)
		}
	}
	if len(s.Zones) != 5 {
		t.Errorf("%d required zones, want 5 (office is optional)", len(s.Zones))
	}
	var got []string
	for _, k := range s.Kinds {
		got = append(got, fmt.Sprintf("%s %d/%d", k.Kind, k.CoveredNow, k.Zones))
	}
	if g := strings.Join(got, ", "); g != "corridor 1/1, dining 1/1, entrance 0/1, living 2/2, all 4/5" {
		t.Errorf("covered now: %s", g)
	}
	live := s.Kinds[len(s.Kinds)-1].Live
	if live.Required != 5*full*time.Second {
		t.Errorf("live required %s", live.Required)
	}
}
