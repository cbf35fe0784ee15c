package webauth

import (
	"net/http"
	"sync"
	"time"
)

// SessionCookie is the cookie that carries a session id.
const SessionCookie = "saqshy_session"

// Session is a logged-in user (U: whatever the application keeps of them) with the
// CSRF token its forms carry.
type Session[U any] struct {
	User    U
	CSRF    string
	Expires time.Time
}

// Sessions are held in memory: a restart logs everybody out, which keeps no secret
// on disk.
type Sessions[U any] struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]*Session[U]
}

// NewSessions keeps sessions for ttl after login; now may be nil (time.Now).
func NewSessions[U any](ttl time.Duration, now func() time.Time) *Sessions[U] {
	if now == nil {
		now = time.Now
	}
	return &Sessions[U]{ttl: ttl, now: now, m: map[string]*Session[U]{}}
}

// TTL is how long a session lives.
func (s *Sessions[U]) TTL() time.Duration { return s.ttl }

// Create starts a session for u and returns its id. Expired sessions are dropped.
func (s *Sessions[U]) Create(u U) (string, *Session[U]) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m {
		if now.After(v.Expires) {
			delete(s.m, k)
		}
	}
	tok := NewToken()
	ss := &Session[U]{User: u, CSRF: NewToken(), Expires: now.Add(s.ttl)}
	s.m[tok] = ss
	return tok, ss
}

// Get returns the live session of r's session cookie, or nil.
func (s *Sessions[U]) Get(r *http.Request) *Session[U] {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[c.Value]
	if ss == nil {
		return nil
	}
	if s.now().After(ss.Expires) {
		delete(s.m, c.Value)
		return nil
	}
	return ss
}

// Drop ends r's session.
func (s *Sessions[U]) Drop(r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.mu.Lock()
		delete(s.m, c.Value)
		s.mu.Unlock()
	}
}
