package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/saqshy/saqshy/gateway/registry"
)

const (
	demoCentre = "../../firmware-config/centres/shymkent-csu-2.yaml"
	demoEntry  = "../../firmware-config/registry/shymkent-csu-2.yaml"
	demoBundle = "../../firmware-config/registry/shymkent-csu-2.bundle"
	demoPub    = "../../firmware-config/registry/demo-ministry.pub"
	demoKey    = "../../firmware-config/registry/demo-ministry.key"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// lineOf returns the 1-based line of the first non-comment line of text containing s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	whole, exact := strings.CutPrefix(s, "\n") // "\nzones:": the line that is exactly "zones:"
	for i, l := range strings.Split(text, "\n") {
		if exact && l == whole {
			return i + 1
		}
		if !exact && strings.Contains(l, s) && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			return i + 1
		}
	}
	t.Fatalf("%q not in the config", s)
	return 0
}

// signDemo signs the demo entry with the demo ministry key after edit.
func signDemo(t *testing.T, edit func(*registry.Entry)) []byte {
	t.Helper()
	e, err := registry.Load(demoEntry)
	if err != nil {
		t.Fatal(err)
	}
	edit(e)
	priv, err := registry.ParsePrivateKey([]byte(readFile(t, demoKey)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := registry.Sign(e, priv)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckConfigLevers tries each lever of the dishonest director (issue 14)
// through the real check-config command against the demo centre's bundle: each
// passes check-config without a registry, and with the bundle in force (from
// --bundle, and from registry.dir) it exits 1 naming the local line and field
// and the registry's value.
func TestCheckConfigLevers(t *testing.T) {
	text := readFile(t, demoCentre)
	type edit struct{ old, new string }
	for _, tc := range []struct {
		name  string
		edits []edit
		field string
		at    string // the local line: the first line of the edited config containing this
		want  string // the registry's value, in the message
	}{
		{"relabel a cold living room as office", []edit{{`{id: room-101, kind: living`, `{id: room-101, kind: office`}}, "zones[7].kind", "id: room-101, kind", `has zone "room-101" as "living"`},
		{"relabel a living room as stairs", []edit{{`{id: room-102, kind: living`, `{id: room-102, kind: stairs`}}, "zones[8].kind", "id: room-102, kind", `has zone "room-102" as "living"`},
		{"remove a room without camera", []edit{
			{"  - {id: room-106, kind: living, name: \"Room 106\"}\n", ""},
			{"  - {id: room-106-climate, zone: room-106, source: zigbee2mqtt, topic: zigbee2mqtt/room-106}\n", ""},
			{"  - {id: cam-06, zones: [room-106], source: frigate, name: room_106}\n", ""},
			{"    - {id: cp-106, zone: room-106, tag: \"04A22B1E\"}\n", ""},
		}, "zones", "\nzones:", `room-106 (living, "Room 106")`},
		{"required kinds optional under coverage.kinds", []edit{{"\nalerts:\n", "\ncoverage:\n  kinds: {living: optional, medical: optional}\n\nalerts:\n"}}, "coverage.kinds.living", "kinds: {living", "requires camera coverage there (cameras cam-01)"},
		{"a generic camera the director publishes to", []edit{{"  - {id: cam-27,", "  - {id: cam-99, zones: [room-101], source: generic, topic: director/cam}\n  - {id: cam-27,"}}, "cameras[26].zones[0]", "id: cam-99", "lists only cam-01 for it"},
		{"a fridge sensor's interval padded to 24h", []edit{{"key: \"000008BD38BF\", interval: 60s}", "key: \"000008BD38BF\", interval: 24h}"}}, "sensors[33].interval", "food-fridge-1-probe", `allows sensor "food-fridge-1-probe" at most 1m`},
		{"all checkpoints dropped", []edit{{`re:(?m)^    - \{id: cp-[^\n]*\n`, ""}, {"  checkpoints:\n", "  checkpoints: []\n"}}, "rounds.checkpoints", "  checkpoints: []", "26 registered checkpoint(s) missing"},
		{"all recipients dropped", []edit{{`re:(?m)^    - \{name: [^\n]*\n`, ""}, {"  recipients:\n", "  recipients: []\n"}}, "alerts.recipients", "recipients: []", `no recipient "Ministry duty officer (Shymkent)"`},
		{"score caps off", []edit{{"\nalerts:\n", "\nscore:\n  caps: \"off\"\n\nalerts:\n"}}, "score.caps", "caps: \"off\"", "has the score caps on"},
		{"other weights under the label 2025.1", []edit{{"\nalerts:\n", "\nscore:\n  weights_version: \"2025.1\"\n  weights: {temperature: 0.1, availability: 0.1, coverage: 0.1, rounds: 0.1, response: 0.6}\n\nalerts:\n"}}, "score.weights", "weights: {temperature: 0.1", `weights "2025.1" are temperature 0.35`},
		{"night window moved to 10:00-10:30", []edit{{`window: "22:00-06:00"`, `window: "10:00-10:30"`}}, "rounds.window", `window: "10:00-10:30"`, `night window "22:00-06:00"`},
		{"made-up badges", []edit{{"  interval: 2h\n", "  interval: 2h\n  badges:\n    - {id: walker-1}\n    - {id: walker-2}\n"}}, "rounds.badges[0].id", "id: walker-1", `badge "walker-1" was not issued`},
		{"time zone America/New_York", []edit{{"timezone: Asia/Almaty", "timezone: America/New_York"}}, "centre.timezone", "timezone: America/New_York", `the registry v1 has "Asia/Almaty"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mod := text
			for _, ed := range tc.edits {
				if re, ok := strings.CutPrefix(ed.old, "re:"); ok {
					mod = regexp.MustCompile(re).ReplaceAllString(mod, ed.new)
					continue
				}
				if strings.Count(mod, ed.old) != 1 {
					t.Fatalf("%q is in the config %d times", ed.old, strings.Count(mod, ed.old))
				}
				mod = strings.Replace(mod, ed.old, ed.new, 1)
			}
			file := writeFile(t, filepath.Join(dir, "centre.yaml"), mod)
			if code, _, stderr := runCLI(t, "check-config", file); code != 0 {
				t.Fatalf("the lever does not pass check-config without a registry (exit %d):\n%s", code, stderr)
			}
			wantLine := fmt.Sprintf("centre.yaml:%d: %s: ", lineOf(t, mod, tc.at), tc.field)

			code, stdout, stderr := runCLI(t, "check-config", file, "--bundle", demoBundle, "--pub", demoPub)
			if code != 1 || !strings.Contains(stderr, wantLine) || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "weakens the registry v1") {
				t.Fatalf("check-config --bundle: exit %d, want 1 with %q… naming %q\nstdout:\n%s\nstderr:\n%s", code, wantLine, tc.want, stdout, stderr)
			}

			// The same with the bundle in force in registry.dir.
			regDir := filepath.Join(dir, "registry")
			pinned := mod + fmt.Sprintf("\nregistry:\n  public_key_file: %s\n  dir: %s\n", demoPub, regDir)
			file = writeFile(t, filepath.Join(dir, "centre.yaml"), pinned)
			if code, out, errb := runCLI(t, "registry", "install", "--config", file, demoBundle); code != 0 || !strings.Contains(out, "installed registry v1 for shymkent-csu-2") {
				t.Fatalf("registry install: exit %d\n%s%s", code, out, errb)
			}
			code, _, stderr = runCLI(t, "check-config", file)
			if code != 1 || !strings.Contains(stderr, wantLine) || !strings.Contains(stderr, tc.want) {
				t.Fatalf("check-config with the bundle in registry.dir: exit %d, want 1 with %q… naming %q\n%s", code, wantLine, tc.want, stderr)
			}
		})
	}
}

func TestCheckConfigObeys(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "centre.yaml"), readFile(t, demoCentre)+
		fmt.Sprintf("\nregistry:\n  public_key_file: %s\n  dir: %s\n", demoPub, filepath.Join(dir, "reg")))
	code, out, errb := runCLI(t, "check-config", file)
	if code != 0 || !strings.Contains(out, "registry: no bundle installed") || !strings.Contains(out, "not rated") {
		t.Fatalf("unrated: exit %d\n%s%s", code, out, errb)
	}
	runCLI(t, "registry", "install", "--config", file, demoBundle)
	code, out, errb = runCLI(t, "check-config", file)
	if code != 0 || !strings.Contains(out, "registry: v1 for shymkent-csu-2") || !strings.Contains(out, "the config obeys it") {
		t.Fatalf("rated: exit %d\n%s%s", code, out, errb)
	}
	code, out, _ = runCLI(t, "registry", "show", "--config", file)
	if code != 0 || !strings.Contains(out, "registry v1 in force") || !strings.Contains(out, "region shymkent") || !strings.Contains(out, "obeys it") {
		t.Fatalf("registry show: exit %d\n%s", code, out)
	}
	// Usage errors.
	if code, _, _ := runCLI(t, "check-config", file, "--pub", demoPub); code != 2 {
		t.Errorf("--pub without --bundle: exit %d, want 2", code)
	}
	if code, _, errb := runCLI(t, "check-config", writeFile(t, filepath.Join(dir, "plain.yaml"), readFile(t, demoCentre)), "--bundle", demoBundle); code != 1 || !strings.Contains(errb, "--bundle needs the ministry key") {
		t.Errorf("--bundle without a key: exit %d\n%s", code, errb)
	}
}

// TestRegistryInstallRefusals: a bundle with a bad signature, an older version
// than the installed one, or another centre's id is refused by `registry
// install` with a clear error, and the last good one stays in force on disk.
func TestRegistryInstallRefusals(t *testing.T) {
	dir := t.TempDir()
	regDir := filepath.Join(dir, "registry")
	file := writeFile(t, filepath.Join(dir, "centre.yaml"), readFile(t, demoCentre)+
		fmt.Sprintf("\nregistry:\n  public_key_file: %s\n  dir: %s\n", demoPub, regDir))
	v2 := writeFile(t, filepath.Join(dir, "v2.bundle"), string(signDemo(t, func(e *registry.Entry) { e.Version = 2 })))
	code, out, errb := runCLI(t, "registry", "install", "--config", file, v2)
	if code != 0 || !strings.Contains(out, "installed registry v2 for shymkent-csu-2") || !strings.Contains(out, "next restart") {
		t.Fatalf("install v2: exit %d\n%s%s", code, out, errb)
	}
	if code, out, _ := runCLI(t, "registry", "install", "--config", file, v2); code != 0 || !strings.Contains(out, "already installed") {
		t.Fatalf("install v2 again: exit %d\n%s", code, out)
	}
	good := readFile(t, filepath.Join(regDir, "registry.bundle"))

	tampered := strings.Replace(string(signDemo(t, func(e *registry.Entry) { e.Version = 3 })), `"signature": "`, `"signature": "AAAA`, 1)
	tampered = tampered[:strings.Index(tampered, `"signature": "AAAA`)+len(`"signature": "AAAA`)] + tampered[strings.Index(tampered, `"signature": "AAAA`)+len(`"signature": "AAAA`)+4:]
	for _, tc := range []struct{ name, bundle, want string }{
		{"bad signature", tampered, "bad signature"},
		{"older version", readFile(t, demoBundle), "older than the one installed: it is v1, v2 is installed"},
		{"another centre", string(signDemo(t, func(e *registry.Entry) { e.Version = 5; e.Centre.ID = "almaty-csu-1" })), `for another centre: it is for "almaty-csu-1", this gateway is "shymkent-csu-2"`},
		{"same version other content", string(signDemo(t, func(e *registry.Entry) { e.Version = 2; e.Score.Caps = "off" })), "v2 is installed with other content"},
		{"not a bundle", "hello\n", "not a registry bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := writeFile(t, filepath.Join(dir, "x.bundle"), tc.bundle)
			code, out, errb := runCLI(t, "registry", "install", "--config", file, b)
			if code != 1 || !strings.Contains(errb, "is refused: ") || !strings.Contains(errb, tc.want) || !strings.Contains(errb, "the installed registry v2 stays in force") {
				t.Fatalf("exit %d, want 1 naming %q and keeping v2\nstdout:\n%s\nstderr:\n%s", code, tc.want, out, errb)
			}
			if got := readFile(t, filepath.Join(regDir, "registry.bundle")); got != good {
				t.Fatal("the installed bundle changed on disk")
			}
			if code, out, _ := runCLI(t, "registry", "show", "--config", file); code != 0 || !strings.Contains(out, "registry v2 in force") {
				t.Fatalf("registry show after the refusal: exit %d\n%s", code, out)
			}
		})
	}
	// Without a pinned key there is nothing to install into.
	plain := writeFile(t, filepath.Join(dir, "plain.yaml"), readFile(t, demoCentre))
	if code, _, errb := runCLI(t, "registry", "install", "--config", plain, v2); code != 1 || !strings.Contains(errb, "pins no ministry key") {
		t.Fatalf("install without a pinned key: exit %d\n%s", code, errb)
	}
	if code, _, _ := runCLI(t, "registry", "frobnicate"); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
}
