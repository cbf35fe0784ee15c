package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeadletterFlags: bad input to `deadletter` names what was wrong. (Replaying to a
// real InfluxDB, progress output and the renamed files are tested in gateway/influxsink
// TestReplayFile, through the same ReplayFile the command calls.)
func TestDeadletterFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("centre: {id: c1}\ninflux: {url: \"http://127.0.0.1:1\", bucket: db}\nspool: {dir: "+dir+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noInflux := filepath.Join(dir, "n.yaml")
	if err := os.WriteFile(noInflux, []byte("centre: {id: c1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"deadletter"}, 2, "Usage: saqshy-gateway deadletter replay"},
		{[]string{"deadletter", "resend"}, 2, "Usage: saqshy-gateway deadletter replay"},
		{[]string{"deadletter", "replay", "--config", cfg}, 1, "deadletter.lp: no such file"},
		{[]string{"deadletter", "replay", "--config", noInflux}, 1, "has no influx.url"},
		{[]string{"deadletter", "replay", "--config", cfg, "x"}, 2, `unexpected argument "x"`},
	} {
		if code, _, stderr := runCLI(t, tt.args...); code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d stderr %q, want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}
