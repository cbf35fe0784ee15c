package gateway

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/plausibility/plauscheck"
	"github.com/saqshy/saqshy/gateway/score"
)

// TestImplausibleFridgeEndToEnd: a day of a centre through a real Mosquitto (clock
// compressed: 5 simulated minutes per step): a medicine-fridge probe flat at
// 5.0 °C all day is flagged `implausible` (no compressor cycles) and the day's
// temperature component does not count it in band, while an honest fridge with
// compressor cycles in the other fridge zone scores fully: temperature 0.5 (it
// would be 1.0 without the plausibility check).
func TestImplausibleFridgeEndToEnd(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	loc, _ := time.LoadLocation("Asia/Almaty")
	dayStart := time.Date(2025, 3, 10, 0, 0, 0, 0, loc)
	clock := &simClock{now: dayStart.Add(-time.Minute)}
	cfg := e2eConfig(t, mq, nil, "c16")
	cfg.Centre.Timezone, cfg.Centre.Location = "Asia/Almaty", loc
	cfg.Zones = []config.Zone{{ID: "mf", Kind: "med-fridge"}, {ID: "mf2", Kind: "med-fridge"}}
	cfg.Sensors = []config.Sensor{
		{ID: "flat", Zone: "mf", Source: "saqshy", Interval: config.Duration(5 * time.Minute)},
		{ID: "honest", Zone: "mf2", Source: "saqshy", Interval: config.Duration(5 * time.Minute)},
	}
	g := runE2E(t, cfg, Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))})
	pub := mqttClient(t, mq.URL(), "fridge-pub")
	decoded := func() uint64 { return g.Stats().Counters[Key{"saqshy", "decoded"}] }
	sent := uint64(0)
	send := func(sensor string, temp float64) {
		t.Helper()
		if tok := pub.Publish("saqshy/c16/sensor/"+sensor+"/state", 1, false, fmt.Sprintf(`{"temperature_c": %.2f}`, temp)); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		sent++
	}
	rng := rand.New(rand.NewPCG(16, 16))
	for step := 0; step < 288; step++ {
		now := dayStart.Add(time.Duration(step)*5*time.Minute + 30*time.Second)
		clock.set(now)
		send("flat", 5.0)
		ph := math.Mod(now.Sub(dayStart).Minutes()/35, 1) // a 35-minute compressor cycle
		send("honest", 4.5+0.7*(2*math.Abs(2*ph-1)-1)+rng.NormFloat64()*0.03)
		waitE2E(t, g, 30*time.Second, fmt.Sprintf("step %d decoded", step), func() bool { return decoded() >= sent })
	}
	clock.set(dayStart.Add(24 * time.Hour))
	waitE2E(t, g, 30*time.Second, "the flat fridge flagged", func() bool {
		for _, c := range g.Conditions() {
			if c.Kind == plauscheck.Kind && c.Subject == "flat" {
				return true
			}
		}
		return false
	})
	for _, c := range g.Conditions() {
		if c.Kind == plauscheck.Kind {
			if c.Subject != "flat" || !strings.Contains(c.Reason, "no compressor cycles") || c.Zone != "mf" {
				t.Errorf("condition %+v", c)
			}
		}
	}
	if imp := g.Snapshot().Implausible; len(imp) != 1 || imp[0].Sensor != "flat" || imp[0].Code != "no_compressor_cycles" {
		t.Errorf("status page's implausible sensors: %+v", imp)
	}
	// The day closes an hour after midnight.
	clock.set(dayStart.Add(25*time.Hour + 2*time.Minute))
	var day *score.Result
	waitE2E(t, g, 30*time.Second, "the day's score", func() bool {
		for _, d := range g.score.Snapshot().Days {
			if d.Date == "2025-03-10" {
				r := d.Result
				day = &r
				return true
			}
		}
		return false
	})
	temp := day.Parts[score.CompTemperature]
	if math.Abs(temp.Ratio-0.5) > 0.01 || math.Abs(day.Parts[score.CompAvailability].Ratio-1) > 0.01 {
		t.Errorf("day: temperature %.3f (want 0.5: the flat fridge does not score), availability %.3f (want 1)", temp.Ratio, day.Parts[score.CompAvailability].Ratio)
	}
}

