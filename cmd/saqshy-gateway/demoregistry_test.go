//go:build !nodemo

package main

import (
	"bytes"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/sim"
)

func TestDemoKeyIsTheRepositorysDemoKey(t *testing.T) {
	want, err := os.ReadFile(demoKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(demoMinistryKey, want) {
		t.Fatal("cmd/saqshy-gateway/demo-ministry.key differs from firmware-config/registry/demo-ministry.key: copy it again")
	}
}

// TestDemoRunsUnderTheRegistry: the demo's centre is enrolled with a bundle
// signed by the DEMO key, its config obeys it, and the gateway runs under v1.
func TestDemoRunsUnderTheRegistry(t *testing.T) {
	dir := t.TempDir()
	centre := sim.NewCentre("demo-centre", 1)
	cfg := centre.Config
	sim.AddRounds(centre, time.Now(), time.Hour, 10*time.Minute)
	cfg.Spool.Dir = dir
	cfg.ApplyDefaults()
	e, err := enrolDemo(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the enrolled demo config: %v", err)
	}
	var logs bytes.Buffer
	g, err := gateway.New(cfg, gateway.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	st := g.Registry()
	if st.Version != e.Version || st.Version != 1 || st.Overridden != 0 || st.Problem != "" || st.ConfigHash == "" {
		t.Fatalf("registry state %+v, want v1 in force, nothing overridden\n%s", st, logs.String())
	}
	if got := g.Snapshot().Registry.Version; got != 1 {
		t.Errorf("status page registry version %d, want 1", got)
	}
}
