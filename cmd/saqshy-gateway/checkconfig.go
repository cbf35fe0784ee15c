package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/registry"
)

const checkConfigHelp = `Usage: saqshy-gateway check-config FILE [--bundle BUNDLE [--pub KEY]]

Validates a centre config without connecting anywhere. On success it prints a
summary (zones by kind, sensors by source, where data goes) and exits 0, after a
WARNING line for each thing that is valid but leaves the centre partly unwatched
(no alert recipients, no round checkpoints). Otherwise
it prints every problem at once, each as FILE:LINE: FIELD: what is wrong, and exits 1.

When the config pins a ministry key (registry:), the registry bundle in force in
registry.dir is read too, and every local setting that weakens it (a zone
dropped or relabelled, a longer sensor interval, another night window, caps off,
other weights, no ministry recipient, ...) is an error naming the local line and
the registry's value (docs/RATING.md). --bundle checks against a bundle file
instead, verified with the key in --pub (ministry.pub) or the pinned one.
`

func checkConfigCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check-config", checkConfigHelp, stderr)
	bundle := fs.String("bundle", "", "check against this registry bundle `file` instead of the one in force")
	pub := fs.String("pub", "", "the ministry public key `file` the bundle must be signed with (default: the config's pinned key)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	// FILE may come before the flags too.
	if fs.NArg() > 1 {
		file := fs.Arg(0)
		if code, ok := parseFlags(fs, fs.Args()[1:]); !ok {
			return code
		}
		if fs.NArg() != 0 {
			fs.Usage()
			return 2
		}
		fs.Parse([]string{file})
	}
	if fs.NArg() != 1 || (*pub != "" && *bundle == "") {
		fs.Usage()
		return 2
	}
	path := fs.Arg(0)
	cfg, err := config.Load(path)
	if err != nil {
		n := len(config.FieldErrors(err))
		fmt.Fprintln(stderr, err)
		if n > 1 {
			fmt.Fprintf(stderr, "%d problems found in %s\n", n, path)
		}
		return 1
	}
	e, from, err := entryInForce(cfg, *bundle, *pub)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", path, err)
		return 1
	}
	if e != nil {
		if errs := registry.Check(cfg, e); len(errs) > 0 {
			for _, err := range errs {
				fmt.Fprintln(stderr, err)
			}
			fmt.Fprintf(stderr, "%s weakens the registry v%d (%s) in %d place(s): the gateway runs on the registry's values there\n", path, e.Version, from, len(errs))
			return 1
		}
	}
	if warns := cfg.Warnings(); len(warns) == 0 {
		fmt.Fprintf(stdout, "%s: OK\n", path)
	} else {
		fmt.Fprintf(stdout, "%s: OK, with %d warning(s)\n", path, len(warns))
		for _, w := range warns {
			fmt.Fprintf(stdout, "WARNING %s\n", w)
		}
	}
	fmt.Fprint(stdout, cfg.Summary())
	for _, w := range cfg.SecretWarnings() {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	if e != nil {
		fmt.Fprintf(stdout, "registry: v%d for %s (%s); the config obeys it\n", e.Version, e.Centre.ID, from)
	} else {
		fmt.Fprintf(stdout, "registry: %s\n", from)
	}
	return 0
}

// entryInForce returns the registry entry cfg is checked against and where it is
// from: the bundle file given (verified with the key file pub, or the pinned
// key), or the bundle in force in registry.dir. nil and why when there is none
// (the centre is unrated).
func entryInForce(cfg *config.Config, bundle, pub string) (*registry.Entry, string, error) {
	if bundle != "" {
		var key []byte
		var err error
		switch {
		case pub != "":
			data, err := os.ReadFile(pub)
			if err != nil {
				return nil, "", fmt.Errorf("--pub: %w", err)
			}
			if key, err = registry.ParsePublicKey(data); err != nil {
				return nil, "", fmt.Errorf("--pub %s: %w", pub, err)
			}
		case cfg.Registry.Enabled():
			if key, err = registry.PinnedKey(cfg.Registry); err != nil {
				return nil, "", err
			}
		default:
			return nil, "", errors.New("--bundle needs the ministry key: give --pub ministry.pub, or pin it in the config's registry section")
		}
		data, err := os.ReadFile(bundle)
		if err != nil {
			return nil, "", fmt.Errorf("--bundle: %w", err)
		}
		e, err := registry.Verify(data, key)
		if err != nil {
			return nil, "", fmt.Errorf("--bundle %s is refused: %w", bundle, err)
		}
		return e, bundle, nil
	}
	if !cfg.Registry.Enabled() {
		return nil, "none (no registry section): this centre's score is not rated", nil
	}
	key, err := registry.PinnedKey(cfg.Registry)
	if err != nil {
		return nil, "", err
	}
	store, err := registry.OpenStore(cfg.Registry.BundlePath(), key, cfg.Centre.ID, nil)
	if err != nil {
		return nil, "", err
	}
	if err := store.Problem(); err != nil {
		return nil, "", fmt.Errorf("%w\nthe centre runs unrated until a good bundle is installed (saqshy-gateway registry install FILE)", err)
	}
	if e := store.Current(); e != nil {
		return e, cfg.Registry.BundlePath(), nil
	}
	return nil, fmt.Sprintf("no bundle installed in %s: this centre's score is not rated until one is (saqshy-gateway registry install FILE)", cfg.Registry.Dir), nil
}

const exampleConfigHelp = `Usage: saqshy-gateway example-config > centre.yaml

Prints a complete, commented centre config to start from.
`

func exampleConfigCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("example-config", exampleConfigHelp, stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	_, _ = stdout.Write(config.Example())
	return 0
}
