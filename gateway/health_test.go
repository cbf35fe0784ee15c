package gateway

import (
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// TestHeartbeatUnrated: without a registry section the heartbeat says
// registry_version 0 (unrated) and still carries the config's hash.
func TestHeartbeatUnrated(t *testing.T) {
	cfg := config.Default()
	cfg.Centre.ID = "c1"
	cfg.Spool.Dir = t.TempDir()
	cfg.Status.Listen = config.StatusOff
	cfg.ApplyDefaults()
	g, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var h *health
	for _, c := range g.checks {
		if hc, ok := c.(*health); ok {
			h = hc
		}
	}
	evs := h.Tick(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true)
	if len(evs) != 1 {
		t.Fatalf("%d heartbeat events", len(evs))
	}
	got := map[string]telemetry.Field{}
	for _, f := range evs[0].Point.Fields {
		got[f.Key] = f
	}
	if f, ok := got["registry_version"]; !ok || f.Kind != telemetry.IntField || f.Int != 0 {
		t.Errorf("registry_version %+v, want the integer 0", f)
	}
	if f, ok := got["config_hash"]; !ok || f.Kind != telemetry.StringField || f.Str != registry.EffectiveHash(cfg) {
		t.Errorf("config_hash %+v, want %s", f, registry.EffectiveHash(cfg))
	}
	if s := g.Snapshot().Registry; s.Version != 0 || s.ConfigHash == "" {
		t.Errorf("status registry %+v, want unrated with a hash", s)
	}
}
