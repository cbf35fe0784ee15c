package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/alert"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

// TestDemoIncident: the demo centre's kitchen chiller incident, compressed to
// seconds, goes through a real Mosquitto and the whole gateway: the chiller warms
// above its limit, the alert fires and shows on the status page with its
// Acknowledge button, and when the chiller cools down again it resolves and leaves
// the page.
func TestDemoIncident(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	centre := sim.NewCentre("incident-c1", 11)
	now := time.Now()
	in, err := sim.AddIncident(centre, "food-fridge", now, time.Hour, 6*time.Second, 8, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	in.First = now.Add(2 * time.Second) // not the next whole minute: the test has no minute to spare
	cfg := centre.Config
	cfg.MQTT.URL, cfg.MQTT.ClientID = mq.URL(), "saqshy-incident"
	cfg.Spool.Dir = filepath.Join(t.TempDir(), "spool")
	cfg.Status.Listen = "127.0.0.1:0"
	cfg.Cameras = nil
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		Clock: FixedSync(true)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	pub, err := sim.Connect(mq.URL(), "incident-sim")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	simDone := make(chan error, 1)
	go func() { simDone <- centre.Run(ctx, pub, 500*time.Millisecond) }()

	chiller := func() (alert.Open, bool) {
		for _, a := range g.Alerts() {
			if a.Subject == in.Device.Sensor.ID && a.Kind == "temperature_high" {
				return a, true
			}
		}
		return alert.Open{}, false
	}
	page := func() string {
		addr := g.StatusAddr()
		if addr == nil {
			return ""
		}
		req, _ := http.NewRequest("GET", "http://"+addr.String()+"/", nil)
		req.Header.Set("Accept-Language", "en")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	wait := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; alerts %+v", what, g.Alerts())
			}
		}
	}
	if _, ok := chiller(); ok {
		t.Fatal("the chiller alert is open before the incident")
	}
	wait("the chiller alert", 20*time.Second, func() bool { a, ok := chiller(); return ok && a.State == alert.Firing })
	a, _ := chiller()
	if fired := time.Since(in.First); fired < in.Hold {
		t.Errorf("fired %s into the incident, before its %s hold", fired, in.Hold)
	}
	if a.Severity != "warning" || a.Zone != "food-fridge" {
		t.Errorf("alert %+v", a)
	}
	// the rules' running holds are kept beside the alert state (rules.Options.StateFile)
	wait("the rules state file", 5*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(cfg.Spool.Dir, "alerts", "rules-state.json"))
		return err == nil && strings.Contains(string(b), `"`+in.Device.Sensor.ID+`":{"holds":[{"limit":"temperature_c\u003e8/2s/warning/temperature_high"`)
	})
	wait("the alert on the status page", 10*time.Second, func() bool {
		p := page()
		return strings.Contains(p, `action="/api/alerts/`+a.ID+`/ack"`) && strings.Contains(p, "Acknowledge") && strings.Contains(p, "Kitchen chiller")
	})
	wait("the chiller alert resolved", 20*time.Second, func() bool { a, ok := chiller(); return !ok || a.State == alert.Resolved })
	if time.Now().Before(in.First.Add(in.Warm)) {
		t.Error("resolved while the incident was still under way")
	}
	if strings.Contains(page(), `action="/api/alerts/`+a.ID+`/ack"`) {
		t.Error("the resolved alert is still on the status page")
	}
	cancel()
	if err := <-simDone; err != nil {
		t.Error(err)
	}
}
