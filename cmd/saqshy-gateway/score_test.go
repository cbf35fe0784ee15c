package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScoreFlags: bad input to `score` is an error naming what was wrong. (Reading
// from a real InfluxDB is tested in gateway/score TestReadDays.)
func TestScoreFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("centre: {id: c1}\ninflux: {url: \"http://127.0.0.1:1\", bucket: db}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noInflux := filepath.Join(dir, "n.yaml")
	if err := os.WriteFile(noInflux, []byte("centre: {id: c1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing dates", []string{"score", "--config", cfg}, 2, "--from and --to are required"},
		{"bad from", []string{"score", "--config", cfg, "--from", "2025-13-01", "--to", "2025-03-02"}, 2, `--from "2025-13-01": want a date YYYY-MM-DD`},
		{"bad to", []string{"score", "--config", cfg, "--from", "2025-03-01", "--to", "03/02/2025"}, 2, `--to "03/02/2025"`},
		{"from after to", []string{"score", "--config", cfg, "--from", "2025-03-05", "--to", "2025-03-01"}, 2, "--from 2025-03-05 is after --to 2025-03-01"},
		{"bad format", []string{"score", "--config", cfg, "--from", "2025-03-01", "--to", "2025-03-02", "--format", "xml"}, 2, `--format must be csv or json, got "xml"`},
		{"no config", []string{"score", "--config", filepath.Join(dir, "none.yaml"), "--from", "2025-03-01", "--to", "2025-03-02"}, 1, "none.yaml"},
		{"no influx", []string{"score", "--config", noInflux, "--from", "2025-03-01", "--to", "2025-03-02"}, 1, "has no influx.url"},
		{"influx unreachable", []string{"score", "--config", cfg, "--from", "2025-03-01", "--to", "2025-03-02"}, 1, "score: query db"},
		{"stray argument", []string{"score", "--config", cfg, "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}
