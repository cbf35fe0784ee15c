package doctor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/registry"
)

// registryTimeout bounds the fetch of the registry bundle.
const registryTimeout = 20 * time.Second

// checkRegistry reports the ministry registry: the bundle in force (version,
// centre), whether the local config weakens it, and what registry.url serves
// now (fetched and verified, never installed: the gateway installs it).
func checkRegistry(ctx context.Context, cfg *config.Config, opt *Options) Check {
	c := Check{Name: "registry"}
	r := cfg.Registry
	if !r.Enabled() {
		c.Status, c.Title = Skip, "No ministry registry pinned (no registry section): this centre's score is not rated"
		return c
	}
	key, err := registry.PinnedKey(r)
	if err != nil {
		c.Status, c.Title = Fail, "The pinned ministry key cannot be read: the centre runs unrated"
		c.Items = []Item{{Fail, err.Error()}}
		c.Fix = "put the ministry.pub handed over at install where registry.public_key_file says (readable by the saqshy user), or its line in registry.public_key"
		return c
	}
	store, err := registry.OpenStore(r.BundlePath(), key, cfg.Centre.ID, opt.Now)
	if err != nil {
		c.Status, c.Title = Fail, "The registry store cannot be opened"
		c.Items = []Item{{Fail, err.Error()}}
		return c
	}
	e := store.Current()
	switch {
	case store.Problem() != nil:
		c.Status, c.Title = Fail, "The installed registry bundle is refused: the centre runs unrated"
		c.Items = append(c.Items, Item{Fail, store.Problem().Error()})
		c.Fix = "install the ministry's bundle for this centre again: sudo -u saqshy saqshy-gateway registry install FILE"
	case e == nil:
		c.Status, c.Title = Warn, fmt.Sprintf("No registry bundle installed in %s: this centre's score is not rated", r.Dir)
		c.Fix = "install the bundle the ministry signed for this centre: sudo -u saqshy saqshy-gateway registry install FILE"
		if r.URL != "" {
			c.Fix += " (or wait for the gateway to fetch it from registry.url)"
		}
	default:
		c.Status = Pass
		c.Title = fmt.Sprintf("Registry v%d in force for %s (%s, region %s)", e.Version, e.Centre.ID, e.Centre.Name, e.Centre.Region)
		if errs := registry.Check(cfg, e); len(errs) > 0 {
			c.Status = Fail
			c.Title += fmt.Sprintf(": the config weakens it in %d place(s)", len(errs))
			for _, err := range errs {
				c.Items = append(c.Items, Item{Fail, err.Error()})
			}
			c.Fix = "correct these lines to the registry's values (the gateway runs on the registry's values there, and check-config fails until they are fixed)"
		}
	}
	if r.URL == "" {
		c.Items = append(c.Items, Item{Skip, "no registry.url: bundles are installed from a file only"})
		return c
	}
	fctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	data, err := registry.Fetch(fctx, opt.RegistryClient, r.URL)
	if err != nil {
		c.Items = append(c.Items, Item{Warn, fmt.Sprintf("fetch: %v", err)})
		if c.Status == Pass {
			c.Status = Warn
			c.Fix = "check that the monitor serves this centre's bundle at registry.url and that the Pi reaches it over HTTPS; the bundle in force stays meanwhile"
		}
		return c
	}
	got, err := registry.Verify(data, key)
	if err == nil {
		err = registry.Admit(got, cfg.Centre.ID, store.Version(), opt.Now())
	}
	switch {
	case errors.Is(err, registry.ErrNotYet):
		c.Items = append(c.Items, Item{Pass, fmt.Sprintf("fetch: %s serves v%d, not in effect yet (%v)", r.URL, got.Version, err)})
	case err != nil:
		c.Items = append(c.Items, Item{Fail, fmt.Sprintf("fetch: %s serves a bundle the gateway refuses: %v", r.URL, err)})
		c.Status = Fail
		c.Fix = "the monitor serves a bundle that is not this centre's current one, signed by the pinned ministry key: tell the region officer"
	case got.Version > store.Version():
		c.Items = append(c.Items, Item{Pass, fmt.Sprintf("fetch: %s serves v%d, newer: the gateway installs it at its next fetch, in effect from its next restart", r.URL, got.Version)})
	default:
		c.Items = append(c.Items, Item{Pass, fmt.Sprintf("fetch: %s serves v%d, the one installed", r.URL, got.Version)})
	}
	return c
}
