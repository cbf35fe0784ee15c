package ingest

import (
	"bufio"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/saqshy/saqshy/gateway/chain"
)

// Keys looks up a centre's registered gateway key. The ministry's registry
// (gateway/registry) implements it; FileKeys is a small file-backed one for tests
// and demos.
type Keys interface {
	// Key returns centre's public key, or an error wrapping ErrUnknownCentre.
	Key(centre string) (ed25519.PublicKey, error)
}

// ErrUnknownCentre is wrapped by Keys when a centre has no registered key.
var ErrUnknownCentre = errors.New("centre has no registered gateway key")

// FileKeys is a Keys read from a text file: one centre per line,
//
//	<centre-id> ed25519:<base64 of the 32-byte public key>
//
// with blank lines and lines starting with # ignored.
type FileKeys map[string]ed25519.PublicKey

// LoadKeys reads a keys file; errors name the line.
func LoadKeys(path string) (FileKeys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	defer f.Close()
	keys := FileKeys{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("keys %s:%d: want \"<centre> ed25519:<base64>\", got %d fields", path, n, len(fields))
		}
		if err := chain.CheckCentre(fields[0]); err != nil {
			return nil, fmt.Errorf("keys %s:%d: %w", path, n, err)
		}
		if _, dup := keys[fields[0]]; dup {
			return nil, fmt.Errorf("keys %s:%d: centre %s is listed twice", path, n, fields[0])
		}
		pub, err := chain.ParsePublicKey(fields[1])
		if err != nil {
			return nil, fmt.Errorf("keys %s:%d: %w", path, n, err)
		}
		keys[fields[0]] = pub
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("keys %s: %w", path, err)
	}
	return keys, nil
}

// Key implements Keys.
func (k FileKeys) Key(centre string) (ed25519.PublicKey, error) {
	pub, ok := k[centre]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownCentre, centre)
	}
	return pub, nil
}
