package status

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway/webauth"
)

// sessionCookie carries the session id.
const sessionCookie = webauth.SessionCookie

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

// auth is the page's sign-in: one password, sessions in memory (a restart signs
// everyone out), signed CSRF tokens and failed logins limited per client address
// (gateway/webauth, shared with the monitoring room).
type auth struct {
	hash     []byte // nil: the page is open
	sessions *webauth.Sessions[struct{}]
	limit    *webauth.Limiter
	csrf     *webauth.SignedCSRF
	proxy    webauth.Proxy
}

func newAuth(hash []byte, ttl time.Duration, now func() time.Time, proxy webauth.Proxy) *auth {
	return &auth{hash: hash, sessions: webauth.NewSessions[struct{}](ttl, now), limit: webauth.NewLimiter(now),
		csrf: webauth.NewSignedCSRF(), proxy: proxy}
}

func (a *auth) open() bool { return a.hash == nil }

// loggedIn reports whether r carries a live session (always true for an open page).
func (a *auth) loggedIn(r *http.Request) bool {
	return a.open() || a.sessions.Get(r) != nil
}

// errTooMany means too many failed logins from this client in the last minute.
var errTooMany = errors.New("too many failed logins")

// maxFailures is how many wrong passwords a minute the page accepts from one client
// before it refuses every login attempt of that client for the rest of that minute.
const maxFailures = webauth.Failures

// login checks password; on success it returns a new session id. The attempt
// counts as a failure of r's client before the (slow) hash is checked, so that
// parallel attempts cannot all pass the limit; a right password takes it back.
func (a *auth) login(r *http.Request, password string) (string, error) {
	key := "ip:" + a.proxy.ClientIP(r)
	at, ok, _ := a.limit.Reserve(key)
	if !ok {
		return "", errTooMany
	}
	if err := bcrypt.CompareHashAndPassword(a.hash, []byte(password)); err != nil {
		return "", err
	}
	a.limit.Release(at, key)
	id, _ := a.sessions.Create(struct{}{})
	return id, nil
}

func (a *auth) logout(r *http.Request) { a.sessions.Drop(r) }

// csrfToken returns the token forms must carry for the browser's CSRF cookie.
func (a *auth) csrfToken(cookie string) string { return a.csrf.Token(cookie) }

// ensureCSRFCookie returns the request's CSRF cookie value, setting a new one on
// w when there is none.
func (a *auth) ensureCSRFCookie(w http.ResponseWriter, r *http.Request) string {
	return a.csrf.Ensure(w, r)
}

// checkCSRF verifies a POST's csrf form value against its cookie, and refuses a
// request that announces another site as its origin.
func (a *auth) checkCSRF(r *http.Request) bool { return webauth.SameOrigin(r) && a.csrf.Check(r) }
