package webauth

import (
	"sync"
	"time"
)

// Login throttling: at most Failures failed logins per key (a client address, a user
// name) within Window.
const (
	Failures = 10
	Window   = time.Minute
)

// Limiter counts failed logins per key ("ip:…", "user:…") in a sliding window. An
// attempt is counted before the password is checked (Reserve) and given back when
// it succeeds (Release), so parallel attempts cannot slip past the limit while
// bcrypt runs.
type Limiter struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string][]time.Time // attempts within the window, oldest first
}

// NewLimiter returns an empty limiter; now may be nil (time.Now).
func NewLimiter(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, m: map[string][]time.Time{}}
}

// prune drops the attempts that left the window; keys left empty go.
func (l *Limiter) prune(now time.Time) {
	for k, ts := range l.m {
		i := 0
		for i < len(ts) && now.Sub(ts[i]) >= Window {
			i++
		}
		if i == len(ts) {
			delete(l.m, k)
		} else if i > 0 {
			l.m[k] = ts[i:]
		}
	}
}

// Reserve counts an attempt against every key, or, when any key is at the limit,
// counts nothing and returns false and how long until that key has room again.
func (l *Limiter) Reserve(keys ...string) (at time.Time, ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.prune(now)
	for _, k := range keys {
		if ts := l.m[k]; len(ts) >= Failures {
			if w := Window - now.Sub(ts[len(ts)-Failures]); w > wait {
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

// Release gives back an attempt reserved at at (the login succeeded).
func (l *Limiter) Release(at time.Time, keys ...string) {
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
