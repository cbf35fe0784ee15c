package main

import (
	"bytes"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/ingest"
	"github.com/saqshy/saqshy/gateway/chain"
)

func TestHelpAndBadArgs(t *testing.T) {
	var out, errb bytes.Buffer
	if run([]string{"--help"}, &out, &errb) != 0 || !strings.Contains(out.String(), "verify --archive") {
		t.Fatalf("help: %q", out.String())
	}
	if run([]string{"serve"}, &out, &errb) != 2 || !strings.Contains(errb.String(), "--config FILE is required") {
		t.Fatalf("serve without config: %q", errb.String())
	}
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("listen: x\nbogus: 1\n"), 0o600)
	errb.Reset()
	if run([]string{"serve", "--config", cfg}, &out, &errb) != 1 || !strings.Contains(errb.String(), "bogus") {
		t.Fatalf("unknown field: %q", errb.String())
	}
	os.WriteFile(cfg, []byte("listen: x\n"), 0o600)
	errb.Reset()
	if run([]string{"serve", "--config", cfg}, &out, &errb) != 1 || !strings.Contains(errb.String(), "missing influx.url") {
		t.Fatalf("missing fields: %q", errb.String())
	}
	if run([]string{"frobnicate"}, &out, &errb) != 2 {
		t.Fatal("unknown command")
	}
}

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	_, key, _ := ed25519.GenerateKey(nil)
	keysFile := filepath.Join(dir, "keys")
	os.WriteFile(keysFile, []byte("# centres\nc1 "+chain.PublicKeyString(key.Public().(ed25519.PublicKey))+"\n"), 0o600)
	keys, err := ingest.LoadKeys(keysFile)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "archive")
	s, err := ingest.New(ingest.Config{Keys: keys, Forward: discard{}, ArchiveDir: archive, HeadsDir: filepath.Join(dir, "heads")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ch, err := chain.Open(filepath.Join(dir, "chain.json"), "c1", key)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &chain.Transport{Chain: ch}}
	resp, err := c.Post(srv.URL+"/api/v2/write?precision=s", "text/plain", strings.NewReader("climate,centre=c1 temperature_c=20 "+itoa(time.Now().Unix())))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("write: %v %v", err, resp)
	}
	day := time.Now().UTC().Format(time.DateOnly)
	var out, errb bytes.Buffer
	args := []string{"verify", "--archive", archive, "--keys", keysFile, "--centre", "c1", "--day", day}
	if code := run(args, &out, &errb); code != 0 || !strings.Contains(out.String(), "intact: 1 records, 1 links") {
		t.Fatalf("verify: %d %q %q", code, out.String(), errb.String())
	}
	f := ingest.DayFile(archive, "c1", day)
	b, _ := os.ReadFile(f)
	os.WriteFile(f, bytes.Replace(b, []byte("temperature_c=20"), []byte("temperature_c=29"), 1), 0o640)
	errb.Reset()
	if code := run(args, &out, &errb); code != 1 || !strings.Contains(errb.String(), "TAMPERED") {
		t.Fatalf("tampered: %d %q", code, errb.String())
	}
	os.WriteFile(f, b[:len(b)-3], 0o640) // a write cut by a crash
	out.Reset()
	errb.Reset()
	if code := run(args, &out, &errb); code != 3 || !strings.Contains(errb.String(), "TORN TAIL") || !strings.Contains(out.String(), "0 records") {
		t.Fatalf("torn tail: %d %q %q", code, out.String(), errb.String())
	}
}
