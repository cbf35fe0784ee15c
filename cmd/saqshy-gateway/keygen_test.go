package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saqshy/saqshy/gateway/chain"
)

func TestKeygen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etc", "gateway.key")
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"keygen", "--key", path}, &out, &errb); code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, errb.String())
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("key file mode %04o, want 0600", m)
	}
	priv, err := chain.LoadPrivateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	for _, want := range []string{chain.PublicKeyString(pub), chain.Fingerprint(pub), path} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("keygen output lacks %q:\n%s", want, out.String())
		}
	}
	assertNoKey(t, "keygen output", out.String()+errb.String(), priv, path)

	// A second keygen must not overwrite the identity.
	out.Reset()
	errb.Reset()
	if code := dispatch(context.Background(), []string{"keygen", "--key", path}, &out, &errb); code != 1 {
		t.Fatalf("second keygen: exit %d, want 1", code)
	}
	if !strings.Contains(errb.String(), "already exists") {
		t.Errorf("second keygen error does not say the key exists: %s", errb.String())
	}
	again, err := chain.LoadPrivateKey(path)
	if err != nil || !again.Equal(priv) {
		t.Fatalf("the key changed after a refused keygen (err %v)", err)
	}
	if code := dispatch(context.Background(), []string{"keygen", "extra"}, &out, &errb); code != 2 {
		t.Errorf("keygen with an argument: exit %d, want 2", code)
	}
}

// assertNoKey fails if text holds the private key in any form a leak would take:
// the PEM file's text or its base64 body, or the raw seed in base64 or hex.
func assertNoKey(t *testing.T, what, text string, priv ed25519.PrivateKey, path string) {
	t.Helper()
	pem, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	forms := []string{base64.StdEncoding.EncodeToString(priv.Seed()), base64.StdEncoding.EncodeToString(priv),
		strings.ToLower(strings.TrimSpace(string(pem)))}
	for _, l := range strings.Split(string(pem), "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			forms = append(forms, l)
		}
	}
	lower := strings.ToLower(text)
	for _, f := range forms {
		if f != "" && strings.Contains(lower, strings.ToLower(f)) {
			t.Errorf("%s contains the private key (%q…)", what, f[:min(12, len(f))])
		}
	}
	if strings.Contains(lower, "private key-----") {
		t.Errorf("%s contains a PEM private key", what)
	}
}
