package gateway

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/status"
)

// This file is the gateway's side of the ministry registry (docs/RATING.md): at
// New it opens the bundle store and, when a bundle is in force, runs on
// registry.Apply's effective config; while running it fetches newer bundles and
// installs them for the next start.

// ministry is the registry state of a running gateway.
type ministry struct {
	store *registry.Store // nil: no ministry key pinned (unrated), or the key is unreadable
	// Fixed at New: the bundle in force, the hash of the effective config, how
	// many local settings weaken the registry, why the centre is unrated.
	version    int64
	hash       string
	overridden int
	problem    string

	mu        sync.Mutex
	pending   int64     // a newer version installed while running; 0 if none
	lastFetch time.Time // when the last fetch ended
	fetchErr  string    // its error; "" after a good fetch
}

// openRegistry opens the registry store the config pins and returns the config
// to run on: cfg itself without a bundle in force (unrated), else
// registry.Apply's effective config. A local setting that weakens the registry
// is logged at ERROR and has no effect. Nothing here stops the gateway: a centre
// whose bundle cannot be read still monitors its residents' safety, unrated.
func openRegistry(cfg *config.Config, now func() time.Time, log *slog.Logger) (*config.Config, *ministry) {
	m := &ministry{}
	defer func() { m.hash = registry.EffectiveHash(cfg) }()
	if !cfg.Registry.Enabled() {
		log.Info("no registry section: this centre's score is not rated")
		return cfg, m
	}
	store, err := registry.OpenPinned(cfg, now)
	if err != nil {
		m.problem = err.Error()
		log.Error("the ministry registry cannot be opened: this centre's score is not rated until it is fixed", "err", err)
		return cfg, m
	}
	m.store = store
	if err := store.Problem(); err != nil {
		m.problem = err.Error()
		log.Error("the installed registry bundle is refused: this centre's score is not rated", "err", err)
	}
	e := store.Current()
	if e == nil {
		log.Warn("no registry bundle installed: this centre's score is not rated until one is (saqshy-gateway registry install, or registry.url)",
			"dir", cfg.Registry.Dir)
		return cfg, m
	}
	errs := registry.Check(cfg, e)
	for _, err := range errs {
		log.Error("a local setting weakens the registry: the gateway runs on the registry's value", "err", err)
	}
	m.version, m.overridden = e.Version, len(errs)
	cfg = registry.Apply(cfg, e)
	log.Info("running under the ministry registry", "version", e.Version, "centre", e.Centre.ID, "overridden", len(errs))
	return cfg, m
}

// statusRegistry is the registry card of the status page.
func (m *ministry) status() status.Registry {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := status.Registry{Version: m.version, Pending: m.pending, Overridden: m.overridden, Problem: m.problem, ConfigHash: m.hash}
	if m.fetchErr != "" {
		r.Problem = m.fetchErr
	}
	return r
}

// RegistryState is the registry the gateway runs under, for the status page,
// the heartbeat and tests.
type RegistryState struct {
	Version    int64  // in force; 0: unrated
	ConfigHash string // registry.EffectiveHash of the effective config
	Pending    int64  // newer version installed while running; takes effect at the next start
	Overridden int    // local settings that weaken the registry, overridden
	Problem    string // why unrated, or why the last fetch failed
	LastFetch  time.Time
}

// Registry returns the registry state. Safe for concurrent use.
func (g *Gateway) Registry() RegistryState {
	m := g.ministry
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.problem
	if m.fetchErr != "" {
		p = m.fetchErr
	}
	return RegistryState{Version: m.version, ConfigHash: m.hash, Pending: m.pending, Overridden: m.overridden, Problem: p, LastFetch: m.lastFetch}
}

// fetchRetryMin is the first retry after a failed fetch; it doubles up to
// registry.fetch_every.
const fetchRetryMin = time.Minute

// fetchRegistry fetches the centre's bundle from registry.url at once, then every
// registry.fetch_every (sooner after a failure, backing off), until ctx ends. A
// newer bundle is installed on disk and takes effect at the next start; a bundle
// that is refused (bad signature, older, another centre's) leaves the last good
// one in force. It never blocks the reading path.
func (g *Gateway) fetchRegistry(ctx context.Context) {
	every := g.cfg.Registry.FetchEvery.Std()
	retry := fetchRetryMin
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := g.fetchOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		next := every
		if err != nil && !errors.Is(err, registry.ErrNotYet) {
			next, retry = min(retry, every), min(retry*2, every)
		} else {
			retry = fetchRetryMin
		}
		t.Reset(next)
	}
}

func (g *Gateway) fetchOnce(ctx context.Context) error {
	m, url := g.ministry, g.cfg.Registry.URL
	data, err := registry.Fetch(ctx, g.opt.RegistryClient, url)
	if err == nil {
		var e *registry.Entry
		var changed bool
		if e, changed, err = m.store.Install(data); err == nil && changed {
			m.mu.Lock()
			m.pending = e.Version
			m.mu.Unlock()
			g.log.Warn("registry bundle installed: it takes effect at the next restart (systemctl restart saqshy-gateway)",
				"version", e.Version, "running", m.version)
		}
	}
	m.mu.Lock()
	m.lastFetch = g.opt.Clock.Now()
	m.fetchErr = ""
	if err != nil && ctx.Err() == nil {
		m.fetchErr = err.Error()
	}
	m.mu.Unlock()
	switch {
	case err == nil || ctx.Err() != nil:
	case errors.Is(err, registry.ErrNotYet):
		g.log.Info("registry bundle fetched, not in effect yet: the installed one stays in force", "url", url, "err", err)
	case errors.Is(err, registry.ErrSignature), errors.Is(err, registry.ErrKey), errors.Is(err, registry.ErrOlder),
		errors.Is(err, registry.ErrOtherCentre), errors.Is(err, registry.ErrBundle):
		g.log.Error("registry bundle refused: the last good one stays in force", "url", url, "installed", m.store.Version(), "err", err)
	default:
		g.log.Warn("registry fetch failed: will retry", "url", url, "err", err)
	}
	return err
}
