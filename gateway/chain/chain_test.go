package chain

import (
	"crypto/ed25519"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "gw.key")
	k, err := GenerateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	if _, err := GenerateKey(p); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrite: %v", err)
	}
	k2, err := LoadPrivateKey(p)
	if err != nil || !k2.Equal(k) {
		t.Fatalf("load: %v", err)
	}
	os.Chmod(p, 0o644)
	if _, err := LoadPrivateKey(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "bad"), []byte("nope"), 0o600)
	if _, err := LoadPrivateKey(filepath.Join(dir, "bad")); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Fatalf("bad key file: %v", err)
	}
	pub := k.Public().(ed25519.PublicKey)
	got, err := ParsePublicKey(PublicKeyString(pub))
	if err != nil || !got.Equal(pub) {
		t.Fatalf("public key round trip: %v", err)
	}
	for _, s := range []string{"", "rsa:AAAA", "ed25519:AAAA", "ed25519:!!"} {
		if _, err := ParsePublicKey(s); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", s)
		}
	}
	if fp := Fingerprint(pub); len(fp) != 16 {
		t.Fatalf("fingerprint %q", fp)
	}
}

func TestChainPendingSurvivesRestart(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	p := filepath.Join(t.TempDir(), "chain.json")
	c, err := Open(p, "c1", key)
	if err != nil {
		t.Fatal(err)
	}
	l1, err := c.Prepare([]byte("a"), "")
	if err != nil || l1.Seq != 1 || !l1.Prev.IsZero() || l1.Precision != "ns" {
		t.Fatalf("first link %+v %v", l1, err)
	}
	if err := l1.Verify(key.Public().(ed25519.PublicKey), []byte("a")); err != nil {
		t.Fatal(err)
	}
	// "killed" before the answer: reopen
	c, err = Open(p, "c1", key)
	if err != nil {
		t.Fatal(err)
	}
	pl, body, ok := c.Pending()
	if !ok || string(body) != "a" || pl.Hash() != l1.Hash() {
		t.Fatal("pending lost")
	}
	again, _ := c.Prepare([]byte("a"), "ns")
	if again.Hash() != l1.Hash() || string(again.Signature) != string(l1.Signature) {
		t.Fatal("resend differs")
	}
	// another body follows the pending link
	l2, _ := c.Prepare([]byte("b"), "ns")
	if l2.Seq != 2 || l2.Prev != l1.Hash() {
		t.Fatalf("link after pending: %+v", l2)
	}
	// refused: the next link takes its number
	if err := c.Refused(l2); err != nil {
		t.Fatal(err)
	}
	l2b, _ := c.Prepare([]byte("c"), "ns")
	if l2b.Seq != 2 || l2b.Prev != l1.Hash() {
		t.Fatalf("link after refusal: %+v", l2b)
	}
	if err := c.Commit(l2b); err != nil {
		t.Fatal(err)
	}
	if seq, h := c.Head(); seq != 2 || h != l2b.Hash() {
		t.Fatal("head after commit")
	}
	_, other, _ := ed25519.GenerateKey(nil)
	if _, err := Open(p, "c1", other); err == nil || !strings.Contains(err.Error(), "new chain file") {
		t.Fatalf("other key: %v", err)
	}
	if _, err := Open(p, "c2", key); err == nil || !strings.Contains(err.Error(), "centre") {
		t.Fatalf("other centre: %v", err)
	}
	os.WriteFile(p, []byte("{"), 0o600)
	if _, err := Open(p, "c1", key); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt: %v", err)
	}
}

func TestParseHeadersErrors(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	l := Link{Centre: "c1", Seq: 3, Body: BodyHash([]byte("x")), Precision: "ns"}
	l.Sign(key)
	good := http.Header{}
	l.SetHeaders(good)
	got, err := ParseHeaders(good, "ns")
	if err != nil || got.Hash() != l.Hash() {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := ParseHeaders(http.Header{}, ""); err != ErrUnsigned {
		t.Fatalf("unsigned: %v", err)
	}
	for _, tc := range []struct{ header, value, want string }{
		{HeaderCentre, "", HeaderCentre + " is missing"},
		{HeaderCentre, "a/b", HeaderCentre},
		{HeaderKey, "XYZ", HeaderKey},
		{HeaderSeq, "0", HeaderSeq},
		{HeaderSeq, "01", HeaderSeq},
		{HeaderSeq, "-1", HeaderSeq},
		{HeaderPrev, "abc", HeaderPrev},
		{HeaderBody, strings.Repeat("g", 64), HeaderBody},
		{HeaderSignature, "AAAA", HeaderSignature},
	} {
		h := good.Clone()
		h.Set(tc.header, tc.value)
		if _, err := ParseHeaders(h, "ns"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: %v, want %q", tc.header, tc.value, err, tc.want)
		}
	}
	h := good.Clone()
	h.Add(HeaderSeq, "4")
	if _, err := ParseHeaders(h, "ns"); err == nil || !strings.Contains(err.Error(), "2 times") {
		t.Errorf("twice: %v", err)
	}
	if _, err := ParseHeaders(good, "h"); err == nil || !strings.Contains(err.Error(), "precision") {
		t.Errorf("precision: %v", err)
	}
	// precision is signed
	got, _ = ParseHeaders(good, "s")
	if got.Verify(key.Public().(ed25519.PublicKey), []byte("x")) == nil {
		t.Error("a changed precision still verifies")
	}
}

func FuzzParseHeaders(f *testing.F) {
	_, key, _ := ed25519.GenerateKey(nil)
	l := Link{Centre: "c1", Seq: 3, Body: BodyHash([]byte("x")), Precision: "ns"}
	l.Sign(key)
	h := http.Header{}
	l.SetHeaders(h)
	f.Add(h.Get(HeaderCentre), h.Get(HeaderKey), h.Get(HeaderSeq), h.Get(HeaderPrev), h.Get(HeaderBody), h.Get(HeaderSignature), "ns")
	f.Fuzz(func(t *testing.T, centre, keyID, seq, prev, body, sig, prec string) {
		h := http.Header{}
		h.Set(HeaderCentre, centre)
		h.Set(HeaderKey, keyID)
		h.Set(HeaderSeq, seq)
		h.Set(HeaderPrev, prev)
		h.Set(HeaderBody, body)
		h.Set(HeaderSignature, sig)
		got, err := ParseHeaders(h, prec)
		if err != nil {
			return
		}
		// what parses writes back to the same headers and parses to the same link
		h2 := http.Header{}
		got.SetHeaders(h2)
		again, err := ParseHeaders(h2, got.Precision)
		if err != nil || again.Hash() != got.Hash() || string(again.Signature) != string(got.Signature) {
			t.Fatalf("round trip: %v", err)
		}
		if CheckCentre(got.Centre) != nil || got.Seq == 0 {
			t.Fatalf("accepted %+v", got)
		}
	})
}
