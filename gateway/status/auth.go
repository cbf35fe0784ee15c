package status

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Cookie names.
const (
	sessionCookie = "saqshy_session"
	csrfCookie    = "saqshy_csrf"
)

// ReadPasswordFile reads a bcrypt hash (as written by `saqshy-gateway
// hash-password`) from path: the first non-empty line that is not a comment.
func ReadPasswordFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("status.password_file: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, err := bcrypt.Cost([]byte(line)); err != nil {
			return nil, fmt.Errorf("status.password_file %s: not a bcrypt hash (make one with saqshy-gateway hash-password): %w", path, err)
		}
		return []byte(line), nil
	}
	return nil, fmt.Errorf("status.password_file %s is empty (make a hash with saqshy-gateway hash-password)", path)
}

// HashPassword returns the bcrypt hash of password to put in status.password_file.
func HashPassword(password string) ([]byte, error) {
	if len(password) < 8 {
		return nil, errors.New("the password must be at least 8 characters")
	}
	return bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
}

// auth holds the sessions and signs CSRF tokens. Sessions live in memory: a
// restart signs everyone out.
type auth struct {
	hash []byte // nil: the page is open
	key  [32]byte
	ttl  time.Duration
	now  func() time.Time

	mu       sync.Mutex
	sessions map[string]time.Time // id -> expiry
	failures []time.Time          // failed logins in the last minute
}

func newAuth(hash []byte, ttl time.Duration, now func() time.Time) *auth {
	a := &auth{hash: hash, ttl: ttl, now: now, sessions: map[string]time.Time{}}
	_, _ = rand.Read(a.key[:])
	return a
}

func (a *auth) open() bool { return a.hash == nil }

func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// loggedIn reports whether r carries a live session (always true for an open page).
func (a *auth) loggedIn(r *http.Request) bool {
	if a.open() {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.sessions[c.Value]
	if !ok {
		return false
	}
	if a.now().After(exp) {
		delete(a.sessions, c.Value)
		return false
	}
	return true
}

// errTooMany means too many failed logins in the last minute.
var errTooMany = errors.New("too many failed logins")

// maxFailures is how many wrong passwords a minute the page accepts before it
// refuses every login attempt for the rest of that minute.
const maxFailures = 10

// login checks password; on success it returns a new session id.
func (a *auth) login(password string) (string, error) {
	now := a.now()
	a.mu.Lock()
	recent := a.failures[:0]
	for _, f := range a.failures {
		if now.Sub(f) < time.Minute {
			recent = append(recent, f)
		}
	}
	a.failures = recent
	if len(recent) >= maxFailures {
		a.mu.Unlock()
		return "", errTooMany
	}
	// The attempt counts as a failure before the (slow) hash is checked, so that
	// parallel attempts cannot all pass the limit; a right password takes it back.
	a.failures = append(a.failures, now)
	a.mu.Unlock()
	if err := bcrypt.CompareHashAndPassword(a.hash, []byte(password)); err != nil {
		return "", err
	}
	id := randomID()
	a.mu.Lock()
	if i := slices.Index(a.failures, now); i >= 0 {
		a.failures = slices.Delete(a.failures, i, i+1)
	}
	for k, exp := range a.sessions { // forget expired sessions
		if now.After(exp) {
			delete(a.sessions, k)
		}
	}
	a.sessions[id] = now.Add(a.ttl)
	a.mu.Unlock()
	return id, nil
}

func (a *auth) logout(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
}

// csrfToken returns the token forms must carry: an HMAC of the browser's CSRF
// cookie, which ensureCSRFCookie sets. A page on another site can neither read the
// cookie nor compute the token.
func (a *auth) csrfToken(cookie string) string {
	m := hmac.New(sha256.New, a.key[:])
	m.Write([]byte("csrf\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ensureCSRFCookie returns the request's CSRF cookie value, setting a new one on
// w when there is none.
func (a *auth) ensureCSRFCookie(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	v := randomID()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return v
}

// checkCSRF verifies a POST's csrf form value against its cookie.
func (a *auth) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(a.csrfToken(c.Value)))
}
