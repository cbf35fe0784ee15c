package registry

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// BundleFormat names the bundle file format.
const BundleFormat = "saqshy-registry-bundle/1"

// signingContext is prefixed to the payload before signing, so that a ministry
// signature over a registry entry can never be taken for a signature over
// anything else the same key might sign.
const signingContext = "saqshy registry entry v1\n"

// Errors a bundle is refused with; test them with errors.Is.
var (
	ErrBundle      = errors.New("not a registry bundle")
	ErrKey         = errors.New("signed by another key")
	ErrSignature   = errors.New("bad signature")
	ErrOtherCentre = errors.New("bundle is for another centre")
	ErrOlder       = errors.New("bundle is older than the one installed")
	ErrNotYet      = errors.New("bundle is not valid yet")
)

// Bundle is the signed form of an entry, as a file or an HTTPS response body
// (JSON). Centre and Version repeat the signed entry's for listing without
// verifying; Verify checks they match.
type Bundle struct {
	Format  string `json:"format"`
	Centre  string `json:"centre"`
	Version int64  `json:"version"`
	// KeyID is the [Fingerprint] of the ministry key that signed it.
	KeyID string `json:"key_id"`
	// Payload is the entry's canonical bytes ([Entry.Canonical]), base64.
	Payload string `json:"payload"`
	// Signature is Ed25519 over signingContext + the payload bytes, base64.
	Signature string `json:"signature"`
}

// Fingerprint is a short name of an Ed25519 public key: "ed25519:" and the first
// 8 bytes of its SHA-256 in hex, e.g. "ed25519:3f1c0a9b5e27d4c8".
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// Sign validates e and signs it with the ministry's private key; it returns the
// bundle file's bytes.
func Sign(e *Entry, priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("registry: sign: not an Ed25519 private key")
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("registry: sign: the entry is invalid:\n%w", err)
	}
	payload, err := e.Canonical()
	if err != nil {
		return nil, fmt.Errorf("registry: sign: %w", err)
	}
	sig := ed25519.Sign(priv, append([]byte(signingContext), payload...))
	b := Bundle{
		Format:    BundleFormat,
		Centre:    e.Centre.ID,
		Version:   e.Version,
		KeyID:     Fingerprint(priv.Public().(ed25519.PublicKey)),
		Payload:   base64.StdEncoding.EncodeToString(payload),
		Signature: base64.StdEncoding.EncodeToString(sig),
	}
	out, err := json.MarshalIndent(&b, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("registry: sign: %w", err)
	}
	return append(out, '\n'), nil
}

// DecodeBundle decodes a bundle file without verifying it.
func DecodeBundle(data []byte) (*Bundle, error) {
	if len(data) > 2*MaxEntrySize {
		return nil, fmt.Errorf("%w: %d bytes is too large", ErrBundle, len(data))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Bundle
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBundle, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the bundle", ErrBundle)
	}
	if b.Format != BundleFormat {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrBundle, clip(b.Format), BundleFormat)
	}
	return &b, nil
}

// Verify checks a bundle's signature against the ministry's public key and
// returns the entry it carries, decoded and validated. It does not decide whether
// the entry may be installed: see [Admit].
func Verify(data []byte, pub ed25519.PublicKey) (*Entry, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("registry: verify: not an Ed25519 public key")
	}
	b, err := DecodeBundle(data)
	if err != nil {
		return nil, err
	}
	if want := Fingerprint(pub); b.KeyID != want {
		return nil, fmt.Errorf("%w: the bundle names key %q, the trusted ministry key is %s", ErrKey, clip(b.KeyID), want)
	}
	payload, err1 := base64.StdEncoding.DecodeString(b.Payload)
	sig, err2 := base64.StdEncoding.DecodeString(b.Signature)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%w: payload or signature is not base64", ErrBundle)
	}
	if !ed25519.Verify(pub, append([]byte(signingContext), payload...), sig) {
		return nil, fmt.Errorf("%w: the bundle for %q v%d was not signed by the ministry key %s, or was changed after signing", ErrSignature, clip(b.Centre), b.Version, Fingerprint(pub))
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	e := &Entry{}
	if err := dec.Decode(e); err != nil {
		return nil, fmt.Errorf("%w: signed payload: %v", ErrBundle, err)
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("%w: signed entry is invalid: %v", ErrBundle, err)
	}
	if e.Centre.ID != b.Centre || e.Version != b.Version {
		return nil, fmt.Errorf("%w: the bundle says %q v%d, its signed entry %q v%d", ErrBundle, clip(b.Centre), b.Version, e.Centre.ID, e.Version)
	}
	e.NotBefore = e.NotBefore.UTC()
	return e, nil
}

// Admit decides whether a verified entry may replace the installed one: it must
// be for centre, not older than installed (0: none installed; the same version
// is admitted only when its bytes are the same, which Store checks), and in
// effect at now.
func Admit(e *Entry, centre string, installed int64, now time.Time) error {
	if e.Centre.ID != centre {
		return fmt.Errorf("%w: it is for %q, this gateway is %q", ErrOtherCentre, e.Centre.ID, centre)
	}
	if e.Version < installed {
		return fmt.Errorf("%w: it is v%d, v%d is installed", ErrOlder, e.Version, installed)
	}
	if now.Before(e.NotBefore) {
		return fmt.Errorf("%w: v%d takes effect at %s (now %s)", ErrNotYet, e.Version, e.NotBefore.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// UnverifiedEntry decodes the entry a bundle carries WITHOUT checking its
// signature: for showing a bundle to a person, never for deciding anything.
func UnverifiedEntry(b *Bundle) (*Entry, error) {
	payload, err := base64.StdEncoding.DecodeString(b.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64", ErrBundle)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	e := &Entry{}
	if err := dec.Decode(e); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrBundle, err)
	}
	return e, nil
}

// GenerateKey makes a ministry (or gateway) key pair.
func GenerateKey(rand io.Reader) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand)
}

// MarshalPrivateKey writes a private key as PEM (PKCS #8, "PRIVATE KEY").
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a private key written by [MarshalPrivateKey].
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" (saqshy-registry keygen writes one)")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	return ed25519Key[ed25519.PrivateKey]("private key", k, err)
}

// ed25519Key is the key k that x509 parsed (or err) as an Ed25519 key of type K;
// what names it in the errors.
func ed25519Key[K ed25519.PrivateKey | ed25519.PublicKey](what string, k any, err error) (K, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	key, ok := k.(K)
	if !ok {
		return nil, fmt.Errorf("%s is %T, not Ed25519", what, k)
	}
	return key, nil
}

// MarshalPublicKey writes a public key as one line of standard base64, the form
// pinned in a gateway's install and written in an entry's gateway.public_key.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	return []byte(base64.StdEncoding.EncodeToString(pub) + "\n")
}

// ParsePublicKey reads a public key: one line of base64 (32 bytes), or PEM
// ("PUBLIC KEY", PKIX). Lines starting with '#' are comments.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	if blk, _ := pem.Decode(data); blk != nil {
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		return ed25519Key[ed25519.PublicKey]("public key", k, err)
	}
	var text []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			text = append(text, l)
		}
	}
	if len(text) != 1 {
		return nil, errors.New("public key: want one line of base64 (saqshy-registry keygen writes one)")
	}
	raw, err := base64.StdEncoding.DecodeString(text[0])
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key: want %d bytes of standard base64", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}
