package camera

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// checkErr asserts the decoders' error contract: a *telemetry.RejectError with a known reason.
func checkErr(t *testing.T, err error) {
	t.Helper()
	switch r := telemetry.Reason(err); r {
	case "too_large", "empty", "bad_json", "bad_value", "bad_time":
	default:
		t.Fatalf("error %v has reason %q", err, r)
	}
}

func FuzzFrigateStats(f *testing.F) {
	for _, name := range []string{"frigate-0.14-stats.json", "frigate-0.17-stats.json", "frigate-0.18-stats.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"cameras":{"a":{"camera_fps":1e308,"pid":null}}}`))
	f.Add([]byte(`{"cameras":{}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		st, err := parseFrigateStats(payload)
		if err != nil {
			checkErr(t, err)
			return
		}
		for name, c := range st.Cameras {
			if math.IsNaN(c.FPS) || c.FPS < 0 || c.FPS > 1000 {
				t.Fatalf("camera %q: fps %g", name, c.FPS)
			}
			if c.Quality != "" && !slices.Contains(frigateQualities, c.Quality) {
				t.Fatalf("camera %q: quality %q", name, c.Quality)
			}
		}
	})
}

func FuzzGenericValue(f *testing.F) {
	f.Add([]byte(`{"state":"on","attributes":{}}`), "state")
	f.Add([]byte(`{"attributes":{"connected":true}}`), "attributes.connected")
	f.Add([]byte(`Stop`), "")
	f.Add([]byte(`"online"`), "")
	f.Add([]byte(`{"a":1}`), "a")
	f.Fuzz(func(t *testing.T, payload []byte, field string) {
		v, err := genericValue(payload, field)
		if err != nil {
			checkErr(t, err)
			return
		}
		if v != strings.ToLower(v) {
			t.Fatalf("value %q not lower case", v)
		}
	})
}

func FuzzReport(f *testing.F) {
	f.Add([]byte(`{"time":"2026-11-22T18:00:00Z","state":"offline","reason":"rtsp: 401 Unauthorized","probe":"rtsp","latency_ms":12.5}`))
	f.Add([]byte(`{"time":"2026-11-22T18:00:00+05:00","state":"healthy"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, err := ParseReport(payload)
		if err != nil {
			checkErr(t, err)
			return
		}
		if st, ok := ParseState(r.State); !ok || st == Unknown || r.Time.IsZero() || math.IsNaN(r.LatencyMS) {
			t.Fatalf("accepted %+v", r)
		}
		if _, err := ParseReport(r.Marshal()); err != nil {
			t.Fatalf("re-encoded report rejected: %v", err)
		}
	})
}

// FuzzMessage feeds any topic and payload to a check with every kind of source:
// it never panics, rejects with a decode reason, and its points are writable.
func FuzzMessage(f *testing.F) {
	f.Add("frigate/stats", fixture(f, "frigate-0.18-stats.json"))
	f.Add("frigate/available", []byte("offline"))
	f.Add("frigate/salon/status/record", []byte("offline"))
	f.Add("frigate/salon/recordings/state", []byte("OFF"))
	f.Add("viseron/cam/state", []byte(`{"state":"on"}`))
	f.Add("saqshy/c1/camera/cam-p/health", []byte(`{"time":"2026-11-22T18:00:00Z","state":"degraded","reason":"recording_off"}`))
	cams := []config.Camera{
		{ID: "cam-f", Zones: []string{"room-1"}, Source: "frigate", Name: "salon"},
		{ID: "cam-v", Zones: []string{"room-1"}, Source: "generic", Topic: "viseron/cam/state", Field: "state"},
		{ID: "cam-p", Zones: []string{"room-1"}, Source: "saqshy"},
	}
	cfg := testConfig(f, []config.Zone{{ID: "room-1", Kind: "living"}}, cams)
	t0 := time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		c, err := New(cfg, newCondLog(time.Now), nil)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := c.Message(msg(topic, string(payload), t0), true)
		if err != nil {
			checkErr(t, err)
		}
		evs = append(evs, c.Tick(t0.Add(time.Minute), true)...)
		for _, e := range evs {
			if e.Point == nil {
				t.Fatal("not a point")
			}
			if err := e.Point.Check(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
