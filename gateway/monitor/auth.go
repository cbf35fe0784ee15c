package monitor

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
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

// dummyHash is compared against when the user name is unknown, so that a wrong name
// takes as long as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("saqshy-dummy-password"), bcrypt.MinCost)

// authenticate returns the user with that name and password, or nil.
func authenticate(users []User, name, password string) *User {
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
