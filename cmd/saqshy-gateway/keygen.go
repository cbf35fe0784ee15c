package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/saqshy/saqshy/gateway/chain"
)

// DefaultKeyFile is where keygen writes the gateway's key.
const DefaultKeyFile = "/etc/saqshy/gateway.key"

const keygenHelp = `Usage: saqshy-gateway keygen [--key PATH]

Makes this gateway's identity: an Ed25519 private key written to PATH (default
` + DefaultKeyFile + `, mode 0600, owned by whoever runs the command: run it as
root, then chown saqshy:saqshy it). It prints the public key and its short
fingerprint: give both to the ministry for the registry, and set
influx.sign.key_file to PATH. The private key is never printed, logged or shown.
It refuses to overwrite an existing key: the key is the gateway's identity.
`

func keygenCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("keygen", keygenHelp, stderr)
	path := fs.String("key", DefaultKeyFile, "file to write the private key to")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "saqshy-gateway keygen: unexpected argument %q (use --key PATH)\n", fs.Arg(0))
		return 2
	}
	if dir := filepath.Dir(*path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintf(stderr, "saqshy-gateway keygen: %v\n", err)
			return 1
		}
	}
	priv, err := chain.GenerateKey(*path)
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway keygen: %v\n", err)
		return 1
	}
	pub := priv.Public().(ed25519.PublicKey)
	fmt.Fprintf(stdout, "private key: %s (mode 0600; never copy it off this gateway)\n", *path)
	fmt.Fprintf(stdout, "public key:  %s\n", chain.PublicKeyString(pub))
	fmt.Fprintf(stdout, "fingerprint: %s\n", chain.Fingerprint(pub))
	fmt.Fprintf(stdout, "\nGive the public key and the fingerprint to the ministry for the registry, then set\n"+
		"  influx:\n    sign:\n      key_file: %s\nin the centre config, and run saqshy-gateway doctor.\n", *path)
	return 0
}
