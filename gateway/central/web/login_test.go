package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway/webauth"
)

// loginServer is a web app with two users (passwords "pw-min", "pw-shym") hashed at
// cost, and its clock.
func loginServer(t *testing.T, cost int) (*Server, *testClock) {
	return loginServerOpt(t, cost, Options{})
}

// loginServerOpt is loginServer with options (users, log and clock are set).
func loginServerOpt(t *testing.T, cost int, opt Options) (*Server, *testClock) {
	t.Helper()
	var users []User
	for _, n := range []string{"min", "shym"} {
		h, err := bcrypt.GenerateFromPassword([]byte("pw-"+n), cost)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, User{Name: n, Role: RoleMinistry, Lang: "en", PasswordHash: string(h)})
	}
	clk := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opt.Users, opt.Log, opt.Now = users, slog.New(slog.DiscardHandler), clk.now
	s, err := NewServer(opt)
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// postLogin posts the login form from ip and returns the response.
func postLogin(h http.Handler, ip, user, password string) *httptest.ResponseRecorder {
	return postLoginHdr(h, ip, user, password)
}

// postLoginHdr is postLogin with request headers (name, value, …).
func postLoginHdr(h http.Handler, ip, user, password string, hdr ...string) *httptest.ResponseRecorder {
	form := url.Values{"csrf": {"tok"}, "user": {user}, "password": {password}, "next": {"/"}}
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: loginCookie, Value: "tok"})
	r.RemoteAddr = ip + ":40000"
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestLoginDummyHashCost: an unknown user name costs as much bcrypt work as a wrong
// password (the dummy hash has the users' cost, not bcrypt.MinCost).
func TestLoginDummyHashCost(t *testing.T) {
	s, _ := loginServer(t, bcrypt.DefaultCost)
	got, err := bcrypt.Cost(s.dummy)
	if err != nil {
		t.Fatal(err)
	}
	if got != bcrypt.DefaultCost {
		t.Errorf("dummy hash cost %d, want the users' %d", got, bcrypt.DefaultCost)
	}
	if c, _ := bcrypt.Cost(newDummyHash(nil)); c != bcrypt.DefaultCost {
		t.Errorf("dummy hash without users: cost %d, want %d", c, bcrypt.DefaultCost)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost+1)
	if c, _ := bcrypt.Cost(newDummyHash([]User{{PasswordHash: string(h)}})); c != bcrypt.MinCost+1 {
		t.Errorf("dummy hash follows the users' cost: %d, want %d", c, bcrypt.MinCost+1)
	}
}

