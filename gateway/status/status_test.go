package status

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway/webauth"
)

func f(x float64) *float64 { return &x }

// fake is a Provider whose snapshot a test changes.
type fake struct {
	mu sync.Mutex
	s  Snapshot
}

func (p *fake) Snapshot() Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.s
	s.Sensors = append([]Sensor(nil), p.s.Sensors...)
	return s
}

func (p *fake) set(fn func(*Snapshot)) {
	p.mu.Lock()
	fn(&p.s)
	p.mu.Unlock()
}

var t0 = time.Date(2026, 1, 15, 23, 30, 0, 0, time.UTC)

func centre() *fake {
	return &fake{s: Snapshot{
		Centre: "c1", CentreName: "Centre No. 2", Now: t0, Uptime: 90 * time.Minute,
		MQTTConnected: true, ClockSynced: true, InfluxURL: "http://influx",
		Received: 120, Spooled: 118, Written: 100, Backlog: 18, SpoolBytes: 3 << 20, SpoolOldest: t0.Add(-20 * time.Minute),
		WriterBatches: 7, WriterRetries: 2,
		Zones: []Zone{{"room-101", "Room 101", "living", &living}, {"med-fridge", "Treatment fridge", "med-fridge", &medFridge},
			{"boiler", "Boiler", "boiler", &boiler}, {"store", "Store room", "other", nil}},
		Sensors: []Sensor{
			{ID: "room-101-t", Zone: "room-101", ZoneKind: "living", Source: "zigbee2mqtt", LastSeen: t0.Add(-40 * time.Second), Interval: 5 * time.Minute, TemperatureC: f(21.3), HumidityPct: f(45)},
			{ID: "fridge-t", Zone: "med-fridge", ZoneKind: "med-fridge", Source: "tasmota", LastSeen: t0.Add(-2 * time.Minute), Interval: 5 * time.Minute, TemperatureC: f(13.2)},
			{ID: "boiler-t", Zone: "boiler", ZoneKind: "boiler", Source: "ds18b20", LastSeen: t0.Add(-3 * time.Hour), Interval: 30 * time.Second, TemperatureC: f(61)},
		},
		Counters:   []Counter{{"zigbee2mqtt", "decoded", 100}, {"tasmota", "bad_json", 3}},
		Conditions: []Condition{{Kind: "probe_error", Subject: "boiler-t", Zone: "boiler", Severity: "warning", Reason: "crc", Since: t0.Add(-time.Hour)}},
	}}
}

func newServer(t *testing.T, p Provider, opt Options) *httptest.Server {
	t.Helper()
	opt.Provider = p
	opt.Centre = "c1"
	if opt.Now == nil {
		opt.Now = func() time.Time { return t0 }
	}
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

// client is a browser: a cookie jar, no redirects followed.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, ts *httptest.Server) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: ts.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values, hdr ...string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no csrf token in\n%s", html)
	}
	return m[1]
}

func contains(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func lacks(t *testing.T, what, body string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(body, w) {
			t.Errorf("%s has %q", what, w)
		}
	}
}

