package main

import (
	"fmt"
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

	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/status"
)

// startBroker starts an embedded broker on a free loopback port and returns its URL.
func startBroker(t *testing.T) (*mochi.Server, string) {
	t.Helper()
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
	return b, "tcp://" + ln.Addr().String()
}

func publishRetained(t *testing.T, b *mochi.Server, m sim.Message) {
	t.Helper()
	if err := b.Publish(m.Topic, m.Payload, true, 0); err != nil {
		t.Fatal(err)
	}
}

func TestDoctorCommand(t *testing.T) {
	b, url := startBroker(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "centre.yaml")
	write := func(sensors string) {
		t.Helper()
		text := fmt.Sprintf(`centre: {id: c1, timezone: UTC}
mqtt: {url: %q}
spool: {dir: %q, max_bytes: 1MiB}
zones: [{id: room-101, kind: living, name: "Room 101"}]
sensors:
%s`, url, dir, sensors)
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("  - {id: r1, zone: room-101, source: saqshy}\n")
	publishRetained(t, b, sim.Saqshy("saqshy/c1/sensor/r1", sim.Reading{TemperatureC: 21}, time.Now()))

	code, out, errOut := runCLI(t, "doctor", "--config", cfg, "--listen", "5s", "--assume-clock-synced")
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	if code != 0 {
		t.Errorf("healthy spool-only centre: exit %d, want 0", code)
	}
	for _, s := range []string{"✓ All 1 sensors reported", "! No influx.url", "Everything needed passed"} {
		if !strings.Contains(out, s) {
			t.Errorf("stdout lacks %q", s)
		}
	}
	if !strings.Contains(errOut, "doctor: listening on the broker for up to 5s") {
		t.Errorf("stderr lacks the progress line: %q", errOut)
	}

	write("  - {id: r1, zone: room-101, source: saqshy}\n  - {id: r2, zone: room-101, source: zigbee2mqtt, topic: zigbee2mqtt/r2}\n")
	code, out, _ = runCLI(t, "doctor", "--config", cfg, "--listen", "1s", "--assume-clock-synced")
	if code != 1 || !strings.Contains(out, "✗ r2 — Room 101 (room-101): nothing heard on zigbee2mqtt/r2 in 1s") {
		t.Errorf("silent sensor: exit %d, want 1\n%s", code, out)
	}

	tests := []struct {
		name string
		args []string
		code int
		out  string
		err  string
	}{
		{"help", []string{"doctor", "--help"}, 0, "", "Exit status: 0 when everything needed passes"},
		{"bad config", []string{"doctor", "--config", filepath.Join(dir, "nope.yaml")}, 1, "✗ Config", ""},
		{"stray argument", []string{"doctor", cfg}, 2, "", "unexpected argument"},
		{"bad since", []string{"doctor", "--since", "-1m"}, 2, "", "must be positive"},
		{"bad flag value", []string{"doctor", "--listen", "soon"}, 2, "", "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
				t.Errorf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", code, tt.code, out, tt.out, errOut, tt.err)
			}
		})
	}
}

func TestDiscoverCommand(t *testing.T) {
	b, url := startBroker(t)
	publishRetained(t, b, sim.Zigbee2MQTT("zigbee2mqtt/room-101", sim.Reading{TemperatureC: 21}, time.Now()))
	code, out, errOut := runCLI(t, "discover", "--mqtt", url, "--seconds", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, s := range []string{"Zigbee2MQTT — 1 device", "sensors:\n  - {id: room-101, zone: ZONE, source: zigbee2mqtt, topic: zigbee2mqtt/room-101}"} {
		if !strings.Contains(out, s) {
			t.Errorf("stdout lacks %q:\n%s", s, out)
		}
	}
	if !strings.Contains(errOut, "discover: listening to "+url) {
		t.Errorf("stderr lacks progress: %q", errOut)
	}
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"help", []string{"discover", "--help"}, 0, "ready-to-paste sensors:"},
		{"unreachable", []string{"discover", "--mqtt", "tcp://127.0.0.1:1", "--seconds", "1"}, 1, "no MQTT broker answered"},
		{"bad seconds", []string{"discover", "--seconds", "0"}, 2, "must be positive"},
		{"bad timezone", []string{"discover", "--timezone", "Mars/Olympus"}, 2, "--timezone"},
		{"missing password file", []string{"discover", "--password-file", "/nonexistent/pass"}, 1, "secret file /nonexistent/pass"},
		{"stray argument", []string{"discover", url}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.err) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tt.code, errOut, tt.err)
			}
		})
	}
}

func TestHashPassword(t *testing.T) {
	var out, errb strings.Builder
	if code := hashPassword(nil, strings.NewReader("night-nurse-2\n"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	path := filepath.Join(t.TempDir(), "status.pass")
	if err := os.WriteFile(path, []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := status.ReadPasswordFile(path); err != nil {
		t.Errorf("the printed hash does not read back: %v", err)
	}
	out.Reset()
	errb.Reset()
	if code := hashPassword(nil, strings.NewReader("short"), &out, &errb); code != 1 || !strings.Contains(errb.String(), "at least 8") || out.Len() != 0 {
		t.Errorf("short password: exit %d, stderr %q, stdout %q", code, errb.String(), out.String())
	}
}

// TestEveryCommandHasHelp: each command explains itself on --help and is listed
// in the main usage.
func TestEveryCommandHasHelp(t *testing.T) {
	_, usageText, _ := runCLI(t, "help")
	for _, c := range commands() {
		code, out, errOut := runCLI(t, c.name, "--help")
		if code != 0 || !strings.Contains(out+errOut, "Usage: saqshy-gateway "+c.name) {
			t.Errorf("%s --help: exit %d\n%s%s", c.name, code, out, errOut)
		}
		if !strings.Contains(usageText, "  "+c.name) {
			t.Errorf("usage does not list %s", c.name)
		}
	}
}
