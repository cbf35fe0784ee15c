package registry

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// Store keeps a gateway's last good bundle on disk and the entry it carries. It
// is safe for concurrent use.
type Store struct {
	path   string
	pub    ed25519.PublicKey
	centre string
	now    func() time.Time

	mu      sync.Mutex
	entry   *Entry
	payload []byte // the installed bundle's signed payload
	problem error  // why the bundle on disk was refused at open; nil if none
}

// OpenStore opens the store at path (the bundle file; it need not exist) for
// centre, trusting the ministry key pub. now is the clock (nil: time.Now).
//
// A bundle on disk that no longer verifies (tampered with, another key, another
// centre) is not used: the store starts empty (the score is unrated) and
// [Store.Problem] says why. Its not-before time is not checked again: it was in
// effect when installed, and a Pi's clock may be wrong after a power cut.
func OpenStore(path string, pub ed25519.PublicKey, centre string, now func() time.Time) (*Store, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("registry: store: the pinned ministry key is not an Ed25519 public key")
	}
	if centre == "" || path == "" {
		return nil, errors.New("registry: store: path and centre are required")
	}
	if now == nil {
		now = time.Now
	}
	s := &Store{path: path, pub: pub, centre: centre, now: now}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		s.problem = fmt.Errorf("registry: %w", err)
		return s, nil
	}
	e, payload, err := s.verify(data)
	if err == nil {
		err = Admit(e, centre, 0, e.NotBefore)
	}
	if err != nil {
		s.problem = fmt.Errorf("registry: the installed bundle %s is refused: %w", path, err)
		return s, nil
	}
	s.entry, s.payload = e, payload
	return s, nil
}

func (s *Store) verify(data []byte) (*Entry, []byte, error) {
	e, err := Verify(data, s.pub)
	if err != nil {
		return nil, nil, err
	}
	b, err := DecodeBundle(data)
	if err != nil {
		return nil, nil, err
	}
	payload, err := base64.StdEncoding.DecodeString(b.Payload)
	return e, payload, err
}

// Current returns the entry in force, or nil when none is installed (the
// centre is not rated). The entry must not be modified.
func (s *Store) Current() *Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entry
}

// Version returns the installed entry's version, 0 when none.
func (s *Store) Version() int64 {
	if e := s.Current(); e != nil {
		return e.Version
	}
	return 0
}

// Problem says why the bundle found on disk at open was refused; nil if none.
func (s *Store) Problem() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.problem
}

// Install verifies a bundle and, when it is for this centre, in effect, and not
// older than the installed one, writes it to disk (atomically) and puts it in
// force. changed is false when the very same entry was already installed. On
// any error the installed bundle stays in force, untouched.
func (s *Store) Install(data []byte) (e *Entry, changed bool, err error) {
	e, payload, err := s.verify(data)
	if err != nil {
		return nil, false, fmt.Errorf("registry: install: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var installed int64
	if s.entry != nil {
		installed = s.entry.Version
	}
	if err := Admit(e, s.centre, installed, s.now()); err != nil {
		return nil, false, fmt.Errorf("registry: install: %w", err)
	}
	if s.entry != nil && e.Version == installed {
		if bytes.Equal(payload, s.payload) {
			return s.entry, false, nil
		}
		return nil, false, fmt.Errorf("registry: install: %w: v%d is installed with other content; the ministry raises the version with every change", ErrOlder, installed)
	}
	if err := atomicfile.Write(s.path, data); err != nil {
		return nil, false, fmt.Errorf("registry: install: %w", err)
	}
	s.entry, s.payload, s.problem = e, payload, nil
	return e, true, nil
}

// WriteBundle writes a bundle file atomically (a crash leaves the old file or
// the new, never a mix), readable by all: a bundle is public, its signature is
// what protects it.
func WriteBundle(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
}

// Fetch defaults.
const (
	DefaultFetchTimeout = 30 * time.Second
	MaxBundleSize       = 2*MaxEntrySize + 4096
)

// HTTPClient returns a client for [Fetch]: TLS 1.2 or later, verified against
// roots (nil: the system's), bounded by DefaultFetchTimeout per request.
func HTTPClient(roots *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: DefaultFetchTimeout}
}

// Fetch downloads a bundle from an https:// URL (the monitor or ingest service
// serves the latest bundle per centre). It does not verify it: give the bytes to
// [Store.Install]. The body is bounded by MaxBundleSize.
func Fetch(ctx context.Context, client *http.Client, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("registry: fetch: %q is not an https:// URL: bundles are fetched over HTTPS only", rawURL)
	}
	if u.User != nil {
		return nil, errors.New("registry: fetch: the URL carries credentials")
	}
	if client == nil {
		client = HTTPClient(nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("registry: fetch: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("registry: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("registry: fetch %s: %s", u.Redacted(), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBundleSize+1))
	if err != nil {
		return nil, fmt.Errorf("registry: fetch %s: %w", u.Redacted(), err)
	}
	if len(body) > MaxBundleSize {
		return nil, fmt.Errorf("registry: fetch %s: the response is larger than %d bytes: not a bundle", u.Redacted(), MaxBundleSize)
	}
	return body, nil
}
