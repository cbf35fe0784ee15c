package registry

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// entryV returns the small entry at version v, for centre.
func entryV(t testing.TB, v int64, centre string, notBefore time.Time) *Entry {
	t.Helper()
	e, err := Parse("small.yaml", []byte(small))
	if err != nil {
		t.Fatal(err)
	}
	e.Version, e.Centre.ID, e.NotBefore = v, centre, notBefore.UTC()
	return e
}

func sign(t testing.TB, e *Entry, priv ed25519.PrivateKey) []byte {
	t.Helper()
	b, err := Sign(e, priv)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var past = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestSignVerify(t *testing.T) {
	pub, priv := testKey(t)
	e := entryV(t, 3, "test-centre", past)
	data := sign(t, e, priv)
	got, err := Verify(data, pub)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := e.Canonical()
	b, _ := got.Canonical()
	if !bytes.Equal(a, b) {
		t.Fatalf("round trip changed the entry:\n%s\n%s", a, b)
	}
	otherPub, otherPriv := testKey(t)
	// Tampered payload: the signature no longer matches.
	var bun Bundle
	if err := json.Unmarshal(data, &bun); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(bun.Payload)
	tampered := bun
	tampered.Payload = base64.StdEncoding.EncodeToString(bytes.Replace(payload, []byte(`"caps":"on"`), []byte(`"caps":"off"`), 1))
	// Signed by another key that claims the ministry's key id.
	forged := bun
	forged.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(otherPriv, append([]byte(signingContext), payload...)))
	// Outer fields that disagree with the signed entry.
	relabelled := bun
	relabelled.Centre = "other-centre"
	enc := func(b Bundle) []byte { out, _ := json.Marshal(b); return out }
	for _, tc := range []struct {
		name string
		data []byte
		pub  ed25519.PublicKey
		is   error
		want string
	}{
		{"tampered", enc(tampered), pub, ErrSignature, "was not signed by the ministry key"},
		{"forged", enc(forged), pub, ErrSignature, "was not signed"},
		{"another key", data, otherPub, ErrKey, "the trusted ministry key is " + Fingerprint(otherPub)},
		{"relabelled", enc(relabelled), pub, ErrBundle, `the bundle says "other-centre" v3, its signed entry "test-centre" v3`},
		{"not json", []byte("hello"), pub, ErrBundle, "not a registry bundle"},
		{"trailing", append(bytes.Clone(data), []byte("{}")...), pub, ErrBundle, "data after the bundle"},
		{"format", bytes.Replace(data, []byte(BundleFormat), []byte("x/2"), 1), pub, ErrBundle, `format "x/2"`},
		{"unknown field", bytes.Replace(data, []byte(`"format"`), []byte(`"extra": 1, "format"`), 1), pub, ErrBundle, `unknown field "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Verify(tc.data, tc.pub)
			if e != nil || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want %v containing %q", e, err, tc.is, tc.want)
			}
		})
	}
	// An invalid entry is not signed.
	bad := entryV(t, 0, "test-centre", past)
	if _, err := Sign(bad, priv); err == nil || !strings.Contains(err.Error(), "version: required") {
		t.Fatalf("signed an invalid entry: %v", err)
	}
}

func TestAdmit(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := entryV(t, 3, "test-centre", now.Add(time.Hour))
	if err := Admit(e, "test-centre", 2, now); !errors.Is(err, ErrNotYet) || !strings.Contains(err.Error(), "v3 takes effect at 2026-03-01T13:00:00Z") {
		t.Fatalf("future: %v", err)
	}
	if err := Admit(e, "test-centre", 2, now.Add(time.Hour)); err != nil {
		t.Fatalf("at not_before: %v", err)
	}
	if err := Admit(e, "test-centre", 4, now.Add(2*time.Hour)); !errors.Is(err, ErrOlder) || !strings.Contains(err.Error(), "it is v3, v4 is installed") {
		t.Fatalf("older: %v", err)
	}
	if err := Admit(e, "shymkent-csu-2", 0, now.Add(2*time.Hour)); !errors.Is(err, ErrOtherCentre) || !strings.Contains(err.Error(), `it is for "test-centre", this gateway is "shymkent-csu-2"`) {
		t.Fatalf("other centre: %v", err)
	}
}

func TestStore(t *testing.T) {
	pub, priv := testKey(t)
	_, otherPriv := testKey(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "registry", "bundle.json")
	s, err := OpenStore(path, pub, "test-centre", clock)
	if err != nil || s.Current() != nil || s.Problem() != nil || s.Version() != 0 {
		t.Fatalf("empty store: %v %v %v", err, s.Current(), s.Problem())
	}
	v3 := sign(t, entryV(t, 3, "test-centre", past), priv)
	if e, changed, err := s.Install(v3); err != nil || !changed || e.Version != 3 {
		t.Fatalf("install v3: %v %v %v", e, changed, err)
	}
	if _, changed, err := s.Install(v3); err != nil || changed {
		t.Fatalf("reinstall v3: %v %v", changed, err)
	}
	onDisk, _ := os.ReadFile(path)
	if !bytes.Equal(onDisk, v3) {
		t.Fatal("v3 not on disk")
	}
	same3 := entryV(t, 3, "test-centre", past)
	same3.Score.Caps = "off"
	for _, tc := range []struct {
		name string
		data []byte
		is   error
	}{
		{"bad signature", sign(t, entryV(t, 4, "test-centre", past), otherPriv), ErrKey},
		{"tampered", bytes.Replace(sign(t, entryV(t, 5, "test-centre", past), priv), []byte(`"signature": "`), []byte(`"signature": "AAAA`), 1), ErrSignature},
		{"older", sign(t, entryV(t, 2, "test-centre", past), priv), ErrOlder},
		{"same version, other content", sign(t, same3, priv), ErrOlder},
		{"other centre", sign(t, entryV(t, 9, "other-centre", past), priv), ErrOtherCentre},
		{"not yet", sign(t, entryV(t, 9, "test-centre", now.Add(time.Minute)), priv), ErrNotYet},
		{"garbage", []byte("{"), ErrBundle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, err := s.Install(tc.data)
			if e != nil || !errors.Is(err, tc.is) {
				t.Fatalf("got %v, %v; want %v", e, err, tc.is)
			}
			if s.Version() != 3 {
				t.Fatalf("the last good bundle left: v%d", s.Version())
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, v3) {
				t.Fatal("the bundle on disk changed")
			}
		})
	}
	// Reopened (a restart): v3 is back, even with the clock before its not_before.
	s2, err := OpenStore(path, pub, "test-centre", func() time.Time { return past.Add(-time.Hour) })
	if err != nil || s2.Version() != 3 || s2.Problem() != nil {
		t.Fatalf("reopen: %v v%d %v", err, s2.Version(), s2.Problem())
	}
	v4 := sign(t, entryV(t, 4, "test-centre", past), priv)
	if _, _, err := s.Install(v4); err != nil || s.Version() != 4 {
		t.Fatalf("install v4: %v", err)
	}
	// A bundle changed on disk is refused at open: the centre is unrated.
	if err := os.WriteFile(path, bytes.Replace(v4, []byte(`"version": 4`), []byte(`"version": 5`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	s3, err := OpenStore(path, pub, "test-centre", clock)
	if err != nil || s3.Current() != nil || !errors.Is(s3.Problem(), ErrSignature) && !errors.Is(s3.Problem(), ErrBundle) {
		t.Fatalf("tampered on disk: %v %v %v", err, s3.Current(), s3.Problem())
	}
	// Another centre's store refuses the file too.
	if err := os.WriteFile(path, v4, 0o600); err != nil {
		t.Fatal(err)
	}
	s4, _ := OpenStore(path, pub, "other-centre", clock)
	if s4.Current() != nil || !errors.Is(s4.Problem(), ErrOtherCentre) {
		t.Fatalf("other centre at open: %v", s4.Problem())
	}
	if _, err := OpenStore(path, pub[:5], "x", nil); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestFetch(t *testing.T) {
	pub, priv := testKey(t)
	v3 := sign(t, entryV(t, 3, "test-centre", past), priv)
	mux := http.NewServeMux()
	mux.HandleFunc("/registry/test-centre.bundle", func(w http.ResponseWriter, r *http.Request) { w.Write(v3) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, MaxBundleSize+10)) })
	// /slow answers only when the test ends (not when the request's context says
	// so: under load the server may see that early and answer 200 in time).
	release := make(chan struct{})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-certificate case logs a handshake error
	srv.StartTLS()
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handlers
	ctx := context.Background()
	data, err := Fetch(ctx, srv.Client(), srv.URL+"/registry/test-centre.bundle")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := OpenStore(filepath.Join(t.TempDir(), "b.json"), pub, "test-centre", nil)
	if _, _, err := s.Install(data); err != nil || s.Version() != 3 {
		t.Fatalf("install fetched: %v", err)
	}
	if _, err := Fetch(ctx, srv.Client(), srv.URL+"/missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}
	if _, err := Fetch(ctx, srv.Client(), srv.URL+"/big"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("big: %v", err)
	}
	if _, err := Fetch(ctx, srv.Client(), strings.Replace(srv.URL, "https://", "http://", 1)+"/x"); err == nil || !strings.Contains(err.Error(), "HTTPS only") {
		t.Fatalf("http: %v", err)
	}
	// The server's certificate is not trusted by a client with other roots.
	if _, err := Fetch(ctx, HTTPClient(nil), srv.URL+"/registry/test-centre.bundle"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Fetch(cctx, srv.Client(), srv.URL+"/slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("the context did not cut the request short")
	}
}
