package registry

import (
	"crypto/ed25519"
	"os"
	"testing"

	"github.com/saqshy/saqshy/gateway/config"
)

// FuzzParse: any input gives a valid entry or *config.FieldErrors, never a panic;
// a valid entry signs and verifies back to the same canonical bytes.
func FuzzParse(f *testing.F) {
	f.Add([]byte(small))
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	f.Add([]byte("version: 1\nzones: &z [*z]\n"))
	f.Add([]byte("sensors: [{max_interval: 60}]\n"))
	seed := make([]byte, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse("fuzz.yaml", data)
		if err != nil {
			if e != nil {
				t.Fatal("entry and error")
			}
			if len(config.FieldErrors(err)) == 0 {
				t.Fatalf("not FieldErrors: %v", err)
			}
			return
		}
		b, err := Sign(e, priv)
		if err != nil {
			t.Fatalf("a parsed entry does not sign: %v", err)
		}
		got, err := Verify(b, pub)
		if err != nil {
			t.Fatalf("a signed entry does not verify: %v", err)
		}
		c1, _ := e.Canonical()
		c2, _ := got.Canonical()
		if string(c1) != string(c2) {
			t.Fatalf("canonical bytes changed:\n%s\n%s", c1, c2)
		}
	})
}

// FuzzVerify: any bundle bytes are refused or verify, never a panic.
func FuzzVerify(f *testing.F) {
	seed := make([]byte, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	if e, err := Parse("small.yaml", []byte(small)); err == nil {
		if b, err := Sign(e, priv); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"format":"saqshy-registry-bundle/1","payload":"e30=","signature":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Verify(data, pub)
		if (e == nil) == (err == nil) {
			t.Fatalf("entry %v and error %v", e, err)
		}
	})
}
