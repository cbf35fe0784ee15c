package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/status"
)

// lockedBuffer collects Chromium's output, written by chromedp's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var updateScreenshots = flag.Bool("screenshots", false, "write the browser test's screenshots to docs/screenshots/ (make screenshots)")

// chromium finds Debian's Chromium. A missing browser fails the test: the browser
// test is part of make test, and make tools installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found on PATH: install the Debian package chromium (sudo apt-get install -y chromium; `make tools` does it)")
	return ""
}

// browser is a headless Chromium with one tab, for the status page's and the
// demo's tests; its steps fail the test.
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string // where screenshots go without -screenshots
}

// newBrowser starts Chromium (English, 1280x900) with its profile under dir.
func newBrowser(t *testing.T, dir string) *browser {
	t.Helper()
	exe := chromium(t)
	chromeLog := &lockedBuffer{}
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(chromeLog),
	)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		bcancel()
		acancel()
		if t.Failed() {
			t.Logf("chromium output:\n%s", chromeLog.String())
		}
	})
	// Start the browser with a context without a timeout (it would stop the browser).
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	return &browser{t: t, ctx: bctx, dir: dir}
}

func (b *browser) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	sctx, scancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer scancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
}

// eval returns the value of a JavaScript expression.
func (b *browser) eval(js string) string {
	b.t.Helper()
	sctx, scancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer scancel()
	s, err := chromedp.Run(sctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return s
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	sctx, scancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer scancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// waitNavigated polls js after a click that navigates: the old page's context
// goes away under the poll.
func (b *browser) waitNavigated(name, js string) {
	b.t.Helper()
	var err error
	for range 5 {
		sctx, scancel := context.WithTimeout(b.ctx, 15*time.Second)
		err = chromedp.Do(sctx, chromedp.Poll[chromedp.Void](js))
		scancel()
		if err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.t.Fatalf("%s: %v", name, err)
}

// shot takes a screenshot of the whole page: into docs/screenshots/ with
// -screenshots (make screenshots), else into the test's directory.
func (b *browser) shot(name string) {
	b.t.Helper()
	sctx, scancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer scancel()
	img, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width < 300 || cfg.Height < 300 {
		b.t.Fatalf("screenshot %s: not a page-sized PNG (%v, %dx%d)", name, err, cfg.Width, cfg.Height)
	}
	out := filepath.Join(b.dir, name)
	if *updateScreenshots {
		out = filepath.Join("..", "..", "docs", "screenshots", name)
	}
	if err := os.WriteFile(out, img, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s (%dx%d)", out, cfg.Width, cfg.Height)
}

// scheme emulates prefers-color-scheme as Chromium's DevTools do.
func (b *browser) scheme(value string) {
	b.t.Helper()
	sctx, scancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer scancel()
	if _, err := chromedp.Call(sctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: value}}}); err != nil {
		b.t.Fatalf("emulate prefers-color-scheme %s: %v", value, err)
	}
}

// luminance is the relative luminance of the rgb() colour expr evaluates to.
func (b *browser) luminance(expr string) float64 {
	b.t.Helper()
	css := b.eval(expr)
	var r, g, bl float64
	if _, err := fmt.Sscanf(css, "rgb(%g, %g, %g)", &r, &g, &bl); err != nil {
		b.t.Fatalf("%s = %q: not an rgb() colour", expr, css)
	}
	return (0.2126*r + 0.7152*g + 0.0722*bl) / 255
}

// statusLang is what the status page says in one language: the checks of the
// page in that language.
type statusLang struct {
	lang, zones, updated, connected, synced string
}

var statusLangs = []statusLang{
	{"ru", "Зоны", "Обновлено", "подключено", "сверены"},
	{"kk", "Аймақтар", "Жаңартылды", "қосылған", "дәл"},
	{"en", "Zones", "Updated", "connected", "synchronised"},
}

// The sizes the pages are checked and photographed at.
var statusSizes = []struct {
	name string
	w, h int64
}{{"phone", 390, 844}, {"desktop", 1280, 900}}

// pageText is the status page's visible text without what the centre's config
// names (the centre, zones and sensors, topics and payloads): the words the page
// itself says.
const pageText = `(() => { const c = document.body.cloneNode(true);
	const zones = [...c.querySelectorAll(".zname")].map(e => e.textContent).filter(n => n).sort((a, b) => b.length - a.length);
	c.querySelectorAll("h1, code, pre").forEach(e => e.remove());
	document.body.after(c); const s = c.innerText; c.remove();
	return zones.reduce((s, n) => s.split(n).join(" "), s); })()`

// TestStatusPageInBrowser runs the gateway with the simulated centre and a
// password, opens the status page in headless Chromium, signs in, checks the
// zones and temperatures it shows and the language switch; then shows the page in
// ru, kk and en at a phone's and a desktop's size: in the language, no English
// catalogue string on a Russian or Kazakh page, live updates, nothing wider than
// its card or the screen; and the dark scheme. Each is photographed
// (status-<lang>-<size>[-dark].png, into docs/screenshots/ with -screenshots).
func TestStatusPageInBrowser(t *testing.T) {
	chromium(t)
	_, url := startBroker(t)
	dir := t.TempDir()

	centre := sim.NewCentre("demo-centre", 42)
	cfg := centre.Config
	cfg.Centre.Name = "Shymkent CSU No. 2 (simulated)"
	cfg.MQTT.URL, cfg.MQTT.ClientID = url, "saqshy-browser-test"
	cfg.Spool.Dir = filepath.Join(dir, "spool")
	cfg.Status.Listen = "127.0.0.1:0"
	hash, err := bcrypt.GenerateFromPassword([]byte("night-nurse-2"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Status.PasswordFile = filepath.Join(dir, "status.pass")
	if err := os.WriteFile(cfg.Status.PasswordFile, hash, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(cfg, gateway.Options{Logger: slog.New(slog.DiscardHandler), Clock: gateway.FixedSync(true)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gwDone := make(chan error, 1)
	go func() { gwDone <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-gwDone; err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	pub, err := sim.Connect(url, "saqshy-browser-sim")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	go func() { _ = centre.Run(ctx, pub, 500*time.Millisecond) }()
	deadline := time.Now().Add(20 * time.Second)
	for g.StatusAddr() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g.StatusAddr() == nil {
		t.Fatal("status page did not start")
	}
	base := "http://" + g.StatusAddr().String()

	b := newBrowser(t, dir)
	step, text, eval := b.step, b.text, b.eval

	// Locked: the page sends the browser to the login form.
	step("open the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#password")))
	if s := text("h2"); s != "Sign in" {
		t.Errorf("login heading %q, want Sign in", s)
	}
	b.shot("login.png")
	step("wrong password", chromedp.SendKeys(chromedp.CSS("#password"), "guess"), chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#login-error")))
	if s := text("#login-error"); s != "Wrong password." {
		t.Errorf("login error %q", s)
	}
	step("sign in", chromedp.SendKeys(chromedp.CSS("#password"), "night-nurse-2"), chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS(`[data-zone="room-101"]`)))

	// Every zone of the simulated centre, each with a temperature once its device
	// has reported, and the live stream applied at least once.
	step("all temperatures in", chromedp.Poll[chromedp.Void](
		`document.querySelectorAll("[data-temp]").length === 20 && [...document.querySelectorAll("[data-temp]")].every(e => e.textContent.includes("°C")) && document.documentElement.dataset.live === "1"`,
		chromedp.WithPollingTimeout(30*time.Second)))
	for zone, name := range map[string]string{"room-101": "Room 101", "med-fridge": "Treatment room fridge", "freezer": "Kitchen freezer", "boiler": "Boiler outlet"} {
		got := text(`[data-zone="` + zone + `"] .zname`)
		if got != name {
			t.Errorf("zone %s is called %q, want %q", zone, got, name)
		}
		temp := text(`[data-temp="` + zone + `"]`)
		if !strings.HasSuffix(temp, "°C") {
			t.Errorf("zone %s temperature %q", zone, temp)
		}
	}
	// The simulated fridge and freezer stay in band: green.
	for _, z := range []string{"room-101", "med-fridge", "freezer"} {
		if c := eval(`document.querySelector('[data-temp="` + z + `"]').className`); !strings.Contains(c, "ok") && !strings.Contains(c, "warn") {
			t.Errorf("zone %s temperature class %q, want a band colour", z, c)
		}
	}
	if s := text("#health"); !strings.Contains(s, "spool only") {
		t.Errorf("health cards: %q", s)
	}

	// The switch: Kazakh sticks across pages and live updates.
	step("switch to Kazakh", chromedp.Click(chromedp.CSS(`a[hreflang="kk"]`)))
	b.waitNavigated("switch to Kazakh", `document.documentElement.lang === "kk" && document.querySelector("#zones h2").textContent === "Аймақтар"`)
	step("reload", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-zone="room-101"]`)))
	if got := eval(`document.documentElement.lang`); got != "kk" {
		t.Errorf("the chosen Kazakh did not stick: page in %q", got)
	}

	// Every language at every size, and the dark scheme on a phone and a desk.
	type view struct {
		statusLang
		size string
		w, h int64
		dark bool
	}
	var views []view
	for _, size := range statusSizes {
		for _, l := range statusLangs {
			views = append(views, view{l, size.name, size.w, size.h, false})
		}
		views = append(views, view{statusLangs[1], size.name, size.w, size.h, true})
	}
	b.scheme("light")
	if l := b.luminance(`getComputedStyle(document.body).backgroundColor`); l < 0.5 {
		t.Errorf("the light scheme's background has luminance %.2f", l)
	}
	for _, v := range views {
		name := fmt.Sprintf("status-%s-%s", v.lang, v.size)
		if v.dark {
			name += "-dark"
			b.scheme("dark")
		}
		step(name, chromedp.EmulateViewport(v.w, v.h), chromedp.Navigate(base+"/lang?l="+v.lang),
			chromedp.WaitVisible(chromedp.CSS(`[data-zone="room-101"]`)))
		if got := eval(`document.documentElement.lang`); got != v.lang {
			t.Errorf("%s: page language %q", name, got)
		}
		if s := text("#zones h2"); s != v.zones {
			t.Errorf("%s: zones heading %q, want %q", name, s, v.zones)
		}
		if s := text("#health"); !strings.Contains(s, v.connected) || !strings.Contains(s, v.synced) {
			t.Errorf("%s: health cards %q lack %q and %q", name, s, v.connected, v.synced)
		}
		eval(`document.querySelector("#updated").textContent = "stale"; "ok"`)
		step(name+": live update", chromedp.Poll[chromedp.Void](`document.querySelector("#updated").textContent.startsWith(`+fmt.Sprintf("%q", v.updated)+`)`,
			chromedp.WithPollingTimeout(15*time.Second)))
		found := status.EnglishIn(eval(pageText))
		switch {
		case v.lang != "en" && len(found) > 0:
			t.Errorf("%s shows English: %q", name, found)
		case v.lang == "en" && len(found) < 10:
			t.Errorf("%s shows only %d English catalogue strings (%q): the check is blind", name, len(found), found)
		}
		if got := eval(`String(document.documentElement.scrollWidth - window.innerWidth)`); got != "0" && !strings.HasPrefix(got, "-") {
			t.Errorf("%s: the page is %s px wider than the screen", name, got)
		}
		if got := eval(`[...document.querySelectorAll(".card, .zone")].filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.trim().slice(0, 40)).join(" | ")`); got != "" {
			t.Errorf("%s: text wider than its card: %s", name, got)
		}
		if v.dark {
			checkDark(t, b, name)
		}
		b.shot(name + ".png")
		if v.dark {
			b.scheme("light")
		}
	}
}

// checkDark: a page in the dark scheme has a dark background with light text,
// dark zone cards, and a zone's state still told by its icon, not by colour alone.
func checkDark(t *testing.T, b *browser, name string) {
	t.Helper()
	if l := b.luminance(`getComputedStyle(document.body).backgroundColor`); l > 0.2 {
		t.Errorf("%s: the page's background has luminance %.2f in the dark scheme", name, l)
	}
	if l := b.luminance(`getComputedStyle(document.body).color`); l < 0.7 {
		t.Errorf("%s: the text has luminance %.2f in the dark scheme", name, l)
	}
	if l := b.luminance(`getComputedStyle(document.querySelector(".zone")).backgroundColor`); l > 0.2 {
		t.Errorf("%s: a zone card has luminance %.2f in the dark scheme", name, l)
	}
	if icon := b.eval(`getComputedStyle(document.querySelector("[data-temp].ok, [data-temp].warn"), "::before").content`); !strings.ContainsAny(icon, "✔✓⚠") {
		t.Errorf("%s: a zone's state in the dark scheme is marked by %q, want an icon", name, icon)
	}
}
