package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommands(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("influx: {url: ftp://x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{nil, "", 2, "Usage"},
		{[]string{"frobnicate"}, "", 2, `unknown command "frobnicate"`},
		{[]string{"check-config"}, "", 2, "exactly one config file"},
		{[]string{"check-config", "/nonexistent.yaml"}, "", 1, "no such file"},
		{[]string{"check-config", bad}, "", 1, "influx.url"},
		{[]string{"run", "--config", "/nonexistent.yaml"}, "", 1, "no such file"},
		{[]string{"run", "--bogus"}, "", 2, "flag provided but not defined"},
		{[]string{"hash-password"}, "short\n", 1, "at least 8"},
		{[]string{"hash-password"}, "long enough password\n", 0, "$2a$"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, strings.NewReader(tc.stdin), &out, &errb)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("%v: code %d, output %q; want %d and %q", tc.args, code, out.String()+errb.String(), tc.code, tc.want)
		}
	}
}