// stillFrame is a room-like 320×180 JPEG with fresh noise per shot, or a black one.
func stillFrame(t testing.TB, shot uint64, black bool) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 320, 180))
	rng := rand.New(rand.NewPCG(3, shot))
	for y := range 180 {
		for x := range 320 {
			v := 60 + 80*float64(x)/320 + 20*math.Sin(float64(y)/20)
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

// TestCameraTamperedEndToEnd: a Frigate camera covering a required corridor, its
// latest frame served by an httptest server on loopback, through a real
// Mosquitto and InfluxDB: while it serves a live view the corridor is covered;
// once it serves a black frame the camera raises camera_tampered (critical), stops
// covering, the corridor's gap opens, and a camera_view point with sees=false
// lands in InfluxDB. Nothing image-like is written to the spool or published on
// MQTT.
func TestCameraTamperedEndToEnd(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "sight")
	var black atomic.Bool
	var shot atomic.Uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/hall/latest.jpg" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(stillFrame(t, shot.Add(1), black.Load()))
	}))
	defer srv.Close()
	cfg := e2eConfig(t, mq, in, "c17")
	cfg.Zones = []config.Zone{{ID: "corr", Kind: "corridor"}}
	cfg.Cameras = []config.Camera{{ID: "cam-h", Name: "hall", Zones: []string{"corr"}, Source: "frigate", FrigateAPI: srv.URL}}

	// Everything published on the broker, to look for images.
	var mu sync.Mutex
	var published [][]byte
	spy := mqttClient(t, mq.URL(), "spy")
	if tok := spy.Subscribe("#", 0, func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		published = append(published, append([]byte(nil), m.Payload()...))
		mu.Unlock()
	}); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	g := runE2E(t, cfg, Options{Clock: camClock{start: time.Now(), speed: 1}, sightEvery: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))})
	pub := mqttClient(t, mq.URL(), "frigate")
	ctx := t.Context()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	pub.Publish("frigate/available", 1, true, "online").Wait()
	wg.Go(func() {
		tk := time.NewTicker(500 * time.Millisecond)
		defer tk.Stop()
		for {
			pub.Publish("frigate/stats", 1, false, `{"cameras":{"hall":{"camera_fps":5,"process_fps":5,"pid":1,"capture_pid":2}},"service":{"version":"0.17.2"}}`).Wait()
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	})
	wait := func(what string, cond func() bool) { t.Helper(); waitE2E(t, g, 60*time.Second, what, cond) }
	wait("the corridor covered by a camera that sees", func() bool {
		s := g.Cameras()
		st := g.sight.Snapshot()
		return len(s.Zones) == 1 && s.Zones[0].Covered && st[0].Looked.After(time.Time{}) && st[0].Sees
	})

	black.Store(true)
	wait("camera_tampered", func() bool {
		for _, c := range g.Conditions() {
			if c.Kind == "camera_tampered" && c.Subject == "cam-h" {
				return true
			}
		}
		return false
	})
	for _, c := range g.Conditions() {
		if c.Kind == "camera_tampered" && (c.Severity.String() != "critical" || c.Zone != "corr" || !strings.Contains(c.Reason, "blacked out")) {
			t.Errorf("condition %+v", c)
		}
		if c.Kind == "camera_offline" {
			t.Errorf("a working camera that does not see raised %+v", c)
		}
	}
	s := g.Cameras()
	if s.Zones[0].Covered || s.Cameras[0].Covers || s.Cameras[0].Reason != "view_dark" {
		t.Errorf("a blacked-out camera covers: zone %+v camera %+v", s.Zones[0], s.Cameras[0])
	}
	if cams := g.Snapshot().Cameras; len(cams) != 1 || cams[0].View != "dark" || !strings.Contains(cams[0].ViewReason, "blacked out") {
		t.Errorf("status page's camera: %+v", cams)
	}
	wait("a camera_view point with sees=false in InfluxDB", func() bool {
		rows, err := in.Query(ctx, `SELECT "sees","brightness" FROM "camera_view" WHERE "camera"='cam-h' AND "sees"=false`)
		return err == nil && len(rows) > 0
	})

	// Nothing image-like left the Pi or was stored.
	jpegMagic, pngMagic := []byte{0xff, 0xd8, 0xff}, []byte("\x89PNG")
	mu.Lock()
	for _, p := range published {
		if bytes.Contains(p, jpegMagic) || bytes.Contains(p, pngMagic) || len(p) > 64<<10 {
			t.Errorf("an image-like MQTT payload of %d bytes was published", len(p))
		}
	}
	n := len(published)
	mu.Unlock()
	if n == 0 {
		t.Error("the spy heard nothing: the privacy check checks nothing")
	}
	err := filepath.WalkDir(cfg.Spool.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, jpegMagic) || bytes.Contains(b, pngMagic) || bytes.Contains(b, []byte("JFIF")) {
			t.Errorf("%s holds image bytes", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
