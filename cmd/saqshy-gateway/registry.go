package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/registry"
)

const registryHelp = `Usage: saqshy-gateway registry install [--config FILE] BUNDLE
       saqshy-gateway registry show [--config FILE]

The ministry's registry bundle for this centre (docs/RATING.md).

install  installs a bundle from a file (a centre with no uplink yet, or at
         enrolment): it must be signed by the ministry key the config pins, be for
         this centre, be in effect, and not be older than the one installed. A
         refused bundle leaves the installed one in force. The running gateway
         takes a new bundle into effect at its next restart
         (sudo systemctl restart saqshy-gateway). Run it as the saqshy user
         (sudo -u saqshy ...) so that the bundle is written where the service reads it.
show     prints the bundle in force: version, centre, what it registers, and
         whether the local config weakens it.
`

func registryCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, registryHelp)
		return 2
	}
	switch args[0] {
	case "install":
		return registryInstallCmd(args[1:], stdout, stderr)
	case "show":
		return registryShowCmd(args[1:], stdout, stderr)
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, registryHelp)
		return 0
	}
	fmt.Fprintf(stderr, "saqshy-gateway registry: unknown subcommand %q\n\n%s", args[0], registryHelp)
	return 2
}

// openRegistryStore loads the config and opens its registry store.
func openRegistryStore(cmd, cfgPath string, stderr io.Writer) (*config.Config, *registry.Store, bool) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprintf(stderr, "saqshy-gateway registry %s: the config has errors; fix them first (saqshy-gateway check-config %s)\n", cmd, cfgPath)
		return nil, nil, false
	}
	if !cfg.Registry.Enabled() {
		fmt.Fprintf(stderr, "saqshy-gateway registry %s: %s pins no ministry key: add a registry section with public_key_file (the ministry.pub handed over at install), see docs/INSTALL.md\n", cmd, cfgPath)
		return nil, nil, false
	}
	store, err := registry.OpenPinned(cfg, nil)
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway registry %s: %v\n", cmd, err)
		return nil, nil, false
	}
	return cfg, store, true
}

func registryInstallCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("registry install", registryHelp, stderr)
	cfgPath := fs.String("config", "/etc/saqshy/centre.yaml", "centre config `file`")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	cfg, store, ok := openRegistryStore("install", *cfgPath, stderr)
	if !ok {
		return 1
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway registry install: %v\n", err)
		return 1
	}
	before := store.Version()
	e, changed, err := store.Install(data)
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway registry install: %s is refused: %v\n", fs.Arg(0), err)
		if before > 0 {
			fmt.Fprintf(stderr, "the installed registry v%d stays in force (%s)\n", before, cfg.Registry.BundlePath())
		} else {
			fmt.Fprintln(stderr, "no registry is installed: the centre stays unrated")
		}
		return 1
	}
	if !changed {
		fmt.Fprintf(stdout, "registry v%d for %s is already installed (%s): nothing to do\n", e.Version, e.Centre.ID, cfg.Registry.BundlePath())
	} else {
		fmt.Fprintf(stdout, "installed registry v%d for %s (%s, region %s) in %s", e.Version, e.Centre.ID, e.Centre.Name, e.Centre.Region, cfg.Registry.BundlePath())
		if before > 0 {
			fmt.Fprintf(stdout, ", replacing v%d", before)
		}
		fmt.Fprintln(stdout, "\nthe running gateway takes it into effect at its next restart: sudo systemctl restart saqshy-gateway")
	}
	if errs := registry.Check(cfg, e); len(errs) > 0 {
		fmt.Fprintf(stdout, "\n%s weakens registry v%d in %d place(s); the gateway runs on the registry's values there, and check-config fails until the config is fixed:\n", *cfgPath, e.Version, len(errs))
		for _, err := range errs {
			fmt.Fprintf(stdout, "  %v\n", err)
		}
	}
	return 0
}

func registryShowCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("registry show", registryHelp, stderr)
	cfgPath := fs.String("config", "/etc/saqshy/centre.yaml", "centre config `file`")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	cfg, store, ok := openRegistryStore("show", *cfgPath, stderr)
	if !ok {
		return 1
	}
	if err := store.Problem(); err != nil {
		fmt.Fprintf(stdout, "%v\n", err)
	}
	e := store.Current()
	if e == nil {
		fmt.Fprintf(stdout, "unrated: no registry bundle in force in %s: this centre's score is not rated\n", cfg.Registry.Dir)
		fmt.Fprintf(stdout, "config hash: %s\n", registry.EffectiveHash(cfg))
		return 0
	}
	var b strings.Builder
	fmt.Fprintf(&b, "registry v%d in force (%s)\n", e.Version, cfg.Registry.BundlePath())
	fmt.Fprintf(&b, "centre:      %s (%s), region %s, time zone %s\n", e.Centre.ID, e.Centre.Name, e.Centre.Region, e.Centre.Timezone)
	if !e.NotBefore.IsZero() {
		fmt.Fprintf(&b, "in effect:   from %s\n", e.NotBefore.Format(time.RFC3339))
	}
	required := 0
	for _, z := range e.Zones {
		if z.Required() {
			required++
		}
	}
	fmt.Fprintf(&b, "registers:   %d zones (%d to be covered by cameras), %d sensors, %d checkpoints, %d badges, %d recipients\n",
		len(e.Zones), required, len(e.Sensors), len(e.Rounds.Checkpoints), len(e.Rounds.Badges), len(e.Recipients))
	if len(e.Rounds.Checkpoints) > 0 {
		fmt.Fprintf(&b, "rounds:      window %s, every %s\n", e.Rounds.Window, e.Rounds.Interval)
	}
	fmt.Fprintf(&b, "score:       weights %s, caps %s\n", e.Score.WeightsVersion, e.Score.Caps)
	errs := registry.Check(cfg, e)
	fmt.Fprintf(&b, "config hash: %s (effective config, as in the heartbeat)\n", registry.EffectiveHash(registry.Apply(cfg, e)))
	if len(errs) == 0 {
		fmt.Fprintf(&b, "%s obeys it\n", *cfgPath)
	} else {
		fmt.Fprintf(&b, "%s weakens it in %d place(s); the gateway runs on the registry's values there:\n", *cfgPath, len(errs))
		for _, err := range errs {
			fmt.Fprintf(&b, "  %v\n", err)
		}
	}
	io.WriteString(stdout, b.String())
	return 0
}
