package registry

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// PinnedKey returns the ministry public key a centre config pins (its
// registry.public_key, or the file registry.public_key_file names).
func PinnedKey(r config.Registry) (ed25519.PublicKey, error) {
	switch {
	case r.PublicKey != "":
		pub, err := ParsePublicKey([]byte(r.PublicKey))
		if err != nil {
			return nil, fmt.Errorf("registry.public_key: %w", err)
		}
		return pub, nil
	case r.PublicKeyFile != "":
		data, err := os.ReadFile(r.PublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("registry.public_key_file: %w", err)
		}
		pub, err := ParsePublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("registry.public_key_file %s: %w", r.PublicKeyFile, err)
		}
		return pub, nil
	}
	return nil, errors.New("no ministry key is pinned (registry.public_key or public_key_file): the centre is unrated")
}

// OpenPinned opens the store of the centre config cfg: the bundle in
// cfg.Registry.Dir, trusted with the pinned ministry key, for cfg's centre. The
// directory is made when missing. now is the clock (nil: time.Now).
func OpenPinned(cfg *config.Config, now func() time.Time) (*Store, error) {
	pub, err := PinnedKey(cfg.Registry)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Registry.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("registry.dir: %w", err)
	}
	return OpenStore(cfg.Registry.BundlePath(), pub, cfg.Centre.ID, now)
}
