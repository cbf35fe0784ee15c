// Command saqshy-registry is the ministry's tool for the registry of centres:
// it checks registry entries (one YAML file per centre), makes the ministry's
// signing key, signs entries into bundles for the gateways, and verifies and
// shows bundles. See docs/RATING.md.
package main

import (
	"github.com/saqshy/saqshy/cmd/internal/cli"

	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/registry"
	"go.yaml.in/yaml/v3"
)

const usage = `saqshy-registry — the ministry's registry of centres (docs/RATING.md).

Each centre has one registry entry, a YAML file the region officers keep under
version control: its zones and kinds, the cameras that may cover each required
zone, its sensors and their longest reporting interval, the night-round
checkpoints, window and interval, the staff badges issued, the recipients the
ministry requires, the score's weights and caps. The ministry signs each entry
with its key (kept offline) into a bundle; the centre's gateway installs only
bundles signed by that key, for its own centre, never older than the one it has,
and refuses a local config that is weaker than the registry.

Usage:
  saqshy-registry <command> [flags]

Commands:
  keygen --out PREFIX        make a ministry key pair: PREFIX.key (private, mode
                             0600, keep it offline) and PREFIX.pub; prints the
                             public key and its fingerprint
  check [--centre CFG] FILE...
                             validate registry entries; every error is printed as
                             FILE:LINE: FIELD: what is wrong (exit 1). With
                             --centre, also compare a centre config with the
                             entry: every local setting weaker than the registry
                             is an error naming the local line and the registry's value
  sign --key KEY FILE -o BUNDLE
                             validate FILE and sign it into BUNDLE
  verify --pub PUB [--centre ID] BUNDLE
                             check a bundle's signature (and that it is for ID)
  show [--pub PUB] BUNDLE    print a bundle's entry as YAML (verified with --pub)
  help [command]             show help

Run 'saqshy-registry <command> --help' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type command struct {
	name string
	run  func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{{"keygen", keygen}, {"check", check}, {"sign", sign}, {"verify", verify}, {"show", show}}
}

func run(args []string, stdout, stderr io.Writer) int {
	return cli.Dispatch("saqshy-registry", usage, args, stdout, stderr, func(name string, args []string) (int, bool) {
		for _, c := range commands() {
			if c.name == name {
				return c.run(args, stdout, stderr), true
			}
		}
		return 0, false
	})
}

// newFlagSet returns a flag set that prints help text then its flags on --help.
var newFlagSet = cli.NewFlagSet

// parse parses args; ok=false means stop with code (0 after --help, 2 on a usage error).
func parse(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, 0, false
	}
	if err != nil {
		return nil, 2, false
	}
	return pos, 0, true
}

// parseInterspersed parses flags before and after the positional arguments
// ("sign --key K FILE -o BUNDLE").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

const keygenHelp = `Usage: saqshy-registry keygen --out PREFIX