func TestOpenPage(t *testing.T) {
	ts := newServer(t, centre(), Options{})
	c := newClient(t, ts)
	resp, body := c.do("GET", "/", nil, "Accept-Language", "en-GB,en;q=0.9")
	if resp.StatusCode != 200 {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	contains(t, "page", body,
		`id="open-warning"`, "No password is set",
		"Saqshy · Centre No. 2",
		`<article class="zone ok" data-zone="room-101">`, `data-temp="room-101">21.3 °C`, "normal 20…25 °C",
		`<article class="zone crit" data-zone="med-fridge">`, `13.2 °C`, "normal 2…8 °C",
		`data-sensor="room-101-t"><code>room-101-t</code> <span class="ok">21.3 °C</span> <span class="age">40 s ago</span>`,
		"humidity 45 %",
		// boiler: silent for 3 h with a 30 s interval: stale, uncoloured, says so
		`<li class="stale" data-sensor="boiler-t">`, "3 h 00 m ago", "silent",
		`<article class="zone none" data-zone="store">`, "no sensor",
		"Waiting to send", "18 readings", "oldest 20 m", `class="card warn"`,
		"Open conditions", "probe_error", "crc",
		`src="/assets/app.js"`, `href="/assets/style.css"`,
	)
	// Optional sections appear only with data; no sign-out on an open page.
	lacks(t, "page", body, `id="cameras"`, `id="coverage"`, `id="rounds"`, `id="alerts"`, "Sign out", "http://", "https://")
	if ct := resp.Header.Get("Content-Security-Policy"); !strings.Contains(ct, "script-src 'self'") {
		t.Errorf("CSP = %q", ct)
	}
	for _, p := range []string{"/assets/app.js", "/assets/style.css", "/healthz", "/readyz", "/fragment", "/status.json"} {
		if resp, _ := c.do("GET", p, nil); resp.StatusCode != 200 {
			t.Errorf("GET %s = %d", p, resp.StatusCode)
		}
	}
	for path, want := range map[string]int{"/nope": 404, "/lang?l=xx": 400, "/assets/nope.js": 404} {
		if resp, _ := c.do("GET", path, nil); resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	if resp, _ := c.do("POST", "/", url.Values{}); resp.StatusCode != 405 {
		t.Errorf("POST / = %d, want 405", resp.StatusCode)
	}
}

func TestOptionalSections(t *testing.T) {
	p := centre()
	p.set(func(s *Snapshot) {
		s.Cameras = []Camera{{ID: "cam-01", Zones: []string{"room-101"}, State: CameraHealthy}, {ID: "cam-02", Zones: []string{"corridor"}, State: CameraOffline, Reason: "no stats for 3m"},
			{ID: "cam-03", Zones: []string{"dining"}, State: CameraDegraded, Reason: "recording_off"}}
		s.Coverage = []Coverage{{ZoneKind: "living", Required: 4, Covered: 3, Now: 0.75, Today: 0.9}}
		s.Rounds = &Rounds{Window: "22:00-06:00", Due: 6, Done: 5, Missed: 1, Next: t0.Add(30 * time.Minute)}
		s.Alerts = []Alert{{ID: "a1", Severity: SeverityCritical, State: AlertFiring, Text: "Fridge warm for 30 min", Zone: "med-fridge", Since: t0.Add(-30 * time.Minute)}}
		s.Score = &Score{Live: 67.26, Today: f(71), Caps: []string{"room_below_16"}, Version: "2025.1", Components: []ScoreComponent{
			{Name: "temperature", Ratio: 0.91, Known: true}, {Name: "coverage", Known: false},
		}}
	})
	ts := newServer(t, p, Options{})
	_, body := newClient(t, ts).do("GET", "/", nil, "Accept-Language", "ru")
	contains(t, "page", body,
		`id="cameras"`, "Камеры", `data-camera="cam-02"`, "не в сети", "no stats for 3m", "запись выключена",
		`data-kind="probe_error"`, "ошибка датчика",
		`id="coverage"`, "Покрытие камерами", "сейчас 75 %", "сегодня 90 %", "3 из 4 зон", "<td>жилая комната</td>",
		`id="rounds"`, "Ночные обходы сегодня", "пропущено", "следующий в 00:00",
		`id="alerts"`, "Fridge warm for 30 min", "критично", "активна",
		`id="score"`, "Индекс безопасности", "67.3", "сегодня 71.0", "температура", "91 %",
		"видеопокрытие", "нет данных — считается как 0", "ограничен: жилая комната ниже 16 °C", "2025.1",
	)
	// Without an Acker there is no acknowledge button.
	lacks(t, "page", body, "/api/alerts/a1/ack")
}

func TestLanguages(t *testing.T) {
	ts := newServer(t, centre(), Options{})
	c := newClient(t, ts)
	for _, tt := range []struct{ accept, want, not string }{
		{"kk-KZ,kk;q=0.9,ru;q=0.8", "Аймақтар", "Зоны"},
		{"ru-RU,ru;q=0.9,en;q=0.8", "Зоны", "Zones"},
		{"de-DE,en;q=0.5", "Zones", "Зоны"},
		{"de-DE", "Зоны", "Zones"}, // nothing we speak: Russian
		{"en;q=0.2,kk;q=0.9", "Аймақтар", "Zones"},
		{"garbage;;q=x,,", "Зоны", "Zones"},
	} {
		_, body := c.do("GET", "/", nil, "Accept-Language", tt.accept)
		if !strings.Contains(body, tt.want) || strings.Contains(body, ">"+tt.not+"<") {
			t.Errorf("Accept-Language %q: want %q, not %q", tt.accept, tt.want, tt.not)
		}
	}
	// The switch wins over the browser and sticks.
	resp, _ := c.do("GET", "/lang?l=kk", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("GET /lang = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := c.do("GET", "/", nil, "Accept-Language", "en")
	contains(t, "page after switch", body, `<html lang="kk">`, "Аймақтар", "Құпиясөз орнатылмаған", "40 с бұрын", "<b lang=\"kk\">Қазақша</b>")
}

func TestTranslationsComplete(t *testing.T) {
	for k, m := range messages {
		for i, s := range m {
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: no %s text", k, languages[i])
			}
			if strings.Count(s, "%") != strings.Count(m[2], "%") {
				t.Errorf("%s: %s has other format verbs than English: %q vs %q", k, languages[i], s, m[2])
			}
		}
	}
	// Every key the templates and the code ask for exists.
	src, err := os.ReadFile("page.html")
	if err != nil {
		t.Fatal(err)
	}
	code := ""
	for _, name := range []string{"view.go", "server.go"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		code += string(b)
	}
	keyRE := regexp.MustCompile(`\.T(?:\.T)? "([a-z_]+)"|t\.T\("([a-z_]+)"`)
	n := 0
	for _, m := range keyRE.FindAllStringSubmatch(string(src)+code, -1) {
		k := m[1] + m[2]
		n++
		if _, ok := messages[k]; !ok {
			t.Errorf("key %q is used but not translated", k)
		}
	}
	if n < 30 {
		t.Errorf("found only %d uses of translation keys: the pattern is broken", n)
	}
	// Values translated at run time: severities, alert and camera states.
	for _, k := range []string{SeverityWarning, SeverityCritical, AlertFiring, AlertAcked, AlertResolved, CameraHealthy, CameraDegraded, CameraOffline, CameraUnknown} {
		if _, ok := messages[k]; !ok {
			t.Errorf("state %q is not translated", k)
		}
	}
}

// Bands as the gateway draws them from the alert limits of these kinds.
var (
	living    = Band{20, 25, 18, 26}
	medFridge = Band{2, 8, 0, 8}
	boiler    = Band{60, math.Inf(1), 55, math.Inf(1)}
	freezer   = Band{math.Inf(-1), -18, math.Inf(-1), -12}
	hotWater  = Band{math.Inf(-1), 44, math.Inf(-1), 46}
)

func TestBands(t *testing.T) {
	for _, tt := range []struct {
		band Band
		t    float64
		want string
	}{
		{living, 21, "ok"}, {living, 19, "warn"}, {living, 17.9, "crit"}, {living, 25.5, "warn"}, {living, 26.5, "crit"},
		{medFridge, 5, "ok"}, {medFridge, 1, "warn"}, {medFridge, -0.5, "crit"}, {medFridge, 9, "crit"},
		{freezer, -20, "ok"}, {freezer, -15, "warn"}, {freezer, -10, "crit"},
		{boiler, 62, "ok"}, {boiler, 57, "warn"}, {boiler, 50, "crit"},
		{hotWater, 43, "ok"}, {hotWater, 45, "warn"}, {hotWater, 47, "crit"},
	} {
		if got := tt.band.Level(tt.t); got != tt.want {
			t.Errorf("%v %.1f °C: %s, want %s", tt.band, tt.t, got, tt.want)
		}
	}
	for b, want := range map[Band]string{freezer: "≤ -18 °C", boiler: "≥ 60 °C", living: "20…25 °C"} {
		if b.String() != want {
			t.Errorf("band %v says %q, want %q", b, b.String(), want)
		}
	}
}

func writeHash(t *testing.T, password string) []byte {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost) // fast; HashPassword uses the default cost
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "status.pass")
	if err := os.WriteFile(path, append([]byte("# status page\n"), h...), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPasswordFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLogin(t *testing.T) {
	ts := newServer(t, centre(), Options{PasswordHash: writeHash(t, "night-nurse-2")})
	c := newClient(t, ts)

	// Locked: the page sends to the login; data endpoints answer 401; health stays open.
	resp, _ := c.do("GET", "/", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("GET / without a session = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, p := range []string{"/status.json", "/fragment", "/events"} {
		if resp, _ := c.do("GET", p, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a session = %d, want 401", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if resp, _ := c.do("GET", p, nil); resp.StatusCode != 200 {
			t.Errorf("GET %s = %d, want 200 (open)", p, resp.StatusCode)
		}
	}
	if resp, _ := c.do("POST", "/healthz", url.Values{}); resp.StatusCode != 405 {
		t.Errorf("POST /healthz = %d, want 405 (read-only)", resp.StatusCode)
	}

	_, body := c.do("GET", "/login", nil, "Accept-Language", "en")
	contains(t, "login page", body, "Sign in", `type="password"`)
	lacks(t, "login page", body, "room-101-t", "21.3")
	token := csrfOf(t, body)

	// Bad CSRF: refused, counted.
	resp, body = c.do("POST", "/login", url.Values{"password": {"night-nurse-2"}, "csrf": {"forged"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "The form has expired") {
		t.Errorf("login with a forged token = %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.do("POST", "/login", url.Values{"password": {"night-nurse-2"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without a token = %d", resp.StatusCode)
	}
	// Wrong password: 401, the page says so.
	resp, body = c.do("POST", "/login", url.Values{"password": {"guess"}, "csrf": {token}}, "Accept-Language", "ru")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Неверный пароль.") {
		t.Errorf("wrong password = %d\n%s", resp.StatusCode, body)
	}
	// Right password: a session cookie, HttpOnly and SameSite=Strict.
	resp, _ = c.do("POST", "/login", url.Values{"password": {"night-nurse-2"}, "csrf": {token}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.MaxAge <= 0 {
		t.Fatalf("session cookie = %+v", sess)
	}
	resp, body = c.do("GET", "/", nil, "Accept-Language", "en")
	if resp.StatusCode != 200 {
		t.Fatalf("GET / signed in = %d", resp.StatusCode)
	}
	contains(t, "page", body, "room-101-t", "Sign out")
	lacks(t, "page", body, "No password is set")
	if resp, _ := c.do("GET", "/status.json", nil); resp.StatusCode != 200 {
		t.Errorf("GET /status.json signed in = %d", resp.StatusCode)
	}

	// A cookie from elsewhere is no session.
	other := newClient(t, ts)
	u, _ := url.Parse(ts.URL)
	other.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "made-up"}})
	if resp, _ := other.do("GET", "/status.json", nil); resp.StatusCode != 401 {
		t.Errorf("made-up session = %d", resp.StatusCode)
	}

	// Sign-out needs the token too, then the session is gone.
	if resp, _ := c.do("POST", "/logout", url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout with a forged token = %d", resp.StatusCode)
	}
	resp, _ = c.do("POST", "/logout", url.Values{"csrf": {csrfOf(t, body)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout = %d", resp.StatusCode)
	}
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sess.Value}}) // replay the old cookie
	if resp, _ := c.do("GET", "/status.json", nil); resp.StatusCode != 401 {
		t.Errorf("after logout = %d, want 401", resp.StatusCode)
	}

	// The refusals are counted.
	_, metrics := c.do("GET", "/metrics", nil)
	contains(t, "metrics", metrics,
		`saqshy_status_logins_total{centre="c1",outcome="bad_csrf"} 2`,
		`saqshy_status_logins_total{centre="c1",outcome="wrong_password"} 1`,
		`saqshy_status_logins_total{centre="c1",outcome="ok"} 1`,
		`saqshy_status_rejected_requests_total{centre="c1",reason="bad_csrf"} 3`,
		`saqshy_status_rejected_requests_total{centre="c1",reason="unauthorized"}`,
	)
}

func TestLoginRateLimit(t *testing.T) {
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ts := newServer(t, centre(), Options{PasswordHash: writeHash(t, "night-nurse-2"), Now: clock})
	c := newClient(t, ts)
	_, body := c.do("GET", "/login", nil)
	token := csrfOf(t, body)
	for i := range maxFailures {
		if resp, _ := c.do("POST", "/login", url.Values{"password": {"guess"}, "csrf": {token}}); resp.StatusCode != 401 {
			t.Fatalf("attempt %d = %d", i, resp.StatusCode)
		}
	}
	resp, body := c.do("POST", "/login", url.Values{"password": {"night-nurse-2"}, "csrf": {token}}, "Accept-Language", "kk")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Тым көп әрекет") {
		t.Errorf("after %d failures, even the right password = %d\n%s", maxFailures, resp.StatusCode, body)
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	if resp, _ := c.do("POST", "/login", url.Values{"password": {"night-nurse-2"}, "csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a minute later = %d", resp.StatusCode)
	}
}

type fakeAcker struct {
	mu    sync.Mutex
	acked []string
	err   error
}

func (a *fakeAcker) Ack(_ context.Context, id, by string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	if id != "a1" {
		return ErrUnknownAlert
	}
	a.acked = append(a.acked, id+" by "+by)
	return nil
}

func TestAcknowledge(t *testing.T) {
	p := centre()
	p.set(func(s *Snapshot) {
		s.Alerts = []Alert{
			{ID: "a1", Severity: SeverityCritical, State: AlertFiring, Text: "Fridge warm", Since: t0},
			{ID: "a2", Severity: SeverityWarning, State: AlertAcked, Text: "Room cold", Since: t0, AckedBy: "nurse"},
		}
	})
	acker := &fakeAcker{}
	ts := newServer(t, p, Options{Acker: acker})
	c := newClient(t, ts)
	_, body := c.do("GET", "/", nil, "Accept-Language", "en")
	contains(t, "page", body, `action="/api/alerts/a1/ack"`, "Acknowledge", "acknowledged by nurse")
	lacks(t, "page", body, `action="/api/alerts/a2/ack"`)
	token := csrfOf(t, body)

	for _, tt := range []struct {
		name, path, csrf string
		code             int
		body             string
	}{
		{"no token", "/api/alerts/a1/ack", "", 403, "The form has expired"},
		{"forged token", "/api/alerts/a1/ack", "AAAA", 403, "The form has expired"},
		{"unknown alert", "/api/alerts/nope/ack", token, 404, "No such alert"},
		{"ok", "/api/alerts/a1/ack", token, 303, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{}
			if tt.csrf != "" {
				form.Set("csrf", tt.csrf)
			}
			resp, body := c.do("POST", tt.path, form, "Accept-Language", "en")
			if resp.StatusCode != tt.code || !strings.Contains(body, tt.body) {
				t.Errorf("= %d\n%s", resp.StatusCode, body)
			}
		})
	}
	if len(acker.acked) != 1 || !strings.HasPrefix(acker.acked[0], "a1 by status page, 127.0.0.1") {
		t.Errorf("acked %v", acker.acked)
	}
	if resp, _ := c.do("GET", "/api/alerts/a1/ack", nil); resp.StatusCode != 405 {
		t.Errorf("GET ack = %d, want 405", resp.StatusCode)
	}
	// A token from another browser does not work.
	other := newClient(t, ts)
	other.do("GET", "/", nil)
	if resp, _ := other.do("POST", "/api/alerts/a1/ack", url.Values{"csrf": {token}}); resp.StatusCode != 403 {
		t.Errorf("someone else's token = %d", resp.StatusCode)
	}
	acker.err = errors.New("outbox full")
	resp, body := c.do("POST", "/api/alerts/a1/ack", url.Values{"csrf": {token}}, "Accept-Language", "en")
	if resp.StatusCode != 500 || !strings.Contains(body, "Could not acknowledge the alert: outbox full") {
		t.Errorf("failing acker = %d\n%s", resp.StatusCode, body)
	}
	_, metrics := c.do("GET", "/metrics", nil)
	contains(t, "metrics", metrics,
		`saqshy_status_acks_total{centre="c1"} 1`,
		`saqshy_status_rejected_requests_total{centre="c1",reason="unknown_alert"} 1`,
		`saqshy_status_rejected_requests_total{centre="c1",reason="bad_csrf"} 3`,
		`saqshy_status_rejected_requests_total{centre="c1",reason="ack_error"} 1`,
		`saqshy_alerts_firing{centre="c1",severity="critical"} 1`,
	)

	// Without an Acker the endpoint says alerting is off.
	ts2 := newServer(t, p, Options{})
	c2 := newClient(t, ts2)
	resp, body = c2.do("POST", "/api/alerts/a1/ack", url.Values{"csrf": {"x"}}, "Accept-Language", "en")
	if resp.StatusCode != 404 || !strings.Contains(body, "Alerting is not enabled") {
		t.Errorf("no acker = %d\n%s", resp.StatusCode, body)
	}
}

func TestMetrics(t *testing.T) {
	ts := newServer(t, centre(), Options{GoMetrics: true})
	_, body := newClient(t, ts).do("GET", "/metrics", nil)
	contains(t, "metrics", body,
		`saqshy_mqtt_connected{centre="c1"} 1`,
		`saqshy_messages_total{centre="c1",outcome="decoded",source="zigbee2mqtt"} 100`,
		`saqshy_decode_rejects_total{centre="c1",reason="bad_json",source="tasmota"} 3`,
		`saqshy_spool_bytes{centre="c1"} 3.145728e+06`,
		`saqshy_spool_backlog_events{centre="c1"} 18`,
		`saqshy_spool_backlog_age_seconds{centre="c1"} 1200`,
		`saqshy_spool_dropped_total{centre="c1"} 0`,
		`saqshy_influx_batches_total{centre="c1"} 7`,
		`saqshy_influx_retries_total{centre="c1"} 2`,
		`saqshy_conditions_open{centre="c1",kind="probe_error",severity="warning"} 1`,
		"# TYPE saqshy_messages_total counter", "go_goroutines",
	)
	lacks(t, "metrics", body, `saqshy_decode_rejects_total{centre="c1",reason="decoded"`)
	// The text exposition format: each family's HELP and TYPE once, before its
	// samples; each sample a name, labels and a number.
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)\{centre="c1"(,[a-z_]+="[^"\\]*")*\} [-+0-9.eInfNa]+$`)
	typed := map[string]bool{}
	for line := range strings.Lines(strings.TrimSuffix(body, "\n")) {
		line = strings.TrimSuffix(line, "\n")
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			if typed[f[2]] {
				t.Errorf("metrics: %s typed twice", f[2])
			}
			typed[f[2]] = true
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("metrics: not a sample line: %q", line)
		} else if !typed[m[1]] {
			t.Errorf("metrics: %s sampled before its TYPE", m[1])
		}
	}
}

// TestLiveEvents reads the server-sent event stream: the live fragment comes at
// once, and again when the snapshot changes.
func TestLiveEvents(t *testing.T) {
	p := centre()
	ts := newServer(t, p, Options{UpdateEvery: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/events", nil)
	req.Header.Set("Accept-Language", "en")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next := func() string {
		var ev strings.Builder
		for sc.Scan() {
			line := sc.Text()
			if line == "" && ev.Len() > 0 {
				return ev.String()
			}
			ev.WriteString(line + "\n")
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return ""
	}
	first := next()
	contains(t, "first event", first, "event: live\n", "data: ", "21.3 °C", `data-zone="room-101"`)
	p.set(func(s *Snapshot) { s.Sensors[0].TemperatureC = f(17.2) })
	for {
		ev := next()
		if strings.Contains(ev, "17.2 °C") {
			contains(t, "update", ev, `<article class="zone crit" data-zone="room-101">`)
			break
		}
	}
}

func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope"), "no such file"},
		{"empty", write("empty", "\n# only a comment\n"), "is empty"},
		{"plain password", write("plain", "hunter22\n"), "not a bcrypt hash"},
	} {
		if _, err := ReadPasswordFile(tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	if h, err := HashPassword("long enough"); err != nil || bcrypt.CompareHashAndPassword(h, []byte("long enough")) != nil {
		t.Errorf("HashPassword: %v", err)
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without a provider")
	}
}

// TestMachineAPI: with an API handler, GET /api/... and an acknowledgement that
// carries an Authorization header go to it (it authenticates); the page's own
// acknowledgement (session and CSRF) does not.
func TestMachineAPI(t *testing.T) {
	var got []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusTeapot)
	})
	ts := newServer(t, centre(), Options{API: api})
	c := newClient(t, ts)
	if resp, _ := c.do("GET", "/api/alerts", nil); resp.StatusCode != http.StatusTeapot {
		t.Errorf("GET /api/alerts = %d", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/api/alerts/7/ack", url.Values{"by": {"robot"}}, "Authorization", "Bearer x"); resp.StatusCode != http.StatusTeapot {
		t.Errorf("machine ack = %d", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/api/alerts/7/ack", url.Values{}); resp.StatusCode == http.StatusTeapot {
		t.Errorf("a page ack without a token went to the API")
	}
	if want := []string{"GET /api/alerts ", "POST /api/alerts/7/ack Bearer x"}; !slices.Equal(got, want) {
		t.Errorf("API saw %q, want %q", got, want)
	}
}

// TestLoginRateLimitParallel: parallel wrong passwords cannot get more than the
// limit checked: each attempt counts before its hash is compared.
func TestLoginRateLimitParallel(t *testing.T) {
	ts := newServer(t, centre(), Options{PasswordHash: writeHash(t, "night-nurse-2"), Now: func() time.Time { return t0 }})
	c := newClient(t, ts)
	_, body := c.do("GET", "/login", nil)
	token := csrfOf(t, body)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 60 {
		wg.Go(func() {
			resp, _ := c.do("POST", "/login", url.Values{"password": {"guess"}, "csrf": {token}})
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[http.StatusUnauthorized] > maxFailures || codes[http.StatusTooManyRequests] < 60-maxFailures {
		t.Fatalf("60 parallel wrong passwords: %v; at most %d may be checked", codes, maxFailures)
	}
}

// signIn posts the password from remote (through h directly, so that each client
// has its own address) with a fresh CSRF cookie and token, and returns the response.
func signIn(t *testing.T, h http.Handler, remote, password string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	page := httptest.NewRecorder()
	g := httptest.NewRequest(http.MethodGet, "/login", nil)
	g.RemoteAddr = remote
	h.ServeHTTP(page, g)
	var ck *http.Cookie
	for _, c := range page.Result().Cookies() {
		if c.Name == webauth.CSRFCookie {
			ck = c
		}
	}
	if ck == nil {
		t.Fatal("the login page set no CSRF cookie")
	}
	form := url.Values{"password": {password}, "csrf": {csrfOf(t, page.Body.String())}}
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(ck)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestLoginLockoutPerClient: ten wrong passwords from one client lock out that
// client only; the director signs in from another address. Behind a trusted proxy
// the client is the proxy's X-Forwarded-For, and the session cookie is Secure when
// the proxy says the browser used HTTPS.
func TestLoginLockoutPerClient(t *testing.T) {
	hash := writeHash(t, "night-nurse-2")
	s, err := New(Options{Provider: centre(), Centre: "c1", PasswordHash: hash, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxFailures {
		if w := signIn(t, s, "192.0.2.1:5000", "guess"); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %d", i, w.Code)
		}
	}
	if w := signIn(t, s, "192.0.2.1:5001", "night-nurse-2"); w.Code != http.StatusTooManyRequests {
		t.Errorf("the locked-out client with the right password = %d, want 429", w.Code)
	}
	w := signIn(t, s, "192.0.2.2:5000", "night-nurse-2")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("another client with the right password = %d, want 303 (the lockout must be per client)", w.Code)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie && c.Secure {
			t.Error("session cookie Secure over plain HTTP without a trusted proxy")
		}
	}

	proxy, err := webauth.ParseProxy([]string{"10.0.0.1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Provider: centre(), Centre: "c1", PasswordHash: hash, Proxy: proxy, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxFailures {
		if w := signIn(t, p, "10.0.0.1:5000", "guess", "X-Forwarded-For", "198.51.100.1"); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d through the proxy = %d", i, w.Code)
		}
	}
	if w := signIn(t, p, "10.0.0.1:5000", "night-nurse-2", "X-Forwarded-For", "198.51.100.1"); w.Code != http.StatusTooManyRequests {
		t.Errorf("the locked-out client behind the proxy = %d, want 429", w.Code)
	}
	w = signIn(t, p, "10.0.0.1:5000", "night-nurse-2", "X-Forwarded-For", "198.51.100.2", "X-Forwarded-Proto", "https")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("another client behind the same proxy = %d, want 303", w.Code)
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
	// An untrusted peer cannot pick its address with the header.
	for range maxFailures {
		signIn(t, p, "192.0.2.9:5000", "guess", "X-Forwarded-For", "198.51.100.3")
	}
	if w := signIn(t, p, "192.0.2.9:5000", "night-nurse-2", "X-Forwarded-For", "198.51.100.4"); w.Code != http.StatusTooManyRequests {
		t.Errorf("an untrusted peer escaped its lockout with X-Forwarded-For: %d, want 429", w.Code)
	}
}

// TestLoginRefusesOtherOrigin: a sign-in posted from another site is refused even
// with a valid token and the right password.
func TestLoginRefusesOtherOrigin(t *testing.T) {
	s, err := New(Options{Provider: centre(), Centre: "c1", PasswordHash: writeHash(t, "night-nurse-2"), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	if w := signIn(t, s, "192.0.2.1:5000", "night-nurse-2", "Origin", "https://evil.example"); w.Code != http.StatusForbidden {
		t.Errorf("cross-site sign-in = %d, want 403", w.Code)
	}
	if w := signIn(t, s, "192.0.2.1:5000", "night-nurse-2", "Origin", "http://example.com"); w.Code != http.StatusSeeOther {
		t.Errorf("same-origin sign-in = %d, want 303", w.Code)
	}
}

// TestStatusJSONDecodes: /status.json of a running status server, with zones whose
// bands are open at one end (boiler, freezer), is JSON that decodes, with open ends
// as null.
func TestStatusJSONDecodes(t *testing.T) {
	p := centre()
	p.set(func(s *Snapshot) {
		s.Zones = append(s.Zones, Zone{"freezer", "Freezer", "freezer", &freezer})
	})
	ts := newServer(t, p, Options{})
	c := newClient(t, ts)
	resp, body := c.do("GET", "/status.json", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /status.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got struct {
		Centre string
		Zones  []struct {
			ID   string
			Band *struct{ Low, High, CritLow, CritHigh *float64 }
		}
		Sensors []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decoding /status.json: %v\n%q", err, body)
	}
	if got.Centre != "c1" || len(got.Sensors) != 3 || len(got.Zones) != 5 {
		t.Fatalf("decoded %+v", got)
	}
	bands := map[string]*struct{ Low, High, CritLow, CritHigh *float64 }{}
	for _, z := range got.Zones {
		bands[z.ID] = z.Band
	}
	if b := bands["boiler"]; b == nil || b.Low == nil || *b.Low != 60 || b.High != nil || b.CritHigh != nil || *b.CritLow != 55 {
		t.Errorf("boiler band %+v: want low 60, crit low 55, high ends null", b)
	}
	if b := bands["freezer"]; b == nil || b.Low != nil || b.CritLow != nil || *b.High != -18 || *b.CritHigh != -12 {
		t.Errorf("freezer band %+v", b)
	}
	if bands["store"] != nil {
		t.Errorf("a zone without limits has a band")
	}
}

// TestKazakhWords: words the review found to say something else are gone from the
// Kazakh catalogue: "жойылды" (deleted) for resolved, "қатты" (hard) for froze,
// "өткізілген" (held) for a missed round.
func TestKazakhWords(t *testing.T) {
	all := map[string][3]string{}
	for k, m := range messages {
		all[k] = m
	}
	for k, m := range names {
		all["names."+k] = m
	}
	for key, m := range all {
		kk := strings.ToLower(m[1])
		for _, bad := range []string{"жойыл", "қатты", "өткізілген", "алынып тасталған"} {
			if strings.Contains(kk, bad) {
				t.Errorf("%s: kk %q contains %q", key, m[1], bad)
			}
		}
	}
	if got := messages["resolved"][1]; got != "шешілді" {
		t.Errorf("resolved in kk = %q, want шешілді", got)
	}
	if got := names["med_fridge_freeze"][1]; !strings.Contains(got, "тоңып қалды") {
		t.Errorf("med_fridge_freeze in kk = %q", got)
	}
}

// TestRegistryCard: the page says which registry version the gateway runs, or that
// the centre is unrated.
func TestRegistryCard(t *testing.T) {
	p := centre()
	ts := newServer(t, p, Options{})
	c := newClient(t, ts)
	_, body := c.do("GET", "/", nil, "Accept-Language", "en")
	contains(t, "unrated page", body, "Ministry registry", "unrated", "this centre&#39;s score is not rated (no registry bundle)")
	_, body = c.do("GET", "/", nil, "Accept-Language", "ru")
	contains(t, "unrated page (ru)", body, "Реестр министерства", "без рейтинга", "нет пакета реестра")

	p.set(func(s *Snapshot) { s.Registry = Registry{Version: 3, Pending: 4, Overridden: 2, ConfigHash: "abc"} })
	_, body = c.do("GET", "/", nil, "Accept-Language", "en")
	contains(t, "rated page", body, "registry v3", "2 local setting(s) weaken the registry: its values apply", "v4 installed, takes effect at the next restart")
	lacks(t, "rated page", body, "not rated")
	_, body = c.do("GET", "/", nil, "Accept-Language", "kk")
	contains(t, "rated page (kk)", body, "тізілім v3")
}
