package monitor

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const (
	sessionCookie = "saqshy_session"
	loginCookie   = "saqshy_login" // pre-login CSRF token (double submit)
	sessionTTL    = 12 * time.Hour
)

// session is a logged-in user.
type session struct {
	user    *User
	csrf    string
	expires time.Time
}

// sessions are held in memory: a restart logs everybody out, which for a monitoring
// room is acceptable and keeps no secret on disk.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(u *User) (string, *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m { // drop expired sessions
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	tok := newToken()
	ss := &session{user: u, csrf: newToken(), expires: now.Add(sessionTTL)}
	s.m[tok] = ss
	return tok, ss
}

func (s *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[c.Value]
	if ss == nil || s.now().After(ss.expires) {
		return nil
	}
	return ss
}

func (s *sessions) drop(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		delete(s.m, c.Value)
		s.mu.Unlock()
	}
}

// newDummyHash returns the hash compared against when the user name is unknown, so
// that a wrong name takes as long as a wrong password: a bcrypt hash at the cost of
// the configured users' hashes (the highest; bcrypt.DefaultCost, HashPassword's, when
// none can be read). It is computed once, when the server is built.
func newDummyHash(users []User) []byte {
	cost := 0
	for _, u := range users {
		if c, err := bcrypt.Cost([]byte(u.PasswordHash)); err == nil && c > cost {
			cost = c
		}
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(newToken()), cost)
	if err != nil { // only for a cost out of range, which bcrypt.Cost does not return
		h, _ = bcrypt.GenerateFromPassword([]byte(newToken()), bcrypt.DefaultCost)
	}
	return h
}

// authenticate returns the user with that name and password, or nil.
func authenticate(users []User, dummyHash []byte, name, password string) *User {
	for i := range users {
		if subtle.ConstantTimeCompare([]byte(users[i].Name), []byte(name)) == 1 {
			if bcrypt.CompareHashAndPassword([]byte(users[i].PasswordHash), []byte(password)) == nil {
				return &users[i]
			}
			return nil
		}
	}
	_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
	return nil
}

// Login throttling: at most loginFailures failed logins per client address and per
// user name within loginWindow.
const (
	loginFailures = 10
	loginWindow   = time.Minute
)

// loginLimiter counts failed logins per key ("ip:…", "user:…") in a sliding window.
// An attempt is counted before the password is checked (reserve) and given back
// when it succeeds, so parallel attempts cannot slip past the limit while bcrypt runs.
type loginLimiter struct {
	mu  sync.Mutex
	m   map[string][]time.Time // attempts within the window, oldest first
	now func() time.Time
}

// prune drops the attempts that left the window; keys left empty go.
func (l *loginLimiter) prune(now time.Time) {
	for k, ts := range l.m {
		i := 0
		for i < len(ts) && now.Sub(ts[i]) >= loginWindow {
			i++
		}
		if i == len(ts) {
			delete(l.m, k)
		} else if i > 0 {
			l.m[k] = ts[i:]
		}
	}
}

// reserve counts an attempt against every key, or, when any key is at the limit,
// counts nothing and returns false and how long until that key has room again.
func (l *loginLimiter) reserve(keys ...string) (at time.Time, ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.m == nil {
		l.m = map[string][]time.Time{}
	}
	l.prune(now)
	for _, k := range keys {
		if ts := l.m[k]; len(ts) >= loginFailures {
			if w := loginWindow - now.Sub(ts[len(ts)-loginFailures]); w > wait {
				wait = w
			}
		}
	}
	if wait > 0 {
		return time.Time{}, false, wait
	}
	for _, k := range keys {
		l.m[k] = append(l.m[k], now)
	}
	return now, true, 0
}

// release gives back an attempt reserved at at (the login succeeded).
func (l *loginLimiter) release(at time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		ts := l.m[k]
		for i := len(ts) - 1; i >= 0; i-- {
			if ts[i].Equal(at) {
				l.m[k] = append(ts[:i:i], ts[i+1:]...)
				break
			}
		}
		if len(l.m[k]) == 0 {
			delete(l.m, k)
		}
	}
}

// clientIP is the address a request came from, without its port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// HashPassword returns a bcrypt hash for the config's password_hash.
func HashPassword(password string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(b), err
}

func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// sameOrigin rejects a cross-site request that announces its origin.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" && r.Header.Get("Sec-Fetch-Site") == "" {
		return true
	}
	return o == "http://"+r.Host || o == "https://"+r.Host
}

// allowed reports whether u may see a centre of region (unregistered centres have no
// region and only the ministry sees them).
func (u *User) allowed(c CentreInfo, registered bool) bool {
	if u.Role == RoleMinistry {
		return true
	}
	return registered && c.Region == u.Region
}
