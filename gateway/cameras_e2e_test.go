package gateway

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// camClock runs speed times faster than the wall clock from its start, so that the
// once-a-minute coverage points come every two seconds.
type camClock struct {
	start time.Time
	speed time.Duration
}

func (c camClock) Now() time.Time { return c.start.Add(time.Since(c.start) * c.speed) }
func (camClock) Synced() bool     { return true }

// TestCamerasEndToEnd: a centre of 40 Frigate cameras over 60 zones (40 rooms and
// 10 corridors required, 10 offices optional), 3 cameras failing (two without
// frames, one missing from Frigate's stats), through real Mosquitto and InfluxDB:
// the `camera` points say which cameras fail and why, the `coverage` points count
// 47 of 50 required zones covered, and the status snapshot agrees.
func TestCamerasEndToEnd(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "cameras")
	cfg := e2eConfig(t, mq, in, "c40")
	for i := range 40 {
		cfg.Zones = append(cfg.Zones, config.Zone{ID: fmt.Sprintf("room-%02d", i), Kind: "living"})
	}
	for i := range 10 {
		cfg.Zones = append(cfg.Zones, config.Zone{ID: fmt.Sprintf("corridor-%d", i), Kind: "corridor"},
			config.Zone{ID: fmt.Sprintf("office-%d", i), Kind: "office"})
	}
	for i := range 40 {
		zones := []string{fmt.Sprintf("room-%02d", i), fmt.Sprintf("corridor-%d", i/4)}
		if i < 10 {
			zones = append(zones, fmt.Sprintf("office-%d", i))
		}
		cfg.Cameras = append(cfg.Cameras, config.Camera{ID: fmt.Sprintf("cam-%02d", i), Zones: zones, Source: "frigate", Name: fmt.Sprintf("cam%02d", i)})
	}
	// Stats: cam00 and cam01 have no frames, cam02 is missing.
	var b strings.Builder
	b.WriteString(`{"cameras":{`)
	for i := 1; i < 40; i++ {
		if i == 2 {
			continue
		}
		fps := 5.0
		if i <= 1 {
			fps = 0
		}
		if i > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"cam%02d":{"camera_fps":%g,"process_fps":%g,"pid":%d,"capture_pid":%d}`, i, fps, fps, 100+i, 200+i)
	}
	b.WriteString(`},"service":{"version":"0.17.2"}}`)
	// cam00 is in the stats too, with fps 0.
	stats := strings.Replace(b.String(), `{"cameras":{`, `{"cameras":{"cam00":{"camera_fps":0,"pid":100,"capture_pid":null},`, 1)

	g := runE2E(t, cfg, Options{Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError})),
		Clock: camClock{start: time.Now(), speed: 30}})
	ctx := t.Context()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // before the gateway stops: cleanups run last first
	wait := func(what string, cond func() bool) { t.Helper(); waitE2E(t, g, 60*time.Second, what, cond) }
	pub := mqttClient(t, mq.URL(), "frigate")
	if tok := pub.Publish("frigate/available", 1, true, "online"); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	// Frigate's stats every (fast) 30 s.
	wg.Go(func() {
		tk := time.NewTicker(500 * time.Millisecond)
		defer tk.Stop()
		for {
			pub.Publish("frigate/stats", 1, false, stats).Wait()
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	})

	wait("47 of 50 zones covered", func() bool {
		s := g.Cameras()
		return len(s.Kinds) == 3 && s.Kinds[2].Zones == 50 && s.Kinds[2].CoveredNow == 47
	})
	s := g.Cameras()
	for _, c := range s.Cameras[:4] {
		t.Logf("%s %s %s", c.ID, c.State, c.Reason)
	}
	if got := fmt.Sprintf("%s %s %s %s %s %s", s.Cameras[0].State, s.Cameras[0].Reason, s.Cameras[1].State, s.Cameras[2].State, s.Cameras[2].Reason, s.Cameras[3].State); got != "offline no_frames offline unknown not_in_stats healthy" {
		t.Errorf("snapshot: %s", got)
	}

	// The camera points: the last state of each camera.
	wait("camera points of all 40 cameras", func() bool {
		series, err := in.Query(t.Context(), `SELECT last("state") FROM "camera" WHERE "centre" = 'c40' AND "state" != 'unknown' OR "camera" = 'cam-02' GROUP BY "camera"`)
		return err == nil && len(series) == 40
	})
	series, err := in.Query(t.Context(), `SELECT last("state"), "reason", "online", "fps" FROM "camera" WHERE "centre" = 'c40' GROUP BY "camera"`)
	if err != nil {
		t.Fatal(err)
	}
	healthy := 0
	for _, sr := range series {
		v := sr.Values[0]
		switch cam := sr.Tags["camera"]; cam {
		case "cam-00", "cam-01":
			if v[1] != "offline" || v[2] != "no_frames" || v[3] != false {
				t.Errorf("%s: %v", cam, v)
			}
		case "cam-02":
			if v[1] != "unknown" || v[2] != "not_in_stats" {
				t.Errorf("%s: %v", cam, v)
			}
		default:
			if v[1] == "healthy" && v[3] == true {
				healthy++
			}
		}
	}
	if healthy != 37 {
		t.Errorf("%d healthy cameras in InfluxDB, want 37: %v", healthy, series)
	}

	// The coverage points: live ratios once all cameras are judged, 37 of 40 rooms
	// and all 10 corridors; no point for the optional offices.
	var last []any
	defer func() {
		if t.Failed() {
			t.Logf("last living live point: %v", last)
		}
	}()
	wait("coverage points with the failing cameras", func() bool {
		rs, err := in.Query(t.Context(), `SELECT last("ratio") FROM "coverage" WHERE "period" = 'live' AND "zone_kind" = 'living'`)
		if err != nil || len(rs) == 0 {
			return false
		}
		r := num(rs[0].Values[0][1])
		last = rs[0].Values[0]
		return r > 0.5 && r < 37.0/40
	})
	kinds, err := in.Query(t.Context(), `SELECT count("ratio") FROM "coverage" WHERE "centre" = 'c40' GROUP BY "zone_kind", "period"`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range kinds {
		got = append(got, k.Tags["zone_kind"]+"/"+k.Tags["period"])
	}
	slices.Sort(got)
	if strings.Join(got, " ") != "all/day all/live corridor/day corridor/live living/day living/live" {
		t.Errorf("coverage series: %v", got)
	}
	rs, err := in.Query(t.Context(), `SELECT last("ratio"), "required_s", "covered_s" FROM "coverage" WHERE "period" = 'live' AND "zone_kind" = 'corridor'`)
	if err != nil || len(rs) == 0 {
		t.Fatalf("corridor coverage: %v %v", rs, err)
	}
	if r := num(rs[0].Values[0][1]); r <= 0.5 || r > 1 {
		t.Errorf("corridor live ratio %v: cam-03 covers corridor-0", rs[0].Values)
	}
	if n := g.Stats().Counters[Key{"camera", "decoded"}]; n == 0 {
		t.Errorf("camera messages not counted: %v", g.Stats().Counters)
	}
}

// num reads a number from a query result.
func num(v any) float64 {
	var f float64
	fmt.Sscan(fmt.Sprint(v), &f)
	return f
}
