package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/saqshy/saqshy/gateway/config"
)

// TestPrintConfigSpoolIsTheUsers: the config --print-config writes must work for a
// user who is not root: its spool dir is under $XDG_STATE_HOME, not /var/lib.
func TestPrintConfigSpoolIsTheUsers(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--print-config"}, &out, &errb); code != 0 {
		t.Fatalf("code %d: %s", code, errb.String())
	}
	path := filepath.Join(t.TempDir(), "centre.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("the printed config does not load: %v", err)
	}
	if want := filepath.Join(state, "saqshy", "spool"); cfg.Spool.Dir != want {
		t.Errorf("spool.dir = %q, want %q", cfg.Spool.Dir, want)
	}

	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/tech")
	if got, want := userSpoolDir(), "/home/tech/.local/state/saqshy/spool"; got != want {
		t.Errorf("without XDG_STATE_HOME: %q, want %q", got, want)
	}
}

// TestBannerHidesPassword: neither the banner nor a connect error shows the
// password of the broker URL.
func TestBannerHidesPassword(t *testing.T) {
	// The embedded broker the demo runs, on a loopback port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	if err := b.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.AddListener(listeners.NewNet("t", ln)); err != nil {
		t.Fatal(err)
	}
	if err := b.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	url := "tcp://tech:s3cret-pw@" + ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	run(ctx, []string{"--mqtt", url, "--period", "1h"}, &out, &errb)
	if !strings.Contains(out.String(), "devices publishing to tcp://tech:xxxxx@127.0.0.1") {
		t.Errorf("banner: %q (stderr %q)", out.String(), errb.String())
	}
	if strings.Contains(out.String()+errb.String(), "s3cret-pw") {
		t.Errorf("the password is shown: %q %q", out.String(), errb.String())
	}

	out.Reset()
	errb.Reset()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "tcp://tech:s3cret-pw@" + free.Addr().String()
	free.Close()
	if code := run(context.Background(), []string{"--mqtt", dead}, &out, &errb); code != 1 {
		t.Errorf("unreachable broker: code %d", code)
	}
	if strings.Contains(out.String()+errb.String(), "s3cret-pw") || !strings.Contains(errb.String(), "tech:xxxxx@") {
		t.Errorf("connect error shows the password or no broker: %q", errb.String())
	}
}
