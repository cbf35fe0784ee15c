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

// TestStatusPageInBrowser runs the gateway with the simulated centre and a
// password, opens the status page in headless Chromium, signs in, checks the
// zones and temperatures it shows, that live updates arrive, switches to Kazakh,
// and takes screenshots (written to docs/screenshots/ with -screenshots).
func TestStatusPageInBrowser(t *testing.T) {
	exe := chromium(t)
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
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	defer func() {
		if t.Failed() {
			t.Logf("chromium output:\n%s", chromeLog.String())
		}
	}()
	// Start the browser with a context without a timeout (it would stop the browser).
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 30*time.Second)
		defer scancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 10*time.Second)
		defer scancel()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 30*time.Second)
		defer scancel()
		img, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(img))
		if err != nil || cfg.Width < 300 || cfg.Height < 300 {
			t.Fatalf("screenshot %s: not a page-sized PNG (%v, %dx%d)", name, err, cfg.Width, cfg.Height)
		}
		out := filepath.Join(dir, name)
		if *updateScreenshots {
			out = filepath.Join("..", "..", "docs", "screenshots", name)
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(out, img, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%dx%d)", out, cfg.Width, cfg.Height)
	}

	// Locked: the page sends the browser to the login form.
	step("open the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#password")))
	if s := text("h2"); s != "Sign in" {
		t.Errorf("login heading %q, want Sign in", s)
	}
	shot("login.png")
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
	if s := text("#zones h2"); s != "Zones" {
		t.Errorf("zones heading %q", s)
	}
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
	sctx, scancel := context.WithTimeout(bctx, 10*time.Second)
	classes, err := chromedp.Run(sctx, chromedp.Evaluate[[]string](
		`["room-101","med-fridge","freezer"].map(z => document.querySelector('[data-temp="'+z+'"]').className)`))
	scancel()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range classes {
		if !strings.Contains(c, "ok") && !strings.Contains(c, "warn") {
			t.Errorf("zone %d temperature class %q, want a band colour", i, c)
		}
	}
	if s := text("#health"); !strings.Contains(s, "connected") || !strings.Contains(s, "synchronised") || !strings.Contains(s, "spool only") {
		t.Errorf("health cards: %q", s)
	}
	shot("status-en.png")

	// Switch to Kazakh: the choice sticks across pages and live updates.
	step("switch to Kazakh", chromedp.Click(chromedp.CSS(`a[hreflang="kk"]`)))
	// The click navigates: poll again when the old page's context goes away.
	var lastErr error
	for range 5 {
		sctx, scancel := context.WithTimeout(bctx, 15*time.Second)
		lastErr = chromedp.Do(sctx, chromedp.Poll[chromedp.Void](
			`document.documentElement.lang === "kk" && document.querySelector("#zones h2").textContent === "Аймақтар"`))
		scancel()
		if lastErr == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("switch to Kazakh: %v", lastErr)
	}
	if s := text("#health"); !strings.Contains(s, "қосылған") || !strings.Contains(s, "дәл") {
		t.Errorf("Kazakh health cards: %q", s)
	}
	step("Kazakh live update", chromedp.Poll[chromedp.Void](`document.querySelector("#updated").textContent.startsWith("Жаңартылды")`,
		chromedp.WithPollingTimeout(15*time.Second)))
	shot("status-kk.png")

	// A phone.
	step("phone viewport", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-zone="room-101"]`)))
	shot("status-phone-kk.png")

	// Dark, as a phone or a desk set to it shows the page (prefers-color-scheme,
	// emulated as Chromium's DevTools do): a dark page with light text, and a
	// zone's state still told by its icon, not by colour alone.
	scheme := func(value string) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 10*time.Second)
		defer scancel()
		if _, err := chromedp.Call(sctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: value}}}); err != nil {
			t.Fatalf("emulate prefers-color-scheme %s: %v", value, err)
		}
	}
	luminance := func(expr string) float64 {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 10*time.Second)
		defer scancel()
		css, err := chromedp.Run(sctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var r, g, b float64
		if _, err := fmt.Sscanf(css, "rgb(%g, %g, %g)", &r, &g, &b); err != nil {
			t.Fatalf("%s = %q: not an rgb() colour", expr, css)
		}
		return (0.2126*r + 0.7152*g + 0.0722*b) / 255
	}
	checkDark := func(name string) {
		t.Helper()
		if l := luminance(`getComputedStyle(document.body).backgroundColor`); l > 0.2 {
			t.Errorf("%s: the page's background has luminance %.2f in the dark scheme", name, l)
		}
		if l := luminance(`getComputedStyle(document.body).color`); l < 0.7 {
			t.Errorf("%s: the text has luminance %.2f in the dark scheme", name, l)
		}
		if l := luminance(`getComputedStyle(document.querySelector(".zone")).backgroundColor`); l > 0.2 {
			t.Errorf("%s: a zone card has luminance %.2f in the dark scheme", name, l)
		}
	}
	scheme("light")
	if l := luminance(`getComputedStyle(document.body).backgroundColor`); l < 0.5 {
		t.Errorf("the light scheme's background has luminance %.2f", l)
	}
	scheme("dark")
	step("dark phone", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-zone="room-101"]`)))
	checkDark("phone")
	sctx, scancel = context.WithTimeout(bctx, 10*time.Second)
	icon, err := chromedp.Run(sctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("[data-temp].ok, [data-temp].warn"), "::before").content`))
	scancel()
	if err != nil || !strings.ContainsAny(icon, "✔✓⚠") {
		t.Errorf("a zone's state in the dark scheme is marked by %q (%v), want an icon", icon, err)
	}
	shot("status-phone-kk-dark.png")
	step("dark desktop", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-zone="room-101"]`)))
	checkDark("desktop")
	shot("status-kk-dark.png")
}
