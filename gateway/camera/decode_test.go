package camera

import (
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

func frigateCams() []config.Camera {
	return []config.Camera{
		{ID: "cam-salon", Zones: []string{"room-1"}, Source: "frigate", Name: "salon"},
		{ID: "cam-dining", Zones: []string{"dining"}, Source: "frigate", Name: "dining"},
		{ID: "cam-corridor", Zones: []string{"corridor"}, Source: "frigate", Name: "corridor"},
	}
}

func frigateZones() []config.Zone {
	return []config.Zone{{ID: "room-1", Kind: "living"}, {ID: "dining", Kind: "dining"}, {ID: "corridor", Kind: "corridor"}}
}

// TestFrigateVersions: stats, availability and status payloads of Frigate 0.14,
// 0.17 and 0.18 decode to the right health.
func TestFrigateVersions(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, almaty)
	type m struct{ topic, payload string }
	tests := []struct {
		name string
		msgs []m
		want string
	}{
		{"0.14 stats", []m{{"frigate/available", "online"}, {"frigate/stats", "@frigate-0.14-stats.json"}},
			// corridor 0.6 fps is under the 1 fps floor; dining has fps 0 and no capture pid.
			"cam-salon=healthy//covers cam-dining=offline/no_frames/- cam-corridor=degraded/low_fps/covers"},
		{"0.14 recordings off", []m{{"frigate/stats", "@frigate-0.14-stats.json"}, {"frigate/salon/recordings/state", "OFF"}},
			"cam-salon=degraded/recording_off/- cam-dining=offline/no_frames/- cam-corridor=degraded/low_fps/covers"},
		{"0.14 disabled camera", []m{{"frigate/stats", "@frigate-0.14-stats.json"}, {"frigate/salon/enabled/state", "OFF"}},
			"cam-salon=offline/disabled/- cam-dining=offline/no_frames/- cam-corridor=degraded/low_fps/covers"},
		{"0.17 stats, pid null, storage nearly full", []m{{"frigate/available", "online"}, {"frigate/stats", "@frigate-0.17-stats.json"}},
			"cam-salon=degraded/storage_low/covers cam-dining=offline/no_frames/- cam-corridor=degraded/storage_low/covers"},
		{"0.18 connection quality", []m{{"frigate/available", "online"}, {"frigate/stats", "@frigate-0.18-stats.json"}},
			"cam-salon=healthy//covers cam-dining=offline/no_frames/- cam-corridor=degraded/connection_poor/covers"},
		{"0.18 record failing", []m{{"frigate/stats", "@frigate-0.18-stats.json"}, {"frigate/salon/status/record", "offline"}, {"frigate/salon/status/detect", "online"}},
			"cam-salon=degraded/recording_failing/- cam-dining=offline/no_frames/- cam-corridor=degraded/connection_poor/covers"},
		{"0.18 record disabled", []m{{"frigate/stats", "@frigate-0.18-stats.json"}, {"frigate/salon/status/record", "disabled"}},
			"cam-salon=degraded/recording_off/- cam-dining=offline/no_frames/- cam-corridor=degraded/connection_poor/covers"},
		{"0.18 detect offline", []m{{"frigate/stats", "@frigate-0.18-stats.json"}, {"frigate/salon/status/detect", "offline"}},
			"cam-salon=offline/detect_offline/- cam-dining=offline/no_frames/- cam-corridor=degraded/connection_poor/covers"},
		{"0.18 record back online", []m{{"frigate/stats", "@frigate-0.18-stats.json"}, {"frigate/salon/status/record", "offline"}, {"frigate/salon/status/record", "online"}},
			"cam-salon=healthy//covers cam-dining=offline/no_frames/- cam-corridor=degraded/connection_poor/covers"},
		{"frigate offline (LWT)", []m{{"frigate/stats", "@frigate-0.18-stats.json"}, {"frigate/available", "offline"}},
			"cam-salon=unknown/nvr_offline/- cam-dining=unknown/nvr_offline/- cam-corridor=unknown/nvr_offline/-"},
		{"frigate stopped", []m{{"frigate/stats", "@frigate-0.17-stats.json"}, {"frigate/available", "stopped"}},
			"cam-salon=unknown/nvr_offline/- cam-dining=unknown/nvr_offline/- cam-corridor=unknown/nvr_offline/-"},
		{"available but no stats yet", []m{{"frigate/available", "online"}},
			"cam-salon=unknown/no_report/- cam-dining=unknown/no_report/- cam-corridor=unknown/no_report/-"},
		{"camera missing from stats", []m{{"frigate/stats", `{"cameras":{"salon":{"camera_fps":5,"pid":1,"capture_pid":2}}}`}},
			"cam-salon=healthy//covers cam-dining=unknown/not_in_stats/- cam-corridor=unknown/not_in_stats/-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0
			log := newCondLog(func() time.Time { return now })
			c, err := New(testConfig(t, frigateZones(), frigateCams()), log, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, mm := range tt.msgs {
				payload := mm.payload
				if name, ok := strings.CutPrefix(payload, "@"); ok {
					payload = string(fixture(t, name))
				}
				if _, err := c.Message(msg(mm.topic, payload, now), true); err != nil {
					t.Fatalf("%s: %v", mm.topic, err)
				}
				now = now.Add(time.Second)
			}
			c.Tick(now, true)
			if got := states(c.Snapshot()); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestFrigateSilent: with no stats for 3 intervals, every camera of that Frigate is
// unknown, exactly at the deadline; the next stats bring them back.
func TestFrigateSilent(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, almaty)
	c, err := New(testConfig(t, frigateZones(), frigateCams()), newCondLog(time.Now), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Message(msg("frigate/stats", string(fixture(t, "frigate-0.18-stats.json")), t0), true); err != nil {
		t.Fatal(err)
	}
	c.Tick(t0.Add(179*time.Second), true)
	if s := c.Snapshot(); s.Cameras[0].State != Healthy {
		t.Fatalf("at 2:59 after the last stats: %s", states(s))
	}
	evs := c.Tick(t0.Add(185*time.Second), true)
	s := c.Snapshot()
	if want := "cam-salon=unknown/nvr_silent/- cam-dining=unknown/nvr_silent/- cam-corridor=unknown/nvr_silent/-"; states(s) != want {
		t.Fatalf("after 3 intervals: %s", states(s))
	}
	if !s.Cameras[0].Since.Equal(t0.Add(180 * time.Second)) {
		t.Errorf("went unknown at %s, want exactly 3 minutes after the last stats", hm(s.Cameras[0].Since))
	}
	var found bool
	for _, p := range points(evs) {
		if strings.HasPrefix(p, "camera,camera=cam-salon,state=unknown ") {
			found = true
			if !strings.HasSuffix(p, " 09:03:00") || !strings.Contains(p, `reason="nvr_silent"`) || !strings.Contains(p, "online=false") {
				t.Errorf("point %s", p)
			}
		}
	}
	if !found {
		t.Errorf("no camera point for the change: %v", points(evs))
	}
}

// TestBadPayloads: every camera input rejects bad payloads with a reason, and
// changes nothing.
func TestBadPayloads(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, almaty)
	cams := append(frigateCams(),
		config.Camera{ID: "cam-v", Zones: []string{"room-1"}, Source: "generic", Topic: "viseron/binary_sensor/cam_v_connected/state", Field: "state", Online: []string{"on"}},
		config.Camera{ID: "cam-p", Zones: []string{"room-1"}, Source: "saqshy"})
	c, err := New(testConfig(t, frigateZones(), cams), newCondLog(time.Now), nil)
	if err != nil {
		t.Fatal(err)
	}
	good := string(fixture(t, "frigate-0.18-stats.json"))
	if _, err := c.Message(msg("frigate/stats", good, t0), true); err != nil {
		t.Fatal(err)
	}
	before := states(c.Snapshot())
	tests := []struct{ topic, payload, reason string }{
		{"frigate/stats", "", "empty"},
		{"frigate/stats", "  \n", "empty"},
		{"frigate/stats", strings.Repeat(" ", telemetry.MaxPayload+1), "too_large"},
		{"frigate/stats", "{", "bad_json"},
		{"frigate/stats", `[1,2]`, "bad_json"},
		{"frigate/stats", `{"service":{}}`, "bad_json"},
		{"frigate/stats", `{"cameras":{"salon":null}}`, "bad_value"},
		{"frigate/stats", `{"cameras":{"salon":{"pid":1}}}`, "bad_value"},
		{"frigate/stats", `{"cameras":{"salon":{"camera_fps":-1}}}`, "bad_value"},
		{"frigate/stats", `{"cameras":{"salon":{"camera_fps":"5"}}}`, "bad_json"},
		{"frigate/stats", `{"cameras":{"salon":{"camera_fps":5,"connection_quality":"great"}}}`, "bad_value"},
		{"frigate/available", "maybe", "bad_value"},
		{"frigate/salon/recordings/state", "1", "bad_value"},
		{"frigate/salon/status/record", "", "empty"},
		{"viseron/binary_sensor/cam_v_connected/state", `{"state":null}`, "bad_value"},
		{"viseron/binary_sensor/cam_v_connected/state", `{"attributes":{}}`, "bad_value"},
		{"viseron/binary_sensor/cam_v_connected/state", `on`, "bad_json"},
		{"viseron/binary_sensor/cam_v_connected/state", `{"state":{"a":1}}`, "bad_value"},
		{"saqshy/c1/camera/cam-p/health", `{"state":"healthy"}`, "bad_value"},
		{"saqshy/c1/camera/cam-p/health", `{"time":"2026-03-10T09:00:00Z","state":"unknown"}`, "bad_value"},
		{"saqshy/c1/camera/cam-p/health", `{"time":"1970-01-01T00:00:00Z","state":"healthy"}`, "bad_time"},
		{"saqshy/c1/camera/cam-p/health", `{"time":"yesterday","state":"healthy"}`, "bad_json"},
		{"saqshy/c1/camera/cam-p/health", `{"time":"2026-03-10T09:00:00Z","state":"healthy","latency_ms":-3}`, "bad_value"},
	}
	for _, tt := range tests {
		evs, err := c.Message(msg(tt.topic, tt.payload, t0.Add(time.Second)), true)
		if got := telemetry.Reason(err); got != tt.reason {
			t.Errorf("%s %.40q: reason %q (%v), want %q", tt.topic, tt.payload, got, err, tt.reason)
		}
		if len(evs) != 0 {
			t.Errorf("%s %.40q: points with an error: %v", tt.topic, tt.payload, points(evs))
		}
	}
	if after := states(c.Snapshot()); after != before {
		t.Errorf("bad payloads changed the state:\n%s\n%s", before, after)
	}
	// A topic under the prefix for a camera not configured here, or one the
	// gateway does not read, is taken without effect.
	for _, topic := range []string{"frigate/garage/recordings/state", "frigate/salon/motion", "frigate/events"} {
		if _, err := c.Message(msg(topic, "ON", t0.Add(2*time.Second)), true); err != nil {
			t.Errorf("%s: %v", topic, err)
		}
	}
}

// TestGeneric: a Viseron connected sensor (JSON field) and a Hikvision video-loss
// bridge (plain payload), with and without staleness.
func TestGeneric(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, almaty)
	zones := []config.Zone{{ID: "room-1", Kind: "living"}, {ID: "room-2", Kind: "living"}}
	cams := []config.Camera{
		{ID: "cam-v", Zones: []string{"room-1"}, Source: "generic", Topic: "viseron/binary_sensor/cam_v_connected/state", Field: "state", Online: []string{"on"}},
		{ID: "cam-h", Zones: []string{"room-2"}, Source: "generic", Topic: "cameras/7/VideoLoss", Online: []string{"Stop"}, StaleAfter: config.Duration(10 * time.Minute)},
	}
	c, err := New(testConfig(t, zones, cams), newCondLog(time.Now), nil)
	if err != nil {
		t.Fatal(err)
	}
	step := func(at time.Duration, topic, payload, want string) {
		t.Helper()
		if topic != "" {
			if _, err := c.Message(msg(topic, payload, t0.Add(at)), true); err != nil {
				t.Fatal(err)
			}
		}
		c.Tick(t0.Add(at), true)
		if got := states(c.Snapshot()); got != want {
			t.Errorf("at +%s: %s, want %s", at, got, want)
		}
	}
	step(0, "", "", "cam-v=unknown/no_report/- cam-h=unknown/no_report/-")
	step(time.Second, "viseron/binary_sensor/cam_v_connected/state", `{"state":"on","attributes":{}}`, "cam-v=healthy//covers cam-h=unknown/no_report/-")
	step(2*time.Second, "cameras/7/VideoLoss", "Stop", "cam-v=healthy//covers cam-h=healthy//covers")
	step(3*time.Second, "cameras/7/VideoLoss", "Start", "cam-v=healthy//covers cam-h=offline/reported start/-")
	step(4*time.Second, "viseron/binary_sensor/cam_v_connected/state", `{"state":"off","attributes":{}}`, "cam-v=offline/reported off/- cam-h=offline/reported start/-")
	// Hours later: the Viseron state is retained and event-driven, so it stays; the
	// bridge has stale_after 10m.
	step(3*time.Hour, "", "", "cam-v=offline/reported off/- cam-h=unknown/stale/-")
}

// TestSaqshyReport: the prober's report round-trips; a retained report older than
// stale_after is unknown at once.
func TestSaqshyReport(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, almaty)
	r := Report{Time: t0.UTC(), State: "offline", Reason: "rtsp: 401 Unauthorized", Probe: "rtsp", LatencyMS: 12.5}
	got, err := ParseReport(r.Marshal())
	if err != nil || got != r {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	cams := []config.Camera{{ID: "cam-p", Zones: []string{"room-1"}, Source: "saqshy"}}
	c, err := New(testConfig(t, []config.Zone{{ID: "room-1", Kind: "living"}}, cams), newCondLog(time.Now), nil)
	if err != nil {
		t.Fatal(err)
	}
	old := Report{Time: t0.Add(-time.Hour), State: "healthy"}
	m := msg("saqshy/c1/camera/cam-p/health", string(old.Marshal()), t0)
	m.Retained = true
	if _, err := c.Message(m, true); err != nil {
		t.Fatal(err)
	}
	if s := states(c.Snapshot()); s != "cam-p=unknown/stale/-" {
		t.Errorf("an hour-old retained report: %s", s)
	}
	if _, err := c.Message(msg("saqshy/c1/camera/cam-p/health", string(r.Marshal()), t0.Add(time.Second)), true); err != nil {
		t.Fatal(err)
	}
	if s := states(c.Snapshot()); s != "cam-p=offline/rtsp: 401 Unauthorized/-" {
		t.Errorf("fresh offline report: %s", s)
	}
	fresh := Report{Time: t0.Add(2 * time.Second), State: "healthy", Probe: "rtsp"}
	if _, err := c.Message(msg("saqshy/c1/camera/cam-p/health", string(fresh.Marshal()), t0.Add(2*time.Second)), true); err != nil {
		t.Fatal(err)
	}
	c.Tick(t0.Add(91*time.Second), true) // default stale_after: 3 × 30s
	if s := states(c.Snapshot()); s != "cam-p=healthy//covers" {
		t.Errorf("at 89 s: %s", s)
	}
	c.Tick(t0.Add(93*time.Second), true)
	if s := states(c.Snapshot()); s != "cam-p=unknown/stale/-" {
		t.Errorf("at 91 s: %s", s)
	}
}
