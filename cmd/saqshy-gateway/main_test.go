package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(`centre: {id: c1}
zones: [{id: room-101, kind: living}]
sensors: [{id: s1, zone: room-101, source: zigbee2mqtt, topic: zigbee2mqtt/r1}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(`centre: {id: c1}
zones: [{id: room-101, kind: living}]
sensors:
  - {id: s1, zone: room-1O1, source: zigbee2mqtt, topic: zigbee2mqtt/r1}
  - {id: s2, zone: room-101, source: tasmoto, topic: tele/x/SENSOR}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	pass := filepath.Join(dir, "mqtt.pass")
	open := filepath.Join(dir, "open.yaml")
	if err := os.WriteFile(pass, []byte("pw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(open, []byte(`centre: {id: c1}
mqtt: {username: saqshy, password_file: `+pass+`}
zones: [{id: room-101, kind: living}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err []string
	}{
		{"good", []string{"check-config", good}, 0, []string{"OK", "zigbee2mqtt 1"}, nil},
		{"secret readable by others: a warning", []string{"check-config", open}, 0, []string{"OK",
			"warning: mqtt.password_file: secret file " + pass + " is readable by every user (mode 0644): chmod 600 " + pass}, nil},
		{"bad names file, line and field", []string{"check-config", bad}, 1, nil, []string{
			`bad.yaml:4: sensors[0].zone: unknown zone "room-1O1" (did you mean "room-101"?)`,
			`bad.yaml:5: sensors[1].source: unknown source "tasmoto" (did you mean "tasmota"?)`,
			"2 problems found",
		}},
		{"missing file", []string{"check-config", filepath.Join(dir, "nope.yaml")}, 1, nil, []string{"nope.yaml"}},
		{"no file", []string{"check-config"}, 2, nil, []string{"Usage: saqshy-gateway check-config FILE"}},
		{"example is valid", []string{"example-config"}, 0, []string{"centre:", "sensors:"}, nil},
		{"help", []string{"help"}, 0, []string{"check-config FILE", "demo"}, nil},
		{"command help", []string{"run", "--help"}, 0, nil, []string{"Usage: saqshy-gateway run", "-config"}},
		{"unknown command", []string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`}},
		{"no command", nil, 2, nil, []string{"Commands:"}},
		{"bad flag", []string{"run", "--nope"}, 2, nil, []string{"flag provided but not defined"}},
		{"version", []string{"version"}, 0, []string{"saqshy-gateway"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.err {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}
}

// TestExampleConfigChecks: what example-config prints passes check-config.
func TestExampleConfigChecks(t *testing.T) {
	_, out, _ := runCLI(t, "example-config")
	p := filepath.Join(t.TempDir(), "centre.yaml")
	if err := os.WriteFile(p, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "check-config", p); code != 0 {
		t.Fatalf("example-config output fails check-config:\n%s", errs)
	}
}

// TestRunRejectsBadConfig: run refuses a broken config with the errors and a hint.
func TestRunRejectsBadConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "centre.yaml")
	if err := os.WriteFile(p, []byte("centre: {id: BAD ID}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "run", "--config", p)
	if code != 1 || !strings.Contains(errs, "centre.id") || !strings.Contains(errs, "check-config") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
}

// TestRunSaysWhenSpoolNotWritable: a spool dir the user cannot write stops run at
// once with what to do (not a bare "mkdir: permission denied" from deep inside).
func TestRunSaysWhenSpoolNotWritable(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(blocker, "spool")
	p := filepath.Join(dir, "centre.yaml")
	if err := os.WriteFile(p, []byte(`centre: {id: c1}
zones: [{id: room-101, kind: living}]
sensors: [{id: s1, zone: room-101, source: zigbee2mqtt, topic: zigbee2mqtt/r1}]
mqtt: {url: "tcp://127.0.0.1:1"}
spool: {dir: `+spool+`}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	code, _, errs := runCLI(t, "run", "--config", p)
	for _, want := range []string{
		"the spool directory " + spool + " cannot be written by",
		"sudo install -d -o saqshy -g saqshy -m 0750 " + spool,
		"set spool.dir in " + p,
		"spool: {dir: " + filepath.Join(dir, "state", "saqshy", "spool") + "}",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("missing %q", want)
		}
	}
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", errs)
	}
}

// TestCheckConfigWarns: a centre with no alert recipients and no checkpoints is
// valid, but check-config says what that leaves unwatched and what the score does.
func TestCheckConfigWarns(t *testing.T) {
	p := filepath.Join(t.TempDir(), "centre.yaml")
	if err := os.WriteFile(p, []byte(`centre: {id: c1}
zones: [{id: room-101, kind: living}]
sensors: [{id: s1, zone: room-101, source: zigbee2mqtt, topic: zigbee2mqtt/r1}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "check-config", p)
	for _, want := range []string{
		"OK, with 2 warning(s)",
		"WARNING alerts.recipients: none: nobody is told of an alert",
		"leaves out its response component",
		"WARNING rounds.checkpoints: none: night rounds are not checked",
		"leaves out its rounds component",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	_, ex, _ := runCLI(t, "example-config")
	if err := os.WriteFile(p, []byte(ex), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, out, _ := runCLI(t, "check-config", p); strings.Contains(out, "WARNING") {
		t.Errorf("the example config warns:\n%s", out)
	}
}
