package sight

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Frame draws a room-like 320×180 view with fresh sensor noise per shot; black
// draws a blacked-out one.
func Frame(t testing.TB, shot uint64, black bool) []byte {
	t.Helper()
	const w, h = 320, 180
	img := image.NewGray(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(7, shot))
	for y := range h {
		for x := range w {
			v := 60 + 80*float64(x)/w + 20*math.Sin(float64(y)/20)
			if (x/40+y/30)%3 == 0 {
				v = 180 + 10*math.Sin(float64(x+y)/4)
			}
			v += rng.NormFloat64() * 3
			if black {
				v = 2 + rng.Float64()
			}
			img.Pix[y*img.Stride+x] = uint8(min(max(v, 0), 255))
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type conds struct {
	mu   sync.Mutex
	open map[string]telemetry.Condition
	ops  []string
}

func (c *conds) Raise(x telemetry.Condition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		c.open = map[string]telemetry.Condition{}
	}
	if _, ok := c.open[x.Kind+"/"+x.Subject]; !ok {
		c.ops = append(c.ops, "raise "+x.Kind+" "+x.Subject+" "+x.Severity.String())
	}
	c.open[x.Kind+"/"+x.Subject] = x
}

func (c *conds) Clear(kind, subject string, _ time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.open[kind+"/"+subject]; ok {
		c.ops = append(c.ops, "clear "+kind+" "+subject)
	}
	delete(c.open, kind+"/"+subject)
}

type sightLog struct{ calls []string }

func (s *sightLog) SetSight(id string, sees bool, why string, _ time.Time, _ bool) ([]telemetry.Event, error) {
	if sees {
		s.calls = append(s.calls, id+" sees")
	} else {
		s.calls = append(s.calls, id+" blind "+why)
	}
	return nil, nil
}

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }
func (c *fixedClock) Synced() bool   { return true }

// TestBlackFrame: a camera serving a black frame raises camera_tampered
// (critical), is told to the coverage as not seeing, and its point carries the
// verdict and the measures only; live frames afterwards clear it.
func TestBlackFrame(t *testing.T) {
	var black atomic.Bool
	black.Store(true)
	var shot atomic.Uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/hall/latest.jpg" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(Frame(t, shot.Add(1), black.Load()))
	}))
	defer srv.Close()
	cs, sl, clk := &conds{}, &sightLog{}, &fixedClock{t: time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)}
	w, err := New(Options{Targets: []Target{{Camera: "cam-1", Zones: []string{"hall"}, URL: srv.URL + "/api/hall/latest.jpg", Frigate: true}},
		Conditions: cs, Coverage: sl, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w.LookAll(ctx)
	if got := strings.Join(cs.ops, "; "); got != "raise camera_tampered cam-1 critical" {
		t.Errorf("conditions: %s", got)
	}
	if c := cs.open["camera_tampered/cam-1"]; !strings.Contains(c.Reason, "blacked out") || c.Zone != "hall" {
		t.Errorf("condition: %+v", c)
	}
	if got := strings.Join(sl.calls, "; "); got != "cam-1 blind dark" {
		t.Errorf("sight: %s", got)
	}
	evs := w.Tick(clk.t, true)
	if len(evs) != 1 || evs[0].Point.Measurement != "camera_view" {
		t.Fatalf("points: %+v", evs)
	}
	noImage(t, evs)
	if err := telemetry.CheckSchema(evs[0].Point); err != nil {
		t.Error(err)
	}
	if st := w.Snapshot()[0]; st.Sees || st.State != "dark" || st.Since.IsZero() || st.Measures.Brightness > 12 {
		t.Errorf("status: %+v", st)
	}

	black.Store(false)
	clk.t = clk.t.Add(5 * time.Minute)
	w.LookAll(ctx)
	if got := strings.Join(cs.ops, "; "); got != "raise camera_tampered cam-1 critical; clear camera_tampered cam-1" {
		t.Errorf("conditions: %s", got)
	}
	if got := strings.Join(sl.calls, "; "); got != "cam-1 blind dark; cam-1 sees" {
		t.Errorf("sight: %s", got)
	}
	if st := w.Snapshot()[0]; !st.Sees || st.State != "learning" {
		t.Errorf("status: %+v", st)
	}
	// Learning and then seeing: nothing more is told.
	for range 12 {
		clk.t = clk.t.Add(5 * time.Minute)
		w.LookAll(ctx)
	}
	if st := w.Snapshot()[0]; st.State != "ok" || len(sl.calls) != 2 {
		t.Errorf("after learning: %+v, sight calls %v", st, sl.calls)
	}
	noImage(t, w.Tick(clk.t, true))
}

// noImage fails if any point field could carry a still.
func noImage(t *testing.T, evs []telemetry.Event) {
	t.Helper()
	for _, e := range evs {
		for _, f := range e.Point.Fields {
			s := f.String()
			if len(s) > 300 || strings.Contains(s, "\xff\xd8") || strings.Contains(s, "PNG") || strings.Contains(s, "JFIF") {
				t.Errorf("field %s may carry an image (%d bytes)", f.Key, len(s))
			}
		}
	}
}

// TestFetchErrors: a camera that answers 404, or something that is not an image,
// is not judged: nothing is raised or told, and the status says why.
func TestFetchErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/text" {
			w.Write([]byte("hello"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	cs, sl := &conds{}, &sightLog{}
	w, err := New(Options{Targets: []Target{
		{Camera: "a", Zones: []string{"z"}, URL: srv.URL + "/none", Frigate: true},
		{Camera: "b", Zones: []string{"z"}, URL: srv.URL + "/text"},
	}, Conditions: cs, Coverage: sl, Clock: &fixedClock{t: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	w.LookAll(context.Background())
	st := w.Snapshot()
	if !strings.Contains(st[0].Err, "404") || !strings.Contains(st[1].Err, "not a JPEG or PNG") {
		t.Errorf("errors: %q, %q", st[0].Err, st[1].Err)
	}
	if len(cs.ops) != 0 || len(sl.calls) != 0 || len(w.Tick(time.Now(), true)) != 0 {
		t.Errorf("an unjudged still changed something: %v %v", cs.ops, sl.calls)
	}
	if _, err := New(Options{Targets: []Target{{Camera: "a"}}, Conditions: cs, Clock: &fixedClock{}}); err == nil || !strings.Contains(err.Error(), `target "a" has no camera id or URL`) {
		t.Errorf("a target without a URL: %v", err)
	}
}

// TestTargets: only cameras covering a required zone and having a still URL are
// watched; a private or optional zone is not named.
func TestTargets(t *testing.T) {
	cfg, err := config.Parse("c.yaml", []byte(`centre: {id: c1}
zones: [{id: room-1, kind: living}, {id: kit, kind: kitchen}]
cameras:
  - {id: cam-f, zones: [kit, room-1], source: frigate, frigate_api: "http://127.0.0.1:5000"}
  - {id: cam-k, zones: [kit], source: frigate, frigate_api: "http://127.0.0.1:5000"}
  - {id: cam-s, zones: [room-1], source: saqshy, snapshot_url: "http://10.0.0.5/snap.jpg", username: admin}
  - {id: cam-r, zones: [room-1], source: saqshy, rtsp_url: "rtsp://10.0.0.6/live"}
  - {id: cam-n, zones: [room-1], source: frigate}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := Targets(cfg)
	if len(got) != 2 || got[0].Camera != "cam-f" || strings.Join(got[0].Zones, ",") != "room-1" || !got[0].Frigate ||
		got[0].URL != "http://127.0.0.1:5000/api/cam-f/latest.jpg" || got[1].Camera != "cam-s" || got[1].Username != "admin" {
		t.Errorf("targets: %+v", got)
	}
}
