package doctor

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saqshy/saqshy/gateway/central/ingest"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/config"
)

type noForward struct{ t *testing.T }

func (f noForward) Write(context.Context, []byte, string) error {
	f.t.Error("doctor's probe reached the database")
	return nil
}

// TestIngestProbe: with influx.sign set, doctor's InfluxDB check probes the
// ministry's ingest and says which refusal it is (unknown key, another key for
// the centre, not an ingest at all), printing the fingerprint; the probe adds no
// link to the centre's chain.
func TestIngestProbe(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "gateway.key")
	key, err := chain.GenerateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	fp := chain.Fingerprint(key.Public().(ed25519.PublicKey))
	_, other, _ := ed25519.GenerateKey(nil)
	keys := ingest.FileKeys{}
	srv, err := ingest.New(ingest.Config{Keys: keys, Forward: noForward{t}, ArchiveDir: filepath.Join(dir, "a"), HeadsDir: filepath.Join(dir, "h")})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer plain.Close()

	cfg := config.Default()
	cfg.Centre.ID = "probe-c1"
	cfg.Spool.Dir = dir
	cfg.Influx.Bucket = "saqshy/autogen"
	cfg.Influx.Sign.KeyFile = keyFile
	opt := Options{}
	opt.defaults()
	run := func(url string) Check {
		cfg.Influx.URL = url
		return checkInflux(context.Background(), cfg, &opt)
	}
	for _, tc := range []struct {
		name   string
		setup  func()
		url    string
		status Status
		title  string
		fix    string
	}{
		{"unknown key", func() {}, ts.URL, Fail, "does not know this gateway's key", "register this fingerprint (" + fp + ")"},
		{"another key (wrong centre)", func() { keys["probe-c1"] = other.Public().(ed25519.PublicKey) }, ts.URL, Fail, "the registry holds another key for centre probe-c1", "correct centre.id (wrong centre)"},
		{"registered", func() { keys["probe-c1"] = key.Public().(ed25519.PublicKey) }, ts.URL, Pass, "verified a signed probe", ""},
		{"not an ingest", func() {}, plain.URL, Fail, "it is not the ministry's ingest", "must be the ministry's ingest"},
	} {
		tc.setup()
		c := run(tc.url)
		if c.Status != tc.status || !strings.Contains(c.Title, tc.title) || !strings.Contains(c.Fix, tc.fix) || !strings.Contains(c.Title+c.Fix, fp) {
			t.Errorf("%s: %v %q\nfix %q", tc.name, c.Status, c.Title, c.Fix)
		}
	}
	if hs, _ := srv.Heads(); len(hs) != 0 {
		t.Fatalf("the probe changed the ingest's chains: %+v", hs)
	}
	// A key others may read is refused with the fix.
	cfg.Influx.URL = ts.URL
	cfg.Influx.Sign.KeyFile = filepath.Join(dir, "missing.key")
	if c := run(ts.URL); c.Status != Fail || !strings.Contains(c.Fix, "saqshy-gateway keygen --key") {
		t.Errorf("missing key: %v %q %q", c.Status, c.Title, c.Fix)
	}
}
