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
func checkErr(t testing.TB, err error) {
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
	for _, in := range messageSeeds(f) {
		f.Add(in.topic, in.payload)
	}
	cfg := messageConfig(f)
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		fuzzMessage(t, cfg, topic, payload)
	})
}

type messageInput struct {
	topic   string
	payload []byte
}

func messageSeeds(tb testing.TB) []messageInput {
	return []messageInput{
		{"frigate/stats", fixture(tb, "frigate-0.18-stats.json")},
		{"frigate/available", []byte("offline")},
		{"frigate/salon/status/record", []byte("offline")},
		{"frigate/salon/recordings/state", []byte("OFF")},
		{"viseron/cam/state", []byte(`{"state":"on"}`)},
		{"saqshy/c1/camera/cam-p/health", []byte(`{"time":"2026-11-22T18:00:00Z","state":"degraded","reason":"recording_off"}`)},
	}
}

func messageConfig(tb testing.TB) *config.Config {
	cams := []config.Camera{
		{ID: "cam-f", Zones: []string{"room-1"}, Source: "frigate", Name: "salon"},
		{ID: "cam-v", Zones: []string{"room-1"}, Source: "generic", Topic: "viseron/cam/state", Field: "state"},
		{ID: "cam-p", Zones: []string{"room-1"}, Source: "saqshy"},
	}
	return testConfig(tb, []config.Zone{{ID: "room-1", Kind: "living"}}, cams)
}

// fuzzMessage is FuzzMessage's body, shared with BenchmarkFuzzMessage.
//
// The first message to a new Check accounts the day so far minute by minute (about
// 1,400 steps at 18:00 UTC, 0.25 ms: the fuzzer ran at a few hundred inputs a
// second on a loaded machine), so the input arrives 30 s after the centre's
// midnight: the fuzzer explores the payload, not the day's bookkeeping.
func fuzzMessage(t testing.TB, cfg *config.Config, topic string, payload []byte) {
	t0 := time.Date(2026, 11, 22, 0, 0, 30, 0, cfg.Centre.Location)
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
}

// BenchmarkFuzzMessage times FuzzMessage's body over its seed corpus: one op is one
// input (make fuzz's executions per second, without the fuzzing engine).
func BenchmarkFuzzMessage(b *testing.B) {
	seeds, cfg := messageSeeds(b), messageConfig(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		in := seeds[i%len(seeds)]
		fuzzMessage(b, cfg, in.topic, in.payload)
	}
}
