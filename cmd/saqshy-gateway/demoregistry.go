//go:build !nodemo

package main

import (
	"crypto/ed25519"
	_ "embed"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/registry"
)

// demoMinistryKey is the DEMO ministry private key, a copy of
// firmware-config/registry/demo-ministry.key (a test keeps them equal). It is
// public: the demo signs its centre's registry bundle with it. Never pin its
// public key on a real gateway.
//
//go:embed demo-ministry.key
var demoMinistryKey []byte

// demoDutyOfficer is the recipient the demo's registry requires.
var demoDutyOfficer = registry.Recipient{Name: "Ministry duty officer (DEMO)", Email: "duty@ministry.example", CriticalWithin: registry.Duration(30 * 60e9)}

// enrolDemo enrols the simulated centre as the ministry would: it adds the
// ministry's duty officer to the alert recipients, pins the DEMO ministry key,
// drafts the centre's registry entry from its config, signs it with the DEMO key
// and installs the bundle in <dir>/registry, so that the gateway runs under
// "registry v1". Call it before the config is validated.
func enrolDemo(cfg *config.Config, dir string) (*registry.Entry, error) {
	e, _, err := enrolDemoKey(cfg, dir, nil, time.Time{})
	return e, err
}

// enrolDemoKey is enrolDemo registering the gateway's signing key gw (when not
// nil) and its installation time (when not zero: the central rating scores the
// centre from then, as the gateway does); it also returns the signed bundle.
func enrolDemoKey(cfg *config.Config, dir string, gw ed25519.PublicKey, installed time.Time) (*registry.Entry, []byte, error) {
	priv, err := registry.ParsePrivateKey(demoMinistryKey)
	if err != nil {
		return nil, nil, fmt.Errorf("demo ministry key: %w", err)
	}
	cfg.Alerts.Recipients = append(cfg.Alerts.Recipients, config.Recipient{Name: demoDutyOfficer.Name, Lang: "en", Email: demoDutyOfficer.Email})
	pub := priv.Public().(ed25519.PublicKey)
	cfg.Registry = config.Registry{PublicKey: base64.StdEncoding.EncodeToString(pub), Dir: filepath.Join(dir, "registry")}
	cfg.ApplyDefaults()
	e := registry.FromConfig(cfg, "demo", []registry.Recipient{demoDutyOfficer})
	e.Centre.Name = "Demo centre (DEMO registry)"
	if gw != nil {
		e.Gateway = registry.Gateway{PublicKey: base64.StdEncoding.EncodeToString(gw), Installed: installed.UTC()}
	}
	bundle, err := registry.Sign(e, priv)
	if err != nil {
		return nil, nil, fmt.Errorf("demo registry: %w", err)
	}
	store, err := registry.OpenPinned(cfg, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("demo registry: %w", err)
	}
	if _, _, err := store.Install(bundle); err != nil {
		return nil, nil, fmt.Errorf("demo registry: %w", err)
	}
	return e, bundle, nil
}