Makes an Ed25519 key pair for the ministry: PREFIX.key, the private key (PEM,
mode 0600), and PREFIX.pub, the public key (one line of base64). Prints the
public key and its fingerprint: read the fingerprint to every technician who
pins the public key on a gateway at install. Keep the private key offline (an
encrypted USB stick in the ministry's safe); whoever holds it can rewrite every
centre's registry. Refuses to overwrite an existing key.
`

func keygen(argv []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("keygen", keygenHelp, stderr)
	outFlag := fs.String("out", "", "write PREFIX.key and PREFIX.pub (required)")
	args, code, ok := parse(fs, argv)
	if !ok {
		return code
	}
	if *outFlag == "" || len(args) > 0 {
		fs.Usage()
		return 2
	}
	pub, priv, err := registry.GenerateKey(rand.Reader)
	if err != nil {
		fmt.Fprintf(stderr, "keygen: %v\n", err)
		return 1
	}
	pemKey, err := registry.MarshalPrivateKey(priv)
	if err != nil {
		fmt.Fprintf(stderr, "keygen: %v\n", err)
		return 1
	}
	keyPath, pubPath := *outFlag+".key", *outFlag+".pub"
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			fmt.Fprintf(stderr, "keygen: %s exists: refusing to overwrite a key (remove it first if you really mean to)\n", p)
			return 1
		}
	}
	f, err := os.OpenFile(keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.Write(pemKey)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "keygen: %v\n", err)
		return 1
	}
	pubText := fmt.Sprintf("# saqshy registry ministry public key %s\n%s", registry.Fingerprint(pub), registry.MarshalPublicKey(pub))
	if err := os.WriteFile(pubPath, []byte(pubText), 0o644); err != nil {
		fmt.Fprintf(stderr, "keygen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "private key: %s (mode 0600: keep it offline)\npublic key:  %s\n%s", keyPath, pubPath, registry.MarshalPublicKey(pub))
	fmt.Fprintf(stdout, "fingerprint: %s\n", registry.Fingerprint(pub))
	return 0
}

const checkHelp = `Usage: saqshy-registry check [--centre centre.yaml] FILE...

Validates registry entries without signing them. Prints "FILE: OK" and a
summary for each good one; otherwise every problem, each as
FILE:LINE: FIELD: what is wrong, and exits 1.

With --centre (one FILE), also compares the centre's own config with the entry:
every local setting that weakens the registry (a zone missing or of another
kind, optional coverage, an unlisted camera, a longer sensor interval, another
night window, fewer checkpoints, a badge not issued, no ministry recipient,
score caps off, other weights, another time zone) is printed as
CENTRE:LINE: FIELD: ... naming the registry's value, and the exit code is 1.
`

func check(argv []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", checkHelp, stderr)
	centreFlag := fs.String("centre", "", "a centre config (centre.yaml) to compare with the entry")
	args, code, ok := parse(fs, argv)
	if !ok {
		return code
	}
	if len(args) == 0 || (*centreFlag != "" && len(args) != 1) {
		fs.Usage()
		return 2
	}
	for _, file := range args {
		e, err := registry.Load(file)
		if err != nil {
			fmt.Fprintln(stderr, err)
			if n := len(config.FieldErrors(err)); n > 1 {
				fmt.Fprintf(stderr, "%d problems found in %s\n", n, file)
			}
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: OK\n%s", file, summary(e))
		if *centreFlag == "" {
			continue
		}
		cfg, err := config.Load(*centreFlag)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		errs := registry.Check(cfg, e)
		for _, err := range errs {
			fmt.Fprintln(stderr, err)
		}
		if len(errs) > 0 {
			fmt.Fprintf(stderr, "%s weakens the registry in %d place(s)\n", *centreFlag, len(errs))
			return 1
		}
		fmt.Fprintf(stdout, "%s: obeys registry v%d (effective config %s)\n", *centreFlag, e.Version, registry.EffectiveHash(registry.Apply(cfg, e))[:16])
	}
	return code
}

func summary(e *registry.Entry) string {
	required := 0
	for _, z := range e.Zones {
		if z.Required() {
			required++
		}
	}
	nb := "at once"
	if !e.NotBefore.IsZero() {
		nb = e.NotBefore.Format(time.RFC3339)
	}
	return fmt.Sprintf("  centre %s (%s), region %s, %s\n  version %d, not before %s\n  %d zones (%d must be covered), %d sensors, %d checkpoints every %s in %s, %d badges\n  %d required recipient(s); weights %s, caps %s\n",
		e.Centre.ID, e.Centre.Name, e.Centre.Region, e.Centre.Timezone, e.Version, nb,
		len(e.Zones), required, len(e.Sensors), len(e.Rounds.Checkpoints), e.Rounds.Interval, e.Rounds.Window, len(e.Rounds.Badges),
		len(e.Recipients), e.Score.WeightsVersion, e.Score.Caps)
}

const signHelp = `Usage: saqshy-registry sign --key ministry.key FILE -o BUNDLE

Validates the registry entry FILE and signs it with the ministry's private key
into BUNDLE (JSON: the entry's canonical bytes, the Ed25519 signature and the
key's fingerprint). Raise the entry's version before signing a change: a gateway
refuses a bundle older than the one it has, and one with the same version but
other content. not_before in the entry is when the change takes effect.
`

func sign(argv []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sign", signHelp, stderr)
	keyFlag := fs.String("key", "", "the ministry's private key file (required)")
	outFlag := fs.String("o", "", "the bundle file to write (required)")
	args, code, ok := parse(fs, argv)
	if !ok {
		return code
	}
	if *keyFlag == "" || *outFlag == "" || len(args) != 1 {
		fs.Usage()
		return 2
	}
	keyData, err := os.ReadFile(*keyFlag)
	if err != nil {
		fmt.Fprintf(stderr, "sign: %v\n", err)
		return 1
	}
	if fi, err := os.Stat(*keyFlag); err == nil && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "sign: warning: %s is readable by others (mode %04o): chmod 600 it\n", *keyFlag, fi.Mode().Perm())
	}
	priv, err := registry.ParsePrivateKey(keyData)
	if err != nil {
		fmt.Fprintf(stderr, "sign: %s: %v\n", *keyFlag, err)
		return 1
	}
	e, err := registry.Load(args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	b, err := registry.Sign(e, priv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := registry.WriteBundle(*outFlag, b); err != nil {
		fmt.Fprintf(stderr, "sign: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %s v%d signed by %s\n", *outFlag, e.Centre.ID, e.Version, registry.Fingerprint(priv.Public().(ed25519.PublicKey)))
	return 0
}

const verifyHelp = `Usage: saqshy-registry verify --pub ministry.pub [--centre ID] BUNDLE

Checks that BUNDLE was signed by the ministry key and carries a valid entry (for
centre ID when given). Prints the centre, version and not-before time; exits 1
with the reason when the bundle is refused.
`

func verify(argv []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", verifyHelp, stderr)
	pubFlag := fs.String("pub", "", "the ministry's public key file (required)")
	centreFlag := fs.String("centre", "", "refuse a bundle for another centre id")
	args, code, ok := parse(fs, argv)
	if !ok {
		return code
	}
	if *pubFlag == "" || len(args) != 1 {
		fs.Usage()
		return 2
	}
	e, err := verifyFile(*pubFlag, args[0])
	if err == nil && *centreFlag != "" {
		err = registry.Admit(e, *centreFlag, 0, e.NotBefore)
	}
	if err != nil {
		fmt.Fprintf(stderr, "verify: %s: %v\n", args[0], err)
		return 1
	}
	nb := "at once"
	if !e.NotBefore.IsZero() {
		nb = "from " + e.NotBefore.Format(time.RFC3339)
	}
	fmt.Fprintf(stdout, "%s: OK: %s v%d, in effect %s\n", args[0], e.Centre.ID, e.Version, nb)
	return 0
}

func verifyFile(pubPath, bundlePath string) (*registry.Entry, error) {
	pubData, err := os.ReadFile(pubPath)
	if err != nil {
		return nil, err
	}
	pub, err := registry.ParsePublicKey(pubData)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pubPath, err)
	}
	data, err := readBundle(bundlePath)
	if err != nil {
		return nil, err
	}
	return registry.Verify(data, pub)
}

func readBundle(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, registry.MaxBundleSize+1))
	if err == nil && len(data) > registry.MaxBundleSize {
		err = fmt.Errorf("larger than %d bytes: not a bundle", registry.MaxBundleSize)
	}
	return data, err
}

const showHelp = `Usage: saqshy-registry show [--pub ministry.pub] BUNDLE

Prints the entry a bundle carries, as YAML. Without --pub the bundle is NOT
verified (the output says so): use it to look, never to decide.
`

func show(argv []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("show", showHelp, stderr)
	pubFlag := fs.String("pub", "", "verify with this public key file first")
	args, code, ok := parse(fs, argv)
	if !ok {
		return code
	}
	if len(args) != 1 {
		fs.Usage()
		return 2
	}
	var e *registry.Entry
	var err error
	header := ""
	if *pubFlag != "" {
		e, err = verifyFile(*pubFlag, args[0])
		header = "# verified: signed by the ministry key\n"
	} else {
		e, err = unverified(args[0])
		header = "# NOT verified (no --pub): anyone could have written this\n"
	}
	if err != nil {
		fmt.Fprintf(stderr, "show: %s: %v\n", args[0], err)
		return 1
	}
	fmt.Fprint(stdout, header)
	enc := yaml.NewEncoder(stdout)
	enc.SetIndent(2)
	if err := enc.Encode(e); err != nil {
		fmt.Fprintf(stderr, "show: %v\n", err)
		return 1
	}
	return 0
}

// unverified decodes a bundle's entry without checking its signature.
func unverified(path string) (*registry.Entry, error) {
	data, err := readBundle(path)
	if err != nil {
		return nil, err
	}
	b, err := registry.DecodeBundle(data)
	if err != nil {
		return nil, err
	}
	return registry.UnverifiedEntry(b)
}
