package main

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/saqshy/saqshy/gateway/registry"
)

const (
	exampleEntry  = "../../firmware-config/registry/shymkent-csu-2.yaml"
	exampleCentre = "../../firmware-config/centres/shymkent-csu-2.yaml"
	demoKey       = "../../firmware-config/registry/demo-ministry.key"
	demoPub       = "../../firmware-config/registry/demo-ministry.pub"
	demoBundle    = "../../firmware-config/registry/shymkent-csu-2.bundle"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestHelp(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	if code != 0 || !strings.Contains(out, "keygen --out PREFIX") || !strings.Contains(out, "sign --key KEY FILE -o BUNDLE") {
		t.Fatalf("help: %d %s", code, out)
	}
	for _, c := range []string{"keygen", "check", "sign", "verify", "show"} {
		code, _, errOut := runCmd(t, c, "--help")
		if code != 0 || !strings.Contains(errOut, "Usage: saqshy-registry "+c) || !strings.Contains(errOut, "Flags:") {
			t.Errorf("%s --help: %d %s", c, code, errOut)
		}
	}
	if code, _, errOut := runCmd(t, "sgin"); code != 2 || !strings.Contains(errOut, `unknown command "sgin"`) {
		t.Errorf("unknown command: %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t); code != 2 {
		t.Error("no command")
	}
	if code, _, errOut := runCmd(t, "sign", "x.yaml"); code != 2 || !strings.Contains(errOut, "Usage: saqshy-registry sign") {
		t.Errorf("sign without key: %d %s", code, errOut)
	}
}

func TestKeygenSignVerifyShow(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "ministry")
	code, out, errOut := runCmd(t, "keygen", "--out", prefix)
	if code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	fi, err := os.Stat(prefix + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: %v %v", fi.Mode(), err)
	}
	fp := regexp.MustCompile(`fingerprint: (ed25519:[0-9a-f]{16})`).FindStringSubmatch(out)
	if fp == nil {
		t.Fatalf("no fingerprint printed: %s", out)
	}
	pubData, _ := os.ReadFile(prefix + ".pub")
	pub, err := registry.ParsePublicKey(pubData)
	if err != nil || registry.Fingerprint(pub) != fp[1] || !strings.Contains(out, strings.TrimSpace(string(registry.MarshalPublicKey(pub)))) {
		t.Fatalf("public key file %v, printed %s", err, out)
	}
	if code, _, errOut := runCmd(t, "keygen", "--out", prefix); code != 1 || !strings.Contains(errOut, "refusing to overwrite") {
		t.Fatalf("keygen over an existing key: %d %s", code, errOut)
	}

	bundle := filepath.Join(dir, "out", "b.json")
	code, out, errOut = runCmd(t, "sign", "--key", prefix+".key", exampleEntry, "-o", bundle)
	if code != 0 || !strings.Contains(out, "shymkent-csu-2 v1 signed by "+fp[1]) {
		t.Fatalf("sign: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "verify", "--pub", prefix+".pub", "--centre", "shymkent-csu-2", bundle)
	if code != 0 || !strings.Contains(out, "OK: shymkent-csu-2 v1, in effect from 2026-01-01T00:00:00Z") {
		t.Fatalf("verify: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, "verify", "--pub", prefix+".pub", "--centre", "other", bundle); code != 1 || !strings.Contains(errOut, "bundle is for another centre") {
		t.Fatalf("verify other centre: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "verify", "--pub", demoPub, bundle); code != 1 || !strings.Contains(errOut, "signed by another key") {
		t.Fatalf("verify with another key: %d %s", code, errOut)
	}
	data, _ := os.ReadFile(bundle)
	tampered := filepath.Join(dir, "tampered.json")
	os.WriteFile(tampered, bytes.Replace(data, []byte(`"signature": "`), []byte(`"signature": "AAAA`), 1), 0o644)
	if code, _, errOut := runCmd(t, "verify", "--pub", prefix+".pub", tampered); code != 1 || !strings.Contains(errOut, "bad signature") {
		t.Fatalf("verify tampered: %d %s", code, errOut)
	}
	code, out, _ = runCmd(t, "show", bundle)
	if code != 0 || !strings.HasPrefix(out, "# NOT verified") || !strings.Contains(out, "  id: shymkent-csu-2") {
		t.Fatalf("show: %d %s", code, out)
	}
	code, out, _ = runCmd(t, "show", "--pub", prefix+".pub", bundle)
	if code != 0 || !strings.HasPrefix(out, "# verified") {
		t.Fatalf("show --pub: %d %s", code, out)
	}
	if code, _, _ := runCmd(t, "show", "--pub", prefix+".pub", tampered); code != 1 {
		t.Fatal("show --pub accepted a tampered bundle")
	}
	// An invalid entry is not signed.
	bad := filepath.Join(dir, "bad.yaml")
	src, _ := os.ReadFile(exampleEntry)
	os.WriteFile(bad, bytes.Replace(src, []byte("version: 1"), []byte("version: 0"), 1), 0o644)
	if code, _, errOut := runCmd(t, "sign", "--key", prefix+".key", bad, "-o", filepath.Join(dir, "bad.json")); code != 1 || !strings.Contains(errOut, "bad.yaml:11: version: required") {
		t.Fatalf("sign invalid: %d %s", code, errOut)
	}
}

func TestCheck(t *testing.T) {
	code, out, errOut := runCmd(t, "check", "--centre", exampleCentre, exampleEntry)
	if code != 0 || !strings.Contains(out, "56 zones (29 must be covered), 63 sensors, 26 checkpoints every 2h in 22:00-06:00, 5 badges") || !strings.Contains(out, "obeys registry v1") {
		t.Fatalf("check: %d\n%s\n%s", code, out, errOut)
	}
	dir := t.TempDir()
	src, _ := os.ReadFile(exampleEntry)
	bad := filepath.Join(dir, "shymkent-csu-2.yaml")
	os.WriteFile(bad, bytes.Replace(bytes.Replace(src, []byte("{id: director, kind: office"), []byte("{id: director, kind: ofice"), 1),
		[]byte("region: shymkent"), []byte("region: \"\""), 1), 0o644)
	code, _, errOut = runCmd(t, "check", exampleEntry, bad)
	if code != 1 || !strings.Contains(errOut, bad+`:17: centre.region: required`) ||
		!regexp.MustCompile(regexp.QuoteMeta(bad)+`:\d+: zones\[22\]\.kind: unknown zone kind "ofice" \(did you mean "office"\?\)`).MatchString(errOut) ||
		!strings.Contains(errOut, "2 problems found") {
		t.Fatalf("check bad: %d\n%s", code, errOut)
	}
	// A centre config weaker than the registry.
	csrc, _ := os.ReadFile(exampleCentre)
	weak := filepath.Join(dir, "centre.yaml")
	os.WriteFile(weak, bytes.Replace(csrc, []byte("timezone: Asia/Almaty"), []byte("timezone: America/New_York"), 1), 0o644)
	code, _, errOut = runCmd(t, "check", "--centre", weak, exampleEntry)
	if code != 1 || !strings.Contains(errOut, weak+`:12: centre.timezone: "America/New_York", but the registry v1 has "Asia/Almaty"`) {
		t.Fatalf("check weak centre: %d\n%s", code, errOut)
	}
}

// TestDemoBundle: the demo bundle in the repository is the example entry signed
// by the demo key, so the demo shows the registry in action. After changing the
// example entry, re-sign it:
//
//	go run ./cmd/saqshy-registry sign --key firmware-config/registry/demo-ministry.key \
//	  firmware-config/registry/shymkent-csu-2.yaml -o firmware-config/registry/shymkent-csu-2.bundle
func TestDemoBundle(t *testing.T) {
	code, out, errOut := runCmd(t, "verify", "--pub", demoPub, "--centre", "shymkent-csu-2", demoBundle)
	if code != 0 {
		t.Fatalf("the demo bundle does not verify: %s%s", out, errOut)
	}
	pubData, _ := os.ReadFile(demoPub)
	pub, _ := registry.ParsePublicKey(pubData)
	data, _ := os.ReadFile(demoBundle)
	got, err := registry.Verify(data, pub)
	if err != nil {
		t.Fatal(err)
	}
	want, err := registry.Load(exampleEntry)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := got.Canonical()
	b, _ := want.Canonical()
	if !bytes.Equal(a, b) {
		t.Fatal("the demo bundle is stale: re-sign the example entry with the demo key (see this test's comment)")
	}
	keyData, _ := os.ReadFile(demoKey)
	priv, err := registry.ParsePrivateKey(keyData)
	if err != nil || !strings.Contains(string(keyData), "DEMO") || registry.Fingerprint(pub) != registry.Fingerprint(priv.Public().(ed25519.PublicKey)) {
		t.Fatalf("demo key pair: %v", err)
	}
}