// TestLoginThrottle: after 10 failed logins in a minute from one address, or for one
// user name, further attempts get 429 before any password is checked (a right one
// too); parallel attempts cannot get past the limit; successful logins do not count;
// a minute later logins work again.
func TestLoginThrottle(t *testing.T) {
	s, clk := loginServer(t, bcrypt.MinCost) // the dummy hash follows: quick under -race
	h := s.Handler()
	for i := 0; i < loginFailures; i++ {
		if w := postLogin(h, "10.0.0.1", "min", "wrong"); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, w.Code)
		}
	}
	w := postLogin(h, "10.0.0.1", "min", "pw-min")
	if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), tr("ru", "login.throttled")) || w.Header().Get("Retry-After") == "" {
		t.Fatalf("11th attempt: %d, Retry-After %q, want 429 with the throttle message\n%.500s", w.Code, w.Header().Get("Retry-After"), w.Body.String())
	}
	// Per user name: another address gets 429 for "min", not for "shym".
	if w := postLogin(h, "10.0.0.2", "min", "pw-min"); w.Code != http.StatusTooManyRequests {
		t.Errorf("min from another address: %d, want 429", w.Code)
	}
	if w := postLogin(h, "10.0.0.2", "shym", "pw-shym"); w.Code != http.StatusSeeOther {
		t.Errorf("shym from another address: %d, want 303", w.Code)
	}
	// Per address: unknown names from one address.
	for i := 0; i < loginFailures; i++ {
		if w := postLogin(h, "10.0.0.3", "nobody"+strconv.Itoa(i), "x"); w.Code != http.StatusUnauthorized {
			t.Fatalf("unknown user %d: %d, want 401", i, w.Code)
		}
	}
	if w := postLogin(h, "10.0.0.3", "shym", "pw-shym"); w.Code != http.StatusTooManyRequests {
		t.Errorf("a throttled address logging in as shym: %d, want 429", w.Code)
	}
	// Successful logins are not failures.
	for i := 0; i < 2*loginFailures; i++ {
		if w := postLogin(h, "10.0.0.4", "shym", "pw-shym"); w.Code != http.StatusSeeOther {
			t.Fatalf("login %d: %d, want 303", i+1, w.Code)
		}
	}
	// Parallel failures: exactly the limit gets through to bcrypt.
	var wg sync.WaitGroup
	codes := make(chan int, 3*loginFailures)
	for i := 0; i < 3*loginFailures; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- postLogin(h, "10.0.0.5", "ghost", "x").Code
		}()
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[http.StatusUnauthorized] != loginFailures || n[http.StatusTooManyRequests] != 2*loginFailures {
		t.Errorf("parallel attempts: %v, want %d×401 and %d×429", n, loginFailures, 2*loginFailures)
	}
	// A minute later the window has passed.
	clk.add(loginWindow + time.Second)
	if w := postLogin(h, "10.0.0.1", "min", "pw-min"); w.Code != http.StatusSeeOther {
		t.Errorf("after the window: %d, want 303", w.Code)
	}
}

// TestLoginBehindProxy: behind a trusted reverse proxy the failed-login limit
// counts the client the proxy names, not the proxy, and the session cookie is
// Secure when the proxy says the browser used HTTPS; an untrusted peer's header is
// ignored.
func TestLoginBehindProxy(t *testing.T) {
	proxy, err := webauth.ParseProxy([]string{"10.0.0.1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := loginServerOpt(t, bcrypt.MinCost, Options{Proxy: proxy})
	h := s.Handler()
	for i := 0; i < loginFailures; i++ {
		if w := postLoginHdr(h, "10.0.0.1", "nobody"+strconv.Itoa(i), "x", "X-Forwarded-For", "198.51.100.1"); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, w.Code)
		}
	}
	if w := postLoginHdr(h, "10.0.0.1", "min", "pw-min", "X-Forwarded-For", "198.51.100.1"); w.Code != http.StatusTooManyRequests {
		t.Errorf("the throttled client behind the proxy: %d, want 429", w.Code)
	}
	w := postLoginHdr(h, "10.0.0.1", "min", "pw-min", "X-Forwarded-For", "198.51.100.2", "X-Forwarded-Proto", "https")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("another client behind the same proxy: %d, want 303", w.Code)
	}
	secure := false
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			secure = c.Secure
		}
	}
	if !secure {
		t.Error("session cookie not Secure although the trusted proxy says HTTPS")
	}
	w = postLoginHdr(h, "192.0.2.7", "min", "pw-min", "X-Forwarded-Proto", "https")
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie && c.Secure {
			t.Error("an untrusted peer's X-Forwarded-Proto made the cookie Secure")
		}
	}
	for i := 0; i < loginFailures; i++ {
		postLoginHdr(h, "192.0.2.9", "ghost"+strconv.Itoa(i), "x", "X-Forwarded-For", "198.51.100.3")
	}
	if w := postLoginHdr(h, "192.0.2.9", "shym", "pw-shym", "X-Forwarded-For", "198.51.100.4"); w.Code != http.StatusTooManyRequests {
		t.Errorf("an untrusted peer escaped its limit with X-Forwarded-For: %d, want 429", w.Code)
	}
}
