package gateway

import (
	"context"
	"log/slog"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// e2eConfig is a config for centre against the test's broker and database (in may
// be nil: spool only), with its spool in a temporary directory and no status page.
// The test adds zones, sensors, cameras or checkpoints; runE2E validates it.
func e2eConfig(t testing.TB, mq *testenv.Mosquitto, in *testenv.Influx, centre string) *config.Config {
	cfg := config.Default()
	cfg.Centre.ID = centre
	cfg.MQTT.URL, cfg.MQTT.ClientID = mq.URL(), "saqshy-"+centre
	if in != nil {
		cfg.Influx.URL, cfg.Influx.Bucket = in.URL(), in.Bucket()
	}
	cfg.Spool.Dir = t.TempDir()
	cfg.Status.Listen = config.StatusOff
	return cfg
}

// runE2E validates cfg, runs a gateway on it until the test ends (an error from Run
// fails the test) and returns it once it is connected to the broker. Without a
// logger in opt, warnings go to the test's output.
func runE2E(t testing.TB, cfg *config.Config, opt Options) *Gateway {
	t.Helper()
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	g, err := New(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	waitE2E(t, g, 30*time.Second, "the gateway to connect", func() bool { return g.Stats().MQTTConnected })
	return g
}

// waitE2E polls cond until it holds, failing after limit with what and the
// gateway's counters.
func waitE2E(t testing.TB, g *Gateway, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; stats %s %v", limit, what, g.Stats(), g.Stats().Counters)
		}
	}
}

// mqttClient connects a paho client with id to url until the test ends.
func mqttClient(t testing.TB, url, id string) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID(id))
	if tok := c.Connect(); tok.Wait() && tok.Error() != nil {
		t.Fatalf("mqtt client %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}
