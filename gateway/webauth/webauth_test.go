package webauth

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestSafeNext: only a plain local path survives as the login's redirect target.
func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/centre/c1", "/centre/c1"},
		{"/centre/c1?range=30d&lang=en", "/centre/c1?range=30d&lang=en"},
		{"/reports/2026-03-01#top", "/reports/2026-03-01#top"},
		{"", "/"},
		{"centre/c1", "/"},
		{"https://evil.example", "/"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/\x1f/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
		{"/x\\..\\\\evil.example", "/"},
		{"/centre/c1\t", "/"},
	} {
		if got := SafeNext(tc.in); got != tc.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDummyHashCost: the hash compared for an unknown user name has the users'
// cost (the highest), bcrypt.DefaultCost when there are none or none can be read.
func TestDummyHashCost(t *testing.T) {
	if c, _ := bcrypt.Cost(DummyHash()); c != bcrypt.DefaultCost {
		t.Errorf("dummy hash without users: cost %d, want %d", c, bcrypt.DefaultCost)
	}
	if c, _ := bcrypt.Cost(DummyHash("not a hash")); c != bcrypt.DefaultCost {
		t.Errorf("dummy hash for an unreadable hash: cost %d, want %d", c, bcrypt.DefaultCost)
	}
	lo, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	hi, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost+1)
	if c, _ := bcrypt.Cost(DummyHash(string(lo), string(hi))); c != bcrypt.MinCost+1 {
		t.Errorf("dummy hash follows the users' highest cost: %d, want %d", c, bcrypt.MinCost+1)
	}
	if CheckPassword(DummyHash(string(lo)), "x") {
		t.Error("the dummy hash matched a password")
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestLimiter: Failures reservations per key within Window, then refusals that say
// how long to wait; a refusal counts nothing; other keys are not affected; a
// released attempt does not count; parallel reservations get exactly the limit.
func TestLimiter(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	l := NewLimiter(clk.now)
	for i := 0; i < Failures; i++ {
		if _, ok, _ := l.Reserve("ip:a", "user:x"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
		clk.add(time.Second)
	}
	_, ok, wait := l.Reserve("ip:a", "user:y")
	if ok || wait <= 0 || wait > Window {
		t.Fatalf("attempt %d from ip:a: ok=%v wait=%v, want a refusal with 0 < wait <= %v", Failures+1, ok, wait, Window)
	}
	if _, ok, _ := l.Reserve("ip:b", "user:x"); ok {
		t.Error("user:x is at its limit from another address, yet an attempt was counted")
	}
	if _, ok, _ := l.Reserve("ip:b", "user:y"); !ok {
		t.Error("ip:b/user:y is at no limit (the refusals counted nothing), yet it was refused")
	}
	// Released attempts (successful logins) do not count.
	for i := 0; i < 2*Failures; i++ {
		at, ok, _ := l.Reserve("ip:c")
		if !ok {
			t.Fatalf("successful login %d refused", i+1)
		}
		l.Release(at, "ip:c")
	}
	// Parallel: exactly the limit gets through.
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for i := 0; i < 3*Failures; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok, _ := l.Reserve("ip:d"); ok {
				mu.Lock()
				got++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if got != Failures {
		t.Errorf("parallel reservations: %d got through, want %d", got, Failures)
	}
	clk.add(Window)
	if _, ok, _ := l.Reserve("ip:a", "ip:d", "user:x"); !ok {
		t.Error("a window later the keys are still refused")
	}
	if n := len(l.m); n != 3 {
		t.Errorf("limiter keeps %d keys after the window, want the 3 just reserved", n)
	}
}

func req(remote string, hdr ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

// TestProxyClientIP: the header names the client only when the peer is a trusted
// proxy, and then its last (the proxy's own) entry; anything unreadable falls back
// to the peer.
func TestProxyClientIP(t *testing.T) {
	p, err := ParseProxy([]string{"10.0.0.1", "192.168.0.0/16", "::1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		want string
	}{
		{"direct", req("203.0.113.5:4000"), "203.0.113.5"},
		{"untrusted peer with a header", req("203.0.113.5:4000", "X-Forwarded-For", "198.51.100.7"), "203.0.113.5"},
		{"trusted proxy", req("10.0.0.1:4000", "X-Forwarded-For", "198.51.100.7"), "198.51.100.7"},
		{"trusted prefix, spoofed first entry", req("192.168.3.4:4000", "X-Forwarded-For", "1.2.3.4, 198.51.100.7"), "198.51.100.7"},
		{"two headers: the last", req("10.0.0.1:4000", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-For", "198.51.100.8"), "198.51.100.8"},
		{"trusted IPv6 proxy", req("[::1]:4000", "X-Forwarded-For", "2001:db8::9"), "2001:db8::9"},
		{"trusted proxy without the header", req("10.0.0.1:4000"), "10.0.0.1"},
		{"garbage header", req("10.0.0.1:4000", "X-Forwarded-For", "not-an-ip"), "10.0.0.1"},
		{"another trusted-looking address", req("10.0.0.2:4000", "X-Forwarded-For", "198.51.100.7"), "10.0.0.2"},
	} {
		if got := p.ClientIP(tc.r); got != tc.want {
			t.Errorf("%s: ClientIP = %q, want %q", tc.name, got, tc.want)
		}
	}
	var zero Proxy
	if got := zero.ClientIP(req("10.0.0.1:4000", "X-Forwarded-For", "198.51.100.7")); got != "10.0.0.1" {
		t.Errorf("the zero Proxy trusted a header: %q", got)
	}
	custom, _ := ParseProxy([]string{"10.0.0.1"}, "X-Real-IP")
	if got := custom.ClientIP(req("10.0.0.1:4000", "X-Forwarded-For", "1.2.3.4", "X-Real-IP", "198.51.100.7")); got != "198.51.100.7" {
		t.Errorf("custom header: %q, want 198.51.100.7", got)
	}
}

// TestParseProxyErrors: a bad entry is named.
func TestParseProxyErrors(t *testing.T) {
	for _, bad := range []string{"10.0.0", "10.0.0.0/33", "proxy.local", ""} {
		_, err := ParseProxy([]string{"10.0.0.1", bad}, "")
		if err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("ParseProxy(%q): %v, want an error naming it", bad, err)
		}
	}
}

// TestProxySecure: HTTPS directly, or as a trusted proxy says; an untrusted peer's
// X-Forwarded-Proto is ignored.
func TestProxySecure(t *testing.T) {
	p, _ := ParseProxy([]string{"10.0.0.1"}, "")
	direct := req("203.0.113.5:4000")
	direct.TLS = &tls.ConnectionState{}
	for _, tc := range []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"plain", req("203.0.113.5:4000"), false},
		{"TLS", direct, true},
		{"trusted proxy, https", req("10.0.0.1:4000", "X-Forwarded-Proto", "https"), true},
		{"trusted proxy, http", req("10.0.0.1:4000", "X-Forwarded-Proto", "http"), false},
		{"untrusted peer says https", req("203.0.113.5:4000", "X-Forwarded-Proto", "https"), false},
	} {
		if got := p.Secure(tc.r); got != tc.want {
			t.Errorf("%s: Secure = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSessions: a session is found by its cookie until it expires or is dropped.
func TestSessions(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := NewSessions[string](time.Hour, clk.now)
	tok, ss := s.Create("min")
	if ss.CSRF == "" || ss.CSRF == tok || ss.User != "min" {
		t.Fatalf("session %+v with id %q", ss, tok)
	}
	with := func(v string) *http.Request {
		r := req("203.0.113.5:4000")
		r.AddCookie(&http.Cookie{Name: SessionCookie, Value: v})
		return r
	}
	if got := s.Get(with(tok)); got != ss {
		t.Fatalf("Get = %+v, want the session", got)
	}
	if s.Get(with("forged")) != nil || s.Get(req("203.0.113.5:4000")) != nil {
		t.Error("a forged or missing cookie found a session")
	}
	clk.add(time.Hour + time.Second)
	if s.Get(with(tok)) != nil {
		t.Error("an expired session was found")
	}
	tok2, _ := s.Create("shym")
	s.Drop(with(tok2))
	if s.Get(with(tok2)) != nil {
		t.Error("a dropped session was found")
	}
}

// TestSignedCSRF: a token verifies only with the cookie it was made for.
func TestSignedCSRF(t *testing.T) {
	c := NewSignedCSRF()
	w := httptest.NewRecorder()
	cookie := c.Ensure(w, req("203.0.113.5:4000"))
	if len(w.Result().Cookies()) != 1 || len(cookie) < 32 {
		t.Fatalf("Ensure set %v", w.Result().Cookies())
	}
	post := func(ck, tok string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if ck != "" {
			r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: ck})
		}
		return r
	}
	if !c.Check(post(cookie, c.Token(cookie))) {
		t.Error("the right token was refused")
	}
	other := NewToken()
	for name, r := range map[string]*http.Request{
		"another cookie's token": post(cookie, c.Token(other)),
		"no cookie":              post("", c.Token(cookie)),
		"no token":               post(cookie, ""),
		"short cookie":           post("x", c.Token("x")),
		"another key's token":    post(cookie, NewSignedCSRF().Token(cookie)),
	} {
		if c.Check(r) {
			t.Errorf("%s passed the check", name)
		}
	}
}

// TestSameOrigin: a request announcing another origin is refused.
func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		origin, fetch string
		want          bool
	}{
		{"", "", true},
		{"http://example.test", "", true},
		{"https://example.test", "", true},
		{"https://evil.example", "", false},
		{"null", "", true},
		{"null", "cross-site", false},
		{"null", "same-site", false},
		{"null", "same-origin", true}, // a no-referrer page's own form, as Chromium posts it
		{"https://evil.example", "cross-site", false},
		{"", "none", true},
	} {
		r := httptest.NewRequest(http.MethodPost, "http://example.test/login", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.fetch != "" {
			r.Header.Set("Sec-Fetch-Site", tc.fetch)
		}
		if got := SameOrigin(r); got != tc.want {
			t.Errorf("Origin %q, Sec-Fetch-Site %q: %v, want %v", tc.origin, tc.fetch, got, tc.want)
		}
	}
}
