package gateway

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/status"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// historyConfig is a centre with two sensors of one room, spool only.
func historyConfig(t *testing.T, mq *testenv.Mosquitto, centre string) *config.Config {
	cfg := e2eConfig(t, mq, nil, centre)
	cfg.Zones = []config.Zone{{ID: "room-1", Kind: "living"}}
	cfg.Sensors = []config.Sensor{
		{ID: "t1", Zone: "room-1", Source: "saqshy", Topic: "saqshy/" + centre + "/sensor/t1"},
		{ID: "t2", Zone: "room-1", Source: "saqshy", Topic: "saqshy/" + centre + "/sensor/t2"},
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startStoppable runs a gateway on cfg until stop (or the test's end) and returns it
// once it is connected.
func startStoppable(t *testing.T, cfg *config.Config, opt Options) (*Gateway, func()) {
	t.Helper()
	g, err := New(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	waitE2E(t, g, 30*time.Second, "the gateway to connect", func() bool { return g.Stats().MQTTConnected })
	return g, stop
}

// charts returns each sensor's history on g's status page.
func charts(g *Gateway) map[string][]status.Bucket {
	out := map[string][]status.Bucket{}
	for _, s := range g.Snapshot().Sensors {
		out[s.ID] = s.History
	}
	return out
}

// TestRestartKeepsCharts: readings over five hours on the status page's charts;
// the gateway saves them while it runs (here every 50 ms) and at shutdown; the
// gateway started again on the same spool directory shows the same charts before
// any new reading, goes on adding to them, and saves them when it stops.
func TestRestartKeepsCharts(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	cfg := historyConfig(t, mq, "h1")
	clk := &shiftClock{}
	clk.off.Store(int64(-5 * time.Hour))
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	opt := Options{Clock: clk, Logger: log, historyEvery: 50 * time.Millisecond}
	g, stop := startStoppable(t, cfg, opt)
	pub := mqttClient(t, mq.URL(), "pub")
	publish := func(sensor string, c float64) {
		t.Helper()
		payload := `{"temperature_c": ` + strconv.FormatFloat(c, 'f', -1, 64) + `}`
		if tok := pub.Publish("saqshy/h1/sensor/"+sensor+"/state", 1, false, payload); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	for i, c := range []float64{21.5, 22, 23.25, 20.75, 21} {
		if i > 0 {
			clk.skip(time.Hour)
		}
		publish("t1", c)
		publish("t2", c+1)
		waitE2E(t, g, 30*time.Second, "the readings on the charts", func() bool {
			h := charts(g)
			return len(h["t1"]) == i+1 && len(h["t2"]) == i+1
		})
	}
	before := charts(g)
	path := filepath.Join(cfg.Spool.Dir, historyStateFile)
	waitE2E(t, g, 30*time.Second, "a periodic save of the charts", func() bool {
		n, err := status.NewHistory("t1", "t2").LoadFrom(path)
		return err == nil && n == 2
	})
	stop()

	// The second gateway saves only at shutdown.
	opt.historyEvery = time.Hour
	g2, stop2 := startStoppable(t, cfg, opt)
	if after := charts(g2); !reflect.DeepEqual(after, before) {
		t.Fatalf("charts after the restart:\n%+v\nwant\n%+v", after, before)
	}
	if b := before["t1"]; b[0].Mean != 21.5 || b[4].Mean != 21 || before["t2"][2].Max != 24.25 {
		t.Errorf("charts %+v", before)
	}
	clk.skip(time.Minute)
	publish("t1", 30)
	waitE2E(t, g2, 30*time.Second, "a new reading on the restored chart", func() bool {
		h := charts(g2)["t1"]
		return len(h) >= 5 && h[len(h)-1].Max == 30
	})
	stop2()
	h := status.NewHistory("t1", "t2")
	if n, err := h.LoadFrom(path); n != 2 || err != nil {
		t.Fatalf("after the shutdown: %d sensors, %v", n, err)
	}
	if s := h.Series("t1", clk.Now()); len(s) < 5 || s[len(s)-1].Max != 30 {
		t.Errorf("the shutdown did not save the last reading: %+v", s)
	}
}

// TestUnusableChartsFile: a truncated, or a wrong-version, charts file is logged
// with its path and what was wrong, moved aside, and the gateway runs with empty
// charts that fill again.
func TestUnusableChartsFile(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	for _, tc := range []struct{ name, reason string }{
		{"truncated", "not valid JSON"},
		{"newer", "version 9, want 1: written by newer software"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := historyConfig(t, mq, "h2"+tc.name[:1])
			path := filepath.Join(cfg.Spool.Dir, historyStateFile)
			h := status.NewHistory("t1")
			for m := range 60 {
				h.Add("t1", time.Now().Add(-time.Duration(m)*time.Minute), 20)
			}
			if err := h.SaveTo(path, time.Now()); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "truncated" {
				data = data[:len(data)/2]
			} else {
				data = bytes.Replace(data, []byte(`"version":1`), []byte(`"version":9`), 1)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			g, _ := startStoppable(t, cfg, Options{Clock: FixedSync(true),
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
			line := logs.String()
			if !strings.Contains(line, "status page history not restored") || !strings.Contains(line, path) || !strings.Contains(line, tc.reason) {
				t.Errorf("log %q: want the file and %q", line, tc.reason)
			}
			if h := charts(g)["t1"]; h != nil {
				t.Errorf("charts from an unusable file: %+v", h)
			}
			if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 1 {
				t.Errorf("not moved aside: %v", aside)
			}
			pub := mqttClient(t, mq.URL(), "pub-"+tc.name)
			if tok := pub.Publish("saqshy/"+cfg.Centre.ID+"/sensor/t1/state", 1, false, `{"temperature_c": 19.5}`); tok.Wait() && tok.Error() != nil {
				t.Fatal(tok.Error())
			}
			waitE2E(t, g, 30*time.Second, "a reading on the chart", func() bool { return len(charts(g)["t1"]) == 1 })
		})
	}
}

// TestReplayHandoverCharts: a replay's readings are on the charts of the gateway
// made on the spool directory it hands over to (the demo's first minute).
func TestReplayHandoverCharts(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Centre.ID = "h3"
	cfg.MQTT.URL = "tcp://127.0.0.1:1"
	cfg.Spool.Dir = t.TempDir()
	cfg.Status.Listen = config.StatusOff
	cfg.Zones = []config.Zone{{ID: "room-1", Kind: "living"}}
	cfg.Sensors = []config.Sensor{{ID: "t1", Zone: "room-1", Source: "saqshy", Topic: "saqshy/h3/sensor/t1"}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	from := now.Add(-30 * time.Hour)
	rp, err := NewReplay(cfg, from, discard{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	for at := from; at.Before(now); at = at.Add(5 * time.Minute) {
		m := telemetry.Message{Topic: "saqshy/h3/sensor/t1/state", Payload: []byte(`{"temperature_c": 21.5}`), Received: at}
		if err := rp.At(t.Context(), at, []telemetry.Message{m}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rp.End(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	if err := rp.Handover(cfg.Spool.Dir); err != nil {
		t.Fatal(err)
	}
	g, err := New(cfg, Options{Clock: FixedSync(true)})
	if err != nil {
		t.Fatal(err)
	}
	h := charts(g)["t1"]
	if len(h) < status.HistoryBuckets-1 || h[len(h)-1].Mean != 21.5 {
		t.Fatalf("%d buckets on the chart after the handover, want the replayed day's %d", len(h), status.HistoryBuckets)
	}
}

// discard takes a replay's events and keeps nothing.
type discard struct{}

func (discard) Append(context.Context, ...telemetry.Event) error { return nil }
