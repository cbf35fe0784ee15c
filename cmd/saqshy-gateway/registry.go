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

// registryRun is what a registry subcommand works on: the config and its registry
// store, and the arguments after the flags.
type registryRun struct {
	cfgPath string
	cfg     *config.Config
	store   *registry.Store
	args    []string
}

// startRegistryCmd parses the flags (--config) and the nargs arguments of the
// registry subcommand cmd, loads the config and opens its registry store. When ok
// is false the subcommand exits with code.
func startRegistryCmd(cmd string, args []string, nargs int, stderr io.Writer) (rc registryRun, code int, ok bool) {
	fs := newFlagSet("registry "+cmd, registryHelp, stderr)
	cfgPath := fs.String("config", "/etc/saqshy/centre.yaml", "centre config `file`")
	if code, ok := parseFlags(fs, args); !ok {
		return rc, code, false
	}
	if fs.NArg() != nargs {
		fs.Usage()
		return rc, 2, false
	}
	rc.cfgPath, rc.args = *cfgPath, fs.Args()
	cfg, err := config.Load(rc.cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprintf(stderr, "saqshy-gateway registry %s: the config has errors; fix them first (saqshy-gateway check-config %s)\n", cmd, rc.cfgPath)
		return rc, 1, false
	}
	if !cfg.Registry.Enabled() {
		fmt.Fprintf(stderr, "saqshy-gateway registry %s: %s pins no ministry key: add a registry section with public_key_file (the ministry.pub handed over at install), see docs/INSTALL.md\n", cmd, rc.cfgPath)
		return rc, 1, false
	}
	store, err := registry.OpenPinned(cfg, nil)
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway registry %s: %v\n", cmd, err)
		return rc, 1, false
	}
	rc.cfg, rc.store = cfg, store
	return rc, 0, true
}

func registryInstallCmd(args []string, stdout, stderr io.Writer) int {
	rc, code, ok := startRegistryCmd("install", args, 1, stderr)
	if !ok {
		return code
	}
	cfg, store := rc.cfg, rc.store
	data, err := os.ReadFile(rc.args[0])
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway registry install: %v\n", err)
		return 1
	}
	before := store.Version()
	e, changed, err := store.Install(data)
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway registry install: %s is refused: %v\n", rc.args[0], err)
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
		fmt.Fprintf(stdout, "\n%s weakens registry v%d in %d place(s); the gateway runs on the registry's values there, and check-config fails until the config is fixed:\n", rc.cfgPath, e.Version, len(errs))
		for _, err := range errs {
			fmt.Fprintf(stdout, "  %v\n", err)
		}
	}
	return 0
}

func registryShowCmd(args []string, stdout, stderr io.Writer) int {
	rc, code, ok := startRegistryCmd("show", args, 0, stderr)
	if !ok {
		return code
	}
	cfg, store := rc.cfg, rc.store
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
		fmt.Fprintf(&b, "%s obeys it\n", rc.cfgPath)
	} else {
		fmt.Fprintf(&b, "%s weakens it in %d place(s); the gateway runs on the registry's values there:\n", rc.cfgPath, len(errs))
		for _, err := range errs {
			fmt.Fprintf(&b, "  %v\n", err)
		}
	}
	io.WriteString(stdout, b.String())
	return 0
}
