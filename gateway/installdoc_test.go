package gateway

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// docBlock is a fenced block of commands in a document, with its doctest marker.
type docBlock struct {
	line     int
	lang     string
	marker   string // "run", "skip: why", or "" when missing
	commands []string
}

var heredocRE = regexp.MustCompile(`<<-?'?([A-Z]+)'?$`)

// docBlocks returns the fenced sh and console blocks of doc. A console block's
// commands are its lines after a "$ " prompt; an sh block's are all its lines but
// comments, a here-document (cat > f <<'EOF' … EOF) being one command with its
// lines as written.
func docBlocks(doc string) []docBlock {
	var out []docBlock
	var cur *docBlock
	prev, heredoc := "", ""
	sc := bufio.NewScanner(strings.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if heredoc != "" {
			cur.commands[len(cur.commands)-1] += "\n" + sc.Text()
			if l == heredoc {
				heredoc = ""
			}
			continue
		}
		switch {
		case cur == nil && (l == "```sh" || l == "```console"):
			cur = &docBlock{line: n, lang: strings.TrimPrefix(l, "```")}
			if m := regexp.MustCompile(`^<!-- doctest: (.*?) -->$`).FindStringSubmatch(prev); m != nil {
				cur.marker = m[1]
			}
		case cur != nil && l == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil && cur.lang == "sh" && l != "" && !strings.HasPrefix(l, "#"):
			cur.commands = append(cur.commands, l)
			if m := heredocRE.FindStringSubmatch(l); m != nil {
				heredoc = m[1]
			}
		case cur != nil && cur.lang == "console":
			if i := strings.Index(l, "$ "); i >= 0 && !strings.Contains(l[:i], " ") {
				cur.commands = append(cur.commands, l[i+2:])
			}
		}
		if l != "" {
			prev = l
		}
	}
	return out
}

var gatewayCmdRE = regexp.MustCompile("saqshy-gateway ((?:registry |deadletter )?[a-z][a-z-]*)([^`\n|;&)]*)")

// TestInstallDoc walks docs/INSTALL.md: every block of commands says whether the
// test runs it; the runnable ones run, in order, in one fresh directory against a
// real Mosquitto (the doc's 127.0.0.1:1884 replaced by its port) with a simulated
// Zigbee2MQTT device on it; and every saqshy-gateway command and flag the doc names
// anywhere must exist.
func TestInstallDoc(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "docs", "INSTALL.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	blocks := docBlocks(doc)
	var run []docBlock
	for _, b := range blocks {
		switch {
		case len(b.commands) == 0:
		case b.marker == "run":
			run = append(run, b)
		case strings.HasPrefix(b.marker, "skip: ") && len(b.marker) > len("skip: "):
		default:
			t.Errorf("INSTALL.md:%d: a %s block of commands without <!-- doctest: run --> or <!-- doctest: skip: why --> before it", b.line, b.lang)
		}
	}
	if len(run) == 0 {
		t.Fatal("INSTALL.md has no block marked <!-- doctest: run -->")
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "saqshy-gateway")
	build := exec.Command("go", "build", "-o", bin, "./cmd/saqshy-gateway")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Every command and flag named anywhere in the doc exists.
	help := map[string]string{}
	for _, m := range gatewayCmdRE.FindAllStringSubmatch(doc, -1) {
		sub := strings.TrimSpace(m[1])
		h, ok := help[sub]
		if !ok {
			out, _ := exec.Command(bin, append(strings.Fields(sub), "-h")...).CombinedOutput()
			h = string(out)
			help[sub] = h
		}
		if !regexp.MustCompile(`(?m)^(Usage:)?\s+saqshy-gateway ` + regexp.QuoteMeta(sub) + `\b`).MatchString(h) {
			t.Errorf("INSTALL.md names %q: no such command (its -h says %.200q)", "saqshy-gateway "+sub, h)
			continue
		}
		for _, f := range regexp.MustCompile(`(?:^|\s)--([a-z][a-z-]*)`).FindAllStringSubmatch(m[2], -1) {
			if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(f[1]) + `\b`).MatchString(h) {
				t.Errorf("INSTALL.md names %q: saqshy-gateway %s has no flag --%s", strings.TrimSpace(m[0]), sub, f[1])
			}
		}
	}

	// The ministry's files for the trial centre, made as RATING.md says the ministry
	// does (saqshy-registry keygen, sign) and handed over beside the config.
	setup := time.Now()
	fingerprint := ministryHandsOver(t, root, dir)

	// The broker, with a Zigbee2MQTT sensor on it (retained, so discover and doctor
	// hear it), and InfluxDB with Flux on and the database "saqshy".
	in := testenv.StartInflux(t, "saqshy")
	t.Logf("the ministry's files and InfluxDB in %s", time.Since(setup).Round(100*time.Millisecond))
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL()).SetClientID("doc-device"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", mq.URL(), tok.Error())
	}
	defer c.Disconnect(100)
	if tok := c.Publish("zigbee2mqtt/Duty room climate", 1, true, `{"temperature":21.6,"humidity":44,"battery":87,"linkquality":120}`); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}

	// Walk the runnable blocks as one script, from the repository's root (the build
	// writes to dir instead), in a fresh directory for everything else.
	local := strings.NewReplacer("tcp://127.0.0.1:1884", mq.URL(), "http://127.0.0.1:8086", in.URL(),
		"-o bin/saqshy-gateway", "-o "+bin, `"$PWD/bin:`, `"`+filepath.Dir(bin)+":")
	var script strings.Builder
	script.WriteString("set -e\n")
	doctor := ""
	for _, b := range run {
		for _, cmd := range b.commands {
			cmd = local.Replace(cmd)
			first, _, _ := strings.Cut(cmd, "\n")
			fmt.Fprintf(&script, "echo %q >&2\n%s\n", "$ "+first, cmd)
			if strings.HasPrefix(cmd, "go build") {
				fmt.Fprintf(&script, "cd %q\n", dir)
			}
			if strings.HasPrefix(cmd, "saqshy-gateway doctor ") {
				doctor = cmd
			}
		}
	}
	env := append(os.Environ(), "HOME="+dir, "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	sh := exec.Command("sh", "-c", script.String())
	sh.Dir = root
	sh.Env = env
	start := time.Now()
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("a command of INSTALL.md failed (doctor exits non-zero on a ✗ line): %v\n%s", err, out)
	}
	t.Logf("walked %d commands in %s:\n%s", strings.Count(script.String(), "\necho"), time.Since(start).Round(100*time.Millisecond), out)
	for _, want := range []string{
		"# saqshy registry ministry public key " + fingerprint,
		"installed registry v1 for laptop-centre (Laptop trial, region shymkent)",
		"the config obeys it",
		"✓ MQTT broker " + mq.URL() + " is reachable",
		"✓ All 1 sensors reported",
		"✓ InfluxDB " + in.URL() + ` is reachable, took the token, and bucket "saqshy" is writable`,
		"✓ Registry v1 in force for laptop-centre",
		"Everything needed passed",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the walk's output lacks %q", want)
		}
	}
	if strings.Contains(string(out), "✗") {
		t.Errorf("a line marked ✗ in the walk's output")
	}
	// doctor's point is in the database the doc names.
	if s, err := in.Query(context.Background(), `SELECT count(*) FROM doctor`); err != nil || len(s) == 0 {
		t.Errorf("no doctor point in InfluxDB: %v %v", s, err)
	}

	// The broker gone, the doc's doctor says so and exits 1, as the doc says.
	if doctor == "" {
		t.Fatal("INSTALL.md's runnable blocks never run saqshy-gateway doctor")
	}
	mq.Stop()
	sh = exec.Command("sh", "-c", doctor)
	sh.Dir, sh.Env = dir, env
	start = time.Now()
	out, err = sh.CombinedOutput()
	t.Logf("doctor without the broker in %s", time.Since(start).Round(100*time.Millisecond))
	if code := sh.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "✗ MQTT broker") {
		t.Errorf("doctor without the broker: exit %d (%v), want 1 and a ✗ MQTT broker line:\n%s", code, err, out)
	}

	// What the commands should have left behind.
	check := func(file string, want ...string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Error(err)
			return
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q:\n%s", file, w, b)
			}
		}
	}
	check("found.yaml", "sensors:", `topic: "zigbee2mqtt/Duty room climate"`)
	check("spool/registry/registry.bundle", "laptop-centre")
	check("status.pass", "$2")
	check("centre.yaml", "zones:")
	if fi, err := os.Stat(filepath.Join(dir, "gateway.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("gateway.key: %v %v", fi, err)
	}
}

