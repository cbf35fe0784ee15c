package config

import (
	"testing"
	"time"
)

// TestZoneCoverage: kind defaults, kind and zone overrides, and private kinds that
// no override relaxes.
func TestZoneCoverage(t *testing.T) {
	c := Default()
	c.Coverage.Kinds = map[string]string{"outdoor": CoverageOptional, "office": CoverageRequired, "bathroom": CoverageRequired}
	tests := []struct {
		zone Zone
		rule string
		need int
	}{
		{Zone{Kind: "living"}, CoverageRequired, 1},
		{Zone{Kind: "medical", Cameras: 2}, CoverageRequired, 2},
		{Zone{Kind: "dining"}, CoverageRequired, 1},
		{Zone{Kind: "play"}, CoverageRequired, 1},
		{Zone{Kind: "corridor"}, CoverageRequired, 1},
		{Zone{Kind: "entrance"}, CoverageRequired, 1},
		{Zone{Kind: "kitchen"}, CoverageOptional, 0},
		{Zone{Kind: "outdoor"}, CoverageOptional, 0},                                // relaxed by kind
		{Zone{Kind: "office"}, CoverageRequired, 1},                                 // tightened by kind
		{Zone{Kind: "living", Coverage: CoverageProhibited}, CoverageProhibited, 0}, // by zone
		{Zone{Kind: "bathroom"}, CoverageProhibited, 0},
		{Zone{Kind: "toilet", Coverage: CoverageRequired}, CoverageProhibited, 0},
		{Zone{Kind: "changing"}, CoverageProhibited, 0},
	}
	for _, tt := range tests {
		if rule, need := c.ZoneCoverage(tt.zone); rule != tt.rule || need != tt.need {
			t.Errorf("%+v: %s %d, want %s %d", tt.zone, rule, need, tt.rule, tt.need)
		}
	}
}

// TestCameraDefaults: each source's defaults, and no defaults where the file says
// otherwise.
func TestCameraDefaults(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(`centre: {id: c1}
zones: [{id: room-1, kind: living}]
cameras:
  - {id: cam-f, zones: [room-1], source: frigate}
  - {id: cam-g, zones: [room-1], source: generic, topic: cams/g}
  - {id: cam-s, zones: [room-1], source: saqshy, rtsp_url: "rtsp://10.0.0.5/live", interval: 1m}
  - {id: cam-x, zones: [room-1], source: frigate, name: salon, topic: nvr2, stats_interval: 30s, min_fps: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	f, g, s, x := cfg.Cameras[0], cfg.Cameras[1], cfg.Cameras[2], cfg.Cameras[3]
	if f.Topic != "frigate" || f.StatsInterval.Std() != time.Minute || f.MinFPS != 1 || f.FrigateName() != "cam-f" {
		t.Errorf("frigate defaults: %+v", f)
	}
	if len(g.Online) != 5 || g.Field != "" || g.StaleAfter != 0 {
		t.Errorf("generic defaults: %+v", g)
	}
	if s.Topic != "saqshy/c1/camera/cam-s/health" || s.Timeout.Std() != 5*time.Second || s.StaleAfter.Std() != 3*time.Minute || !s.Probed() {
		t.Errorf("saqshy defaults: %+v", s)
	}
	if x.MinFPS != 0 || x.FrigateName() != "salon" || x.StatsInterval.Std() != 30*time.Second {
		t.Errorf("explicit values: %+v", x)
	}
	if cfg.Coverage.WarnAfter.Std() != 5*time.Minute || cfg.Coverage.CriticalAfter.Std() != 30*time.Minute {
		t.Errorf("coverage defaults: %+v", cfg.Coverage)
	}
}
