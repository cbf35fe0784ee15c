package config

import (
	"testing"
	"time"
)

func TestRegistryDefaults(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(`centre: {id: c1}
spool: {dir: /srv/spool}
registry:
  public_key: iBXmfTGn7WdtCqJB1EJ91fvjxUbR7ihF8tSfs1WvSKU=
  url: https://monitor.example/registry/v1/c1.bundle
`))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Registry
	if !r.Enabled() || r.Dir != "/srv/spool/registry" || r.FetchEvery.Std() != time.Hour {
		t.Fatalf("registry = %+v, want enabled, dir /srv/spool/registry, fetch_every 1h", r)
	}
	if got := r.BundlePath(); got != "/srv/spool/registry/registry.bundle" {
		t.Errorf("BundlePath = %q", got)
	}
	if got := cfg.Line("registry.url"); got != 5 {
		t.Errorf("line of registry.url = %d, want 5", got)
	}

	cfg, err = Parse("c.yaml", []byte("centre: {id: c1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Registry.Enabled() || cfg.Registry.Dir != "" || cfg.Registry.FetchEvery != 0 {
		t.Fatalf("without a registry section: %+v, want the zero value (unrated)", cfg.Registry)
	}
}
