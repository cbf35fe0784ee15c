package regsvc

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/registry"
)

const centre = "shymkent-csu-2"

func example(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "firmware-config", "registry", centre+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withVersion returns src with its version line set to v.
func withVersion(src []byte, v string) []byte {
	return versionLine.ReplaceAll(src, []byte("version: "+v))
}

type fixture struct {
	svc       *Service
	dir, bdir string
	pub       ed25519.PublicKey
	priv      ed25519.PrivateKey
	now       time.Time
}

func newFixture(t *testing.T, rate int) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), bdir: t.TempDir(), now: time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)}
	var err error
	f.pub, f.priv, err = registry.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// The clock runs from f.now (the bundles directory is read again at every call).
	f.svc, err = New(Options{Dir: f.dir, BundlesDir: f.bdir, MinistryKey: f.pub, RatePerMinute: rate, Rescan: time.Nanosecond,
		Now: func() time.Time { return f.now.Add(time.Since(start)) }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sign signs src (as the ministry does offline) into the bundles directory.
func (f *fixture) sign(t *testing.T, src []byte, priv ed25519.PrivateKey, file string) []byte {
	t.Helper()
	e, err := registry.Parse("x.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := registry.Sign(e, priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.bdir, file), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServeBundleFetch(t *testing.T) {
	f := newFixture(t, 5)
	src := example(t)
	f.sign(t, src, f.priv, centre+"-v1.bundle")
	v2 := f.sign(t, withVersion(src, "2"), f.priv, centre+"-v2.bundle")
	// A bundle signed by another key is neither listed nor served.
	_, other, _ := registry.GenerateKey(rand.Reader)
	f.sign(t, withVersion(src, "9"), other, "forged.bundle")

	mux := http.NewServeMux()
	mux.Handle(BundlePath, f.svc.Handler())
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	ctx := context.Background()
	data, err := registry.Fetch(ctx, srv.Client(), srv.URL+BundlePath+centre+".bundle")
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(v2) {
		t.Fatalf("served bundle is not the latest signed (v2)")
	}
	st, err := registry.OpenStore(filepath.Join(t.TempDir(), "installed.json"), f.pub, centre, func() time.Time { return f.now })
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Install(data); err != nil || st.Version() != 2 {
		t.Fatalf("the gateway's store refused the served bundle: %v (v%d)", err, st.Version())
	}
	if probs := f.svc.Problems(); len(probs) != 1 || !strings.Contains(probs[0], "forged.bundle") || !strings.Contains(probs[0], "another key") {
		t.Fatalf("forged bundle not reported: %v", probs)
	}
	for _, p := range []string{"unknown-centre.bundle", centre, "..%2Fsecret.bundle", centre + ".yaml"} {
		if _, err := registry.Fetch(ctx, srv.Client(), srv.URL+BundlePath+p); err == nil || !strings.Contains(err.Error(), "404") {
			t.Errorf("GET %s: want 404, got %v", p, err)
		}
	}
	resp, err := srv.Client().Post(srv.URL+BundlePath+centre+".bundle", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s", resp.Status)
	}
	// 2 requests counted so far from this address (the valid bundle names; not
	// the malformed ones nor the POST): the limit is 5 a minute.
	for i := 0; i < 3; i++ {
		if _, err := registry.Fetch(ctx, srv.Client(), srv.URL+BundlePath+centre+".bundle"); err != nil {
			t.Fatalf("request %d: %v", 3+i, err)
		}
	}
	_, err = registry.Fetch(ctx, srv.Client(), srv.URL+BundlePath+centre+".bundle")
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("want 429 over the rate limit, got %v", err)
	}
	f.now = f.now.Add(time.Minute)
	if _, err := registry.Fetch(ctx, srv.Client(), srv.URL+BundlePath+centre+".bundle"); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
	// Two different bundles of one version: neither is served.
	f.sign(t, withVersion([]byte(strings.Replace(string(src), "Main entrance", "Main door", 1)), "2"), f.priv, "dup.bundle")
	if b, ok := f.svc.Latest(centre); !ok || b.Version != 1 {
		t.Fatalf("with two different v2 bundles the latest should be v1, got %+v %v", b, ok)
	}
}

func TestSaveAndChangeLog(t *testing.T) {
	f := newFixture(t, 0)
	src := example(t)
	// Creating the entry (version 1) as the region's officer.
	ch, err := f.svc.Save(centre, "aigerim", "Shymkent", src)
	if err != nil || ch == nil || ch.From != 0 || ch.To != 1 {
		t.Fatalf("create: %+v %v", ch, err)
	}
	f.sign(t, src, f.priv, "v1.bundle")
	// The draft raises the version past the signed one.
	draft, err := f.svc.Draft(centre)
	if err != nil || !strings.Contains(string(draft), "\nversion: 2\n") {
		t.Fatalf("draft not at version 2: %v", err)
	}
	edit := strings.Replace(string(draft), "{id: room-101, kind: living,", "{id: room-101, kind: office,", 1)
	edit = strings.Replace(edit, "{id: room-101, kind: office, name: \"Room 101\", cameras: [cam-01]}", "{id: room-101, kind: office, name: \"Room 101\"}", 1)
	cases := []struct {
		name, region, text string
		want               []string
	}{
		{"unknown kind", "", strings.Replace(edit, "kind: office", "kind: ofice", 1), []string{centre + ".yaml:", "zones[7].kind", `did you mean "office"`}},
		{"version already signed", "", string(withVersion([]byte(edit), "1")), []string{centre + ".yaml:11: version: 1, but v1 is already signed: a change must raise it to 2"}},
		{"another region", "Almaty", edit, []string{`centre.region: "shymkent"; you keep the entries of region "Almaty" only`}},
		{"another centre", "", strings.Replace(edit, "id: shymkent-csu-2", "id: other-centre", 1), []string{`centre.id: "other-centre", but this is the entry of "shymkent-csu-2"`}},
		{"not YAML", "", "version: [", []string{"YAML syntax error"}},
	}
	for _, c := range cases {
		_, err := f.svc.Save(centre, "aigerim", c.region, []byte(c.text))
		se, ok := err.(*SaveError)
		if !ok {
			t.Errorf("%s: want a SaveError, got %v", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(se.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, se.Error(), w)
			}
		}
	}
	ch, err = f.svc.Save(centre, "aigerim", "shymkent", []byte(edit))
	if err != nil || ch.From != 1 || ch.To != 2 {
		t.Fatalf("save v2: %+v %v", ch, err)
	}
	for _, w := range []string{"-version: 1\n", "+version: 2\n", "-  - {id: room-101, kind: living,", "+  - {id: room-101, kind: office,", "@@ -"} {
		if !strings.Contains(ch.Diff, w) {
			t.Errorf("diff lacks %q:\n%s", w, ch.Diff)
		}
	}
	if got, _ := f.svc.Source(centre); string(got) != edit {
		t.Fatal("the entry file is not the saved text")
	}
	// The same text again: no change, nothing logged.
	if ch, err := f.svc.Save(centre, "aigerim", "shymkent", []byte(edit)); ch != nil || err != nil {
		t.Fatalf("unchanged save: %+v %v", ch, err)
	}
	log, err := f.svc.Changes(centre)
	if err != nil || len(log) != 2 || log[0].To != 2 || log[0].User != "aigerim" || log[1].To != 1 {
		t.Fatalf("change log: %+v %v", log, err)
	}
	// The log is appended to, never rewritten.
	raw, _ := os.ReadFile(filepath.Join(f.dir, ChangeLog))
	if n := strings.Count(string(raw), "\n"); n != 2 {
		t.Fatalf("change log has %d lines, want 2", n)
	}
	if _, err := f.svc.Save("../etc", "x", "", src); err == nil {
		t.Fatal("a path as centre id was accepted")
	}
	if _, err := f.svc.Source("nowhere"); err == nil || !strings.Contains(err.Error(), "no registry entry") {
		t.Fatalf("missing entry: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	pub, _, _ := registry.GenerateKey(rand.Reader)
	d := t.TempDir()
	if _, err := New(Options{Dir: d, BundlesDir: d}); err == nil || !strings.Contains(err.Error(), "public key") {
		t.Errorf("no key: %v", err)
	}
	if _, err := New(Options{Dir: filepath.Join(d, "missing"), BundlesDir: d, MinistryKey: pub}); err == nil || !strings.Contains(err.Error(), "registry.dir") {
		t.Errorf("missing dir: %v", err)
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	b := "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n"
	got := UnifiedDiff("x", a, b)
	want := "--- a/x\n+++ b/x\n@@ -1,10 +1,11 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n h\n i\n j\n+k\n"
	if got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
	// Changes further apart than 2×3 lines of context make two hunks.
	a2, b2 := a+"k\nl\nm\n", "A\n"+a[2:]+"k\nl\nM\n"
	got = UnifiedDiff("x", a2, b2)
	want = "--- a/x\n+++ b/x\n@@ -1,4 +1,4 @@\n-a\n+A\n b\n c\n d\n@@ -10,4 +10,4 @@\n j\n k\n l\n-m\n+M\n"
	if got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
	if UnifiedDiff("x", a, a) != "" {
		t.Fatal("equal texts give a diff")
	}
	if got := UnifiedDiff("x", "", "new\n"); got != "--- a/x\n+++ b/x\n@@ -0,0 +1,1 @@\n+new\n" {
		t.Fatalf("creation diff:\n%s", got)
	}
}
