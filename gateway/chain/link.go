package chain

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Header names of a link.
const (
	HeaderCentre    = "Saqshy-Centre"
	HeaderKey       = "Saqshy-Key"
	HeaderSeq       = "Saqshy-Seq"
	HeaderPrev      = "Saqshy-Prev"
	HeaderBody      = "Saqshy-Body"
	HeaderSignature = "Saqshy-Signature"
)

// Hash is a sha256 digest.
type Hash [sha256.Size]byte

// String returns h in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros (the Prev of a chain's first link).
func (h Hash) IsZero() bool { return h == Hash{} }

// ParseHash parses 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("hash %q: want %d hex digits, got %d", clip(s), 2*len(h), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash %q: %w", clip(s), err)
	}
	return h, nil
}

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// BodyHash returns the sha256 of an uncompressed request body.
func BodyHash(body []byte) Hash { return sha256.Sum256(body) }

// Link is one signed link of a centre's chain.
type Link struct {
	Centre    string `json:"centre"`
	Key       string `json:"key"` // Fingerprint of the signing key
	Seq       uint64 `json:"seq"`
	Prev      Hash   `json:"prev"`
	Body      Hash   `json:"body_sha256"`
	Precision string `json:"precision"`
	Signature []byte `json:"sig"`
}

const messageVersion = "saqshy-link-v1"

// Message returns the bytes the signature covers.
func (l *Link) Message() []byte {
	var b bytes.Buffer
	b.Grow(200 + len(l.Centre))
	b.WriteString(messageVersion)
	b.WriteByte('\n')
	b.WriteString(l.Centre)
	b.WriteByte('\n')
	b.WriteString(l.Key)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(l.Seq, 10))
	b.WriteByte('\n')
	b.WriteString(l.Prev.String())
	b.WriteByte('\n')
	b.WriteString(l.Body.String())
	b.WriteByte('\n')
	b.WriteString(precisionOrDefault(l.Precision))
	b.WriteByte('\n')
	return b.Bytes()
}

// Hash returns the link's hash: sha256 of its message. The next link's Prev.
func (l *Link) Hash() Hash { return sha256.Sum256(l.Message()) }

// Sign fills l.Key and l.Signature with key's fingerprint and signature.
func (l *Link) Sign(key ed25519.PrivateKey) {
	l.Key = Fingerprint(key.Public().(ed25519.PublicKey))
	l.Signature = ed25519.Sign(key, l.Message())
}

// Errors of Verify, to tell a wrong key from a bad signature.
var (
	ErrWrongKey     = errors.New("link is signed by another key")
	ErrBadSignature = errors.New("bad link signature")
)

// Verify checks l's signature with pub and that body is the body l names. It does
// not look at the sequence (that is the ingest's business).
func (l *Link) Verify(pub ed25519.PublicKey, body []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("public key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	if fp := Fingerprint(pub); l.Key != fp {
		return fmt.Errorf("%w: key %s, the centre's key is %s", ErrWrongKey, l.Key, fp)
	}
	if !ed25519.Verify(pub, l.Message(), l.Signature) {
		return fmt.Errorf("%w: centre %s seq %d", ErrBadSignature, l.Centre, l.Seq)
	}
	if got := BodyHash(body); got != l.Body {
		return fmt.Errorf("%w: body sha256 %s, the link names %s", ErrBadSignature, got, l.Body)
	}
	return nil
}

// SetHeaders writes l into h.
func (l *Link) SetHeaders(h http.Header) {
	h.Set(HeaderCentre, l.Centre)
	h.Set(HeaderKey, l.Key)
	h.Set(HeaderSeq, strconv.FormatUint(l.Seq, 10))
	h.Set(HeaderPrev, l.Prev.String())
	h.Set(HeaderBody, l.Body.String())
	h.Set(HeaderSignature, base64.StdEncoding.EncodeToString(l.Signature))
}

// ErrUnsigned is returned by ParseHeaders when a request carries no link at all.
var ErrUnsigned = errors.New("request is not signed (no " + HeaderSignature + " header)")

// maxCentre bounds a centre id in a header.
const maxCentre = 128

// ParseHeaders reads a link from h; precision is the request's precision query
// parameter. Every error names the header that is wrong.
func ParseHeaders(h http.Header, precision string) (Link, error) {
	var l Link
	if len(h.Values(HeaderSignature)) == 0 && len(h.Values(HeaderCentre)) == 0 {
		return l, ErrUnsigned
	}
	get := func(name string) (string, error) {
		v := h.Values(name)
		switch {
		case len(v) == 0 || v[0] == "":
			return "", fmt.Errorf("header %s is missing", name)
		case len(v) > 1:
			return "", fmt.Errorf("header %s is given %d times", name, len(v))
		}
		return v[0], nil
	}
	var err error
	if l.Centre, err = get(HeaderCentre); err != nil {
		return l, err
	}
	if err := checkID(l.Centre); err != nil {
		return l, fmt.Errorf("header %s: %w", HeaderCentre, err)
	}
	if l.Key, err = get(HeaderKey); err != nil {
		return l, err
	}
	if len(l.Key) != 16 || strings.Trim(l.Key, "0123456789abcdef") != "" {
		return l, fmt.Errorf("header %s %q: want 16 lower-case hex digits", HeaderKey, clip(l.Key))
	}
	s, err := get(HeaderSeq)
	if err != nil {
		return l, err
	}
	if l.Seq, err = strconv.ParseUint(s, 10, 64); err != nil || l.Seq == 0 || s[0] == '+' || s[0] == '0' {
		return l, fmt.Errorf("header %s %q: want a decimal number from 1", HeaderSeq, clip(s))
	}
	if s, err = get(HeaderPrev); err != nil {
		return l, err
	}
	if l.Prev, err = ParseHash(s); err != nil {
		return l, fmt.Errorf("header %s: %w", HeaderPrev, err)
	}
	if s, err = get(HeaderBody); err != nil {
		return l, err
	}
	if l.Body, err = ParseHash(s); err != nil {
		return l, fmt.Errorf("header %s: %w", HeaderBody, err)
	}
	if s, err = get(HeaderSignature); err != nil {
		return l, err
	}
	if l.Signature, err = base64.StdEncoding.Strict().DecodeString(s); err != nil || len(l.Signature) != ed25519.SignatureSize {
		return l, fmt.Errorf("header %s: want %d bytes in padded base64", HeaderSignature, ed25519.SignatureSize)
	}
	if l.Precision, err = ParsePrecision(precision); err != nil {
		return l, err
	}
	return l, nil
}

// ParsePrecision checks a write's precision query parameter; "" means "ns".
func ParsePrecision(p string) (string, error) {
	switch p = precisionOrDefault(p); p {
	case "ns", "us", "ms", "s":
		return p, nil
	}
	return "", fmt.Errorf("precision %q: want ns, us, ms or s", clip(p))
}

func precisionOrDefault(p string) string {
	if p == "" {
		return "ns"
	}
	return p
}

// checkID accepts the characters of a centre id: letters, digits, '-', '_' and '.'.
func checkID(s string) error {
	if len(s) > maxCentre {
		return fmt.Errorf("centre id longer than %d bytes", maxCentre)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("centre id %q: only letters, digits, '-', '_' and '.'", clip(s))
		}
	}
	if s == "." || s == ".." {
		return fmt.Errorf("centre id %q is not a name", s)
	}
	return nil
}

// CheckCentre reports whether s is usable as a centre id in a link (and as a
// file name at the ingest).
func CheckCentre(s string) error {
	if s == "" {
		return errors.New("centre id is empty")
	}
	return checkID(s)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
