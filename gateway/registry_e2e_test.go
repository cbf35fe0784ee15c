package gateway

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/registry"
)

// TestRegistryEndToEnd: a gateway with a ministry bundle in force and a dishonest
// local config (the cold living room relabelled office; the fridge probe's
// interval padded to 24 h) runs a simulated day through a real Mosquitto into a
// real InfluxDB. It logs each weakening setting at ERROR, writes heartbeats with
// the registry version and the effective config's hash, and the day is scored as
// the registry says: the relabelled room is scored as living (17 °C: out of
// band), the fridge's availability on the registered 5 minutes.
func TestRegistryEndToEnd(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "registry")
	loc, _ := time.LoadLocation("Asia/Almaty")
	dayStart := time.Date(2025, 3, 10, 0, 0, 0, 0, loc)
	clock := &simClock{now: dayStart.Add(-time.Minute)}

	honest := func() *config.Config {
		cfg := e2eConfig(t, mq, in, "c1")
		cfg.Centre.Timezone, cfg.Centre.Location = "Asia/Almaty", loc
		cfg.Zones = []config.Zone{{ID: "mf", Kind: "med-fridge", Name: "Fridge"}, {ID: "room-101", Kind: "living", Name: "Room 101"}}
		cfg.Sensors = []config.Sensor{
			{ID: "fridge", Zone: "mf", Source: "saqshy", Interval: config.Duration(5 * time.Minute)},
			{ID: "room", Zone: "room-101", Source: "saqshy", Interval: config.Duration(30 * time.Minute)},
		}
		cfg.Alerts.Recipients = []config.Recipient{{Name: "Ministry duty officer", TelegramChat: "-1001000000002"}}
		return cfg
	}
	cfg := honest()
	cfg.ApplyDefaults()
	e := registry.FromConfig(cfg, "turkistan", []registry.Recipient{{Name: "Ministry duty officer", TelegramChat: "-1001000000002"}})
	e.Version = 2
	priv := demoKey(t)
	bundle, err := registry.Sign(e, priv)
	if err != nil {
		t.Fatal(err)
	}

	// The dishonest edit of the director.
	cfg.Zones[1].Kind = "office"
	cfg.Sensors[0].Interval = config.Duration(24 * time.Hour)
	cfg.Registry = config.Registry{PublicKeyFile: filepath.Join("..", "firmware-config", "registry", "demo-ministry.pub"), Dir: filepath.Join(t.TempDir(), "registry")}
	cfg.ApplyDefaults()
	store, err := registry.OpenPinned(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Install(bundle); err != nil {
		t.Fatal(err)
	}

	var logs syncBuffer
	g := runE2E(t, cfg, Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	st := g.Registry()
	wantHash := registry.EffectiveHash(registry.Apply(cfg, e))
	if st.Version != 2 || st.Overridden != 2 || st.ConfigHash != wantHash || wantHash == registry.EffectiveHash(cfg) {
		t.Fatalf("registry state %+v, want v2, 2 overridden, hash %s", st, wantHash)
	}
	for _, want := range []string{`level=ERROR msg="a local setting weakens the registry: the gateway runs on the registry's value"`,
		`zones[1].kind: kind \"office\", but the registry v2 has zone \"room-101\" as \"living\"`,
		`sensors[0].interval: 24h, but the registry v2 allows sensor \"fridge\" at most 5m`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
	if snap := g.Snapshot(); snap.Registry.Version != 2 || snap.Zones[1].Kind != "living" {
		t.Errorf("status page: registry %+v, zone %+v; want v2 and room-101 shown as living", snap.Registry, snap.Zones[1])
	}

	wait := func(what string, cond func() bool) { t.Helper(); waitE2E(t, g, 60*time.Second, what, cond) }
	pub := mqttClient(t, mq.URL(), "registry-pub")
	decoded := func() uint64 { return g.Stats().Counters[Key{"saqshy", "decoded"}] }
	sent := uint64(0)
	send := func(sensor string, temp float64) {
		t.Helper()
		if tok := pub.Publish("saqshy/c1/sensor/"+sensor+"/state", 1, false, fmt.Sprintf(`{"temperature_c": %g}`, temp)); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		sent++
	}
	// A day, 30 simulated minutes per step: the fridge in band, the room at 17 °C.
	for step := 0; step < 48; step++ {
		clock.set(dayStart.Add(time.Duration(step)*30*time.Minute + 30*time.Second))
		send("fridge", 4.5)
		send("room", 17)
		wait("readings decoded", func() bool { return decoded() >= sent })
	}
	clock.set(dayStart.Add(25*time.Hour + 2*time.Minute))

	q := fmt.Sprintf(`SELECT "temperature","availability","weights_version" FROM "safety_score" WHERE "period" = 'day' AND "centre" = 'c1' AND time = '%s'`,
		dayStart.UTC().Format(time.RFC3339))
	var row []any
	wait("the day point in InfluxDB", func() bool {
		series, err := in.Query(t.Context(), q)
		if err != nil || len(series) == 0 || len(series[0].Values) == 0 {
			return false
		}
		row = series[0].Values[0]
		return true
	})
	num := func(i int) float64 { f, _ := row[i].(json.Number).Float64(); return f }
	// As the registry says: the room is living, 17 °C is out of its band; the
	// fridge is due every 5 minutes but reports every 30, so under the time-weighted
	// rule (a reading is held only until a next one that comes within its
	// interval) none of its readings holds: no time in band, none available.
	// The room reports every slot; its last reading of the day is not confirmed by
	// a next one. (The dishonest config gives temperature 1 — an office has no
	// band, the fridge's one 24 h slot is in band — and availability 1.)
	wantTemp := 0.0
	wantAvail := (0 + 47.0/48) / 2
	if math.Abs(num(1)-wantTemp) > 1e-9 || math.Abs(num(2)-wantAvail) > 1e-9 {
		t.Errorf("day point temperature %v availability %v; the registry's config gives %v %v", row[1], row[2], wantTemp, wantAvail)
	}

	// The heartbeat carries the registry version and the effective config's hash.
	wait("a heartbeat in InfluxDB", func() bool {
		series, err := in.Query(t.Context(), `SELECT "registry_version","config_hash" FROM "gateway" WHERE "centre" = 'c1'`)
		if err != nil || len(series) == 0 || len(series[0].Values) == 0 {
			return false
		}
		v := series[0].Values[0]
		n, _ := v[1].(json.Number).Int64()
		if n != 2 || v[2] != wantHash {
			t.Fatalf("heartbeat registry_version %v config_hash %v; want 2 %s", v[1], v[2], wantHash)
		}
		return true
	})
}

// demoKey is the repository's DEMO ministry key.
func demoKey(t testing.TB) ed25519.PrivateKey {
	data, err := os.ReadFile(filepath.Join("..", "firmware-config", "registry", "demo-ministry.key"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := registry.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// syncBuffer is a log sink safe for the gateway's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestRegistryFetch: the gateway fetches its bundle over HTTPS in the
// background: a newer one is installed on disk and shown as taking effect at the
// next restart; a refused one (bad signature, another centre's, older) is logged
// and the last good one stays on disk; the running config does not change.
func TestRegistryFetch(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	cfg := e2eConfig(t, mq, nil, "c1")
	cfg.Zones = []config.Zone{{ID: "mf", Kind: "med-fridge", Name: "Fridge"}}
	cfg.Sensors = []config.Sensor{{ID: "fridge", Zone: "mf", Source: "saqshy", Interval: config.Duration(5 * time.Minute)}}
	cfg.Alerts.Recipients = []config.Recipient{{Name: "Ministry duty officer", TelegramChat: "-1001000000002"}}
	cfg.ApplyDefaults()
	priv := demoKey(t)
	sign := func(edit func(*registry.Entry)) []byte {
		e := registry.FromConfig(cfg, "turkistan", []registry.Recipient{{Name: "Ministry duty officer", TelegramChat: "-1001000000002"}})
		edit(e)
		b, err := registry.Sign(e, priv)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var serving atomic.Pointer[[]byte]
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/registry/v1/c1.bundle" {
			http.NotFound(w, r)
			return
		}
		w.Write(*serving.Load())
	}))
	t.Cleanup(srv.Close)
	v1 := sign(func(e *registry.Entry) {})
	serving.Store(&v1)

	cfg.Registry = config.Registry{PublicKeyFile: filepath.Join("..", "firmware-config", "registry", "demo-ministry.pub"),
		Dir: filepath.Join(t.TempDir(), "registry"), URL: srv.URL + "/registry/v1/c1.bundle"}
	cfg.ApplyDefaults()
	var logs syncBuffer
	g := runE2E(t, cfg, Options{RegistryClient: srv.Client(), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if v := g.Registry().Version; v != 0 {
		t.Fatalf("registry v%d in force at start, want unrated", v)
	}
	waitE2E(t, g, 30*time.Second, "v1 fetched and installed", func() bool { return g.Registry().Pending == 1 })
	st := g.Registry()
	if st.Version != 0 || st.Problem != "" || st.LastFetch.IsZero() || g.Snapshot().Registry.Pending != 1 {
		t.Fatalf("after the fetch: %+v; want still unrated until the restart, v1 pending", st)
	}
	if !strings.Contains(logs.String(), "registry bundle installed: it takes effect at the next restart") {
		t.Errorf("no log line for the install:\n%s", logs.String())
	}
	onDisk, err := os.ReadFile(cfg.Registry.BundlePath())
	if err != nil || !bytes.Equal(onDisk, v1) {
		t.Fatalf("bundle on disk: %v", err)
	}

	// Refused bundles, fetched directly (the loop's next turn is an hour away).
	for _, tc := range []struct {
		name   string
		bundle []byte
		want   string
	}{
		{"bad signature", bytes.Replace(sign(func(e *registry.Entry) { e.Version = 3 }), []byte(`"signature": "`), []byte(`"signature": "AAAA`), 1), "bad signature"},
		{"another centre", sign(func(e *registry.Entry) { e.Version = 4; e.Centre.ID = "c2" }), "bundle is for another centre"},
		{"older", sign(func(e *registry.Entry) { e.Version = 1; e.Score.Caps = "off" }), "v1 is installed with other content"},
	} {
		serving.Store(&tc.bundle)
		err := g.fetchOnce(t.Context())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: fetch error %v, want %q", tc.name, err, tc.want)
		}
		if p := g.Registry().Problem; !strings.Contains(p, tc.want) {
			t.Errorf("%s: status problem %q", tc.name, p)
		}
		if got, _ := os.ReadFile(cfg.Registry.BundlePath()); !bytes.Equal(got, v1) {
			t.Fatalf("%s: the last good bundle changed on disk", tc.name)
		}
	}
	if !strings.Contains(logs.String(), `level=ERROR msg="registry bundle refused: the last good one stays in force"`) {
		t.Errorf("no ERROR line for the refused bundles:\n%s", logs.String())
	}
}
