package gateway

import (
	"bufio"
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

// docBlocks returns the fenced sh and console blocks of doc. A console block's
// commands are its lines after a "$ " prompt; an sh block's are all its lines.
func docBlocks(doc string) []docBlock {
	var out []docBlock
	var cur *docBlock
	prev := ""
	sc := bufio.NewScanner(strings.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
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

	// The broker, with a Zigbee2MQTT sensor on it (retained, so discover hears it).
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL()).SetClientID("doc-device"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", mq.URL(), tok.Error())
	}
	defer c.Disconnect(100)
	if tok := c.Publish("zigbee2mqtt/Room 101 climate", 1, true, `{"temperature":21.6,"humidity":44,"battery":87,"linkquality":120}`); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}

	// Walk the runnable blocks as one script, from the repository's root (the build
	// writes to dir instead), in a fresh directory for everything else.
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, b := range run {
		for _, cmd := range b.commands {
			cmd = strings.ReplaceAll(cmd, "tcp://127.0.0.1:1884", mq.URL())
			cmd = strings.ReplaceAll(cmd, "-o bin/saqshy-gateway", "-o "+bin)
			cmd = strings.ReplaceAll(cmd, `"$PWD/bin:`, `"`+filepath.Dir(bin)+":")
			fmt.Fprintf(&script, "echo %q >&2\n%s\n", "$ "+cmd, cmd)
			if strings.HasPrefix(cmd, "go build") {
				fmt.Fprintf(&script, "cd %q\n", dir)
			}
		}
	}
	sh := exec.Command("sh", "-c", script.String())
	sh.Dir = root
	sh.Env = append(os.Environ(), "HOME="+dir)
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("a command of INSTALL.md failed: %v\n%s", err, out)
	}
	t.Logf("walked %d commands:\n%s", strings.Count(script.String(), "\necho"), out)

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
	check("found.yaml", "sensors:", `topic: "zigbee2mqtt/Room 101 climate"`)
	check("status.pass", "$2")
	check("centre.yaml", "zones:")
	if fi, err := os.Stat(filepath.Join(dir, "gateway.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("gateway.key: %v %v", fi, err)
	}
}
