package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Registry pins the ministry's registry (docs/RATING.md): the ministry's public
// key that every bundle must be signed with, where the centre's bundle is
// fetched from, and where the last good one is kept. Without it (no public_key
// and no public_key_file) the gateway runs unrated: a private home, whose score
// no rating counts.
type Registry struct {
	// PublicKey is the ministry's Ed25519 public key, standard base64 (the line
	// `saqshy-registry keygen` prints into ministry.pub). Exactly one of it and
	// PublicKeyFile.
	PublicKey string `yaml:"public_key"`
	// PublicKeyFile names a file holding the key (ministry.pub: one line of
	// base64, or PEM).
	PublicKeyFile string `yaml:"public_key_file"`
	// URL is the https:// address the centre's latest bundle is served at, e.g.
	// https://monitor.example/registry/v1/<centre>.bundle; empty: bundles are
	// installed from a file only (saqshy-gateway registry install).
	URL string `yaml:"url"`
	// Dir holds the last good bundle (default <spool.dir>/registry).
	Dir string `yaml:"dir"`
	// FetchEvery is how often the bundle is fetched from URL (default 1h, 1m to 168h).
	FetchEvery Duration `yaml:"fetch_every"`
}

// Registry defaults.
const (
	DefaultRegistryFetchEvery = Duration(time.Hour)
	// RegistryBundleFile is the name of the bundle in force in Registry.Dir.
	RegistryBundleFile = "registry.bundle"
)

// Enabled reports whether the config pins a ministry key: the gateway then obeys
// the registry bundle installed in Dir.
func (r Registry) Enabled() bool { return r.PublicKey != "" || r.PublicKeyFile != "" }

// BundlePath is the file of the bundle in force.
func (r Registry) BundlePath() string { return filepath.Join(r.Dir, RegistryBundleFile) }

// registryDefaults fills the registry section's defaults when it is configured;
// called from applyDefaults after the spool's.
func (c *Config) registryDefaults(absent func(path string) bool) {
	r := &c.Registry
	if !r.Enabled() && r.URL == "" && r.Dir == "" {
		return
	}
	if r.Dir == "" && absent("registry.dir") && c.Spool.Dir != "" {
		r.Dir = filepath.Join(c.Spool.Dir, "registry")
	}
	if r.FetchEvery == 0 && absent("registry.fetch_every") {
		r.FetchEvery = DefaultRegistryFetchEvery
	}
}

// registry checks the registry section; called from check.
func (v *checker) registry() {
	r := &v.c.Registry
	if !r.Enabled() {
		for _, f := range []struct{ path, val string }{{"registry.url", r.URL}, {"registry.dir", r.Dir}} {
			if f.val != "" {
				v.errf(f.path, "set, but no ministry key is pinned: add registry.public_key (or public_key_file) with the key the ministry gave at install, or remove the registry section to run unrated")
				return
			}
		}
		return
	}
	switch {
	case r.PublicKey != "" && r.PublicKeyFile != "":
		v.errf("registry.public_key_file", "set together with public_key: pin the ministry key once, in one of them")
	case r.PublicKey != "":
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.PublicKey))
		if err != nil || len(key) != ed25519.PublicKeySize {
			v.errf("registry.public_key", "not an Ed25519 public key: want the one line of ministry.pub (%d bytes in standard base64)", ed25519.PublicKeySize)
		}
	}
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		switch {
		case err != nil || u.Host == "":
			v.errf("registry.url", "invalid URL %q: write e.g. %q", redact(r.URL), "https://monitor.example/registry/v1/"+v.c.Centre.ID+".bundle")
		case u.Scheme != "https":
			v.errf("registry.url", "%q is not https://: bundles are fetched over HTTPS only", redact(r.URL))
		case u.User != nil:
			v.errf("registry.url", "the URL %q carries credentials: a bundle is public, its signature protects it", redact(r.URL))
		}
	}
	if strings.TrimSpace(r.Dir) == "" {
		v.errf("registry.dir", "must not be empty: leave the key out for <spool.dir>/registry")
	}
	if r.FetchEvery < Duration(time.Minute) || r.FetchEvery > Duration(7*24*time.Hour) {
		v.errf("registry.fetch_every", "must be between 1m and 168h, got %s", r.FetchEvery)
	}
}