// laptopEntry is the ministry's registry entry for the trial centre of INSTALL.md.
const laptopEntry = `version: 1
not_before: 2026-01-01T00:00:00Z
centre: {id: laptop-centre, name: "Laptop trial", region: shymkent, timezone: Asia/Almaty}
zones:
  - {id: duty-room, kind: office, name: "Duty room"}
sensors:
  - {id: duty-room-climate, zone: duty-room, max_interval: 10m}
recipients:
  - {name: "Ministry duty officer", email: duty@ministry.example.org, critical_within: 30m}
score:
  weights_version: "2025.1"
  weights: {temperature: 0.35, availability: 0.15, coverage: 0.20, rounds: 0.20, response: 0.10}
  caps: "on"
`

// ministryHandsOver does what RATING.md says the ministry does for a centre, in its own
// directory: makes its key pair with saqshy-registry keygen, signs the centre's
// entry with saqshy-registry sign; then hands ministry.pub and the bundle over
// into dir. It returns the fingerprint keygen printed (what the officer reads aloud).
func ministryHandsOver(t *testing.T, root, dir string) string {
	t.Helper()
	office := t.TempDir()
	reg := filepath.Join(office, "saqshy-registry")
	build := exec.Command("go", "build", "-o", reg, "./cmd/saqshy-registry")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build saqshy-registry: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(office, "laptop-centre.yaml"), []byte(laptopEntry), 0o644); err != nil {
		t.Fatal(err)
	}
	registryCmd := func(args ...string) string {
		t.Helper()
		c := exec.Command(reg, args...)
		c.Dir = office
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("saqshy-registry %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	fp := regexp.MustCompile(`fingerprint: (ed25519:[0-9a-f]{16})`).FindStringSubmatch(registryCmd("keygen", "--out", "ministry"))
	if fp == nil {
		t.Fatal("saqshy-registry keygen printed no fingerprint")
	}
	registryCmd("sign", "--key", "ministry.key", "laptop-centre.yaml", "-o", "laptop-centre.bundle")
	for _, f := range []string{"ministry.pub", "laptop-centre.bundle"} {
		b, err := os.ReadFile(filepath.Join(office, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return fp[1]
}
