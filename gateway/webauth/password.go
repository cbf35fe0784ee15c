package webauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"

	"golang.org/x/crypto/bcrypt"
)

// NewToken returns 32 random bytes, URL-safe base64: session ids and CSRF tokens.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokensEqual compares a submitted token with the expected one in constant time; an
// empty token never matches.
func TokensEqual(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// NamesEqual compares two user names in constant time.
func NamesEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// DummyHash returns the hash compared against when the user name is unknown, so
// that a wrong name takes as long as a wrong password: a bcrypt hash at the cost of
// the given hashes (the highest; bcrypt.DefaultCost when none can be read). Compute
// it once, when the server is built.
func DummyHash(hashes ...string) []byte {
	cost := 0
	for _, h := range hashes {
		if c, err := bcrypt.Cost([]byte(h)); err == nil && c > cost {
			cost = c
		}
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(NewToken()), cost)
	if err != nil { // only for a cost out of range, which bcrypt.Cost does not return
		h, _ = bcrypt.GenerateFromPassword([]byte(NewToken()), bcrypt.DefaultCost)
	}
	return h
}

// CheckPassword reports whether password matches the bcrypt hash.
func CheckPassword(hash []byte, password string) bool {
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// HashPassword returns the bcrypt hash of password at bcrypt.DefaultCost.
func HashPassword(password string) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
}
