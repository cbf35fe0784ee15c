package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/status"
	"github.com/saqshy/saqshy/internal/chromium"
)

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
	chromium.Find(t)
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

	b := chromium.New(t, 1280, 900)
	step, text, eval := b.Step, b.Text, b.Eval

	// Locked: the page sends the browser to the login form.
	step("open the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#password")))
	if s := text("h2"); s != "Sign in" {
		t.Errorf("login heading %q, want Sign in", s)
	}
	b.Shot("login.png")
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
	b.WaitNavigated("switch to Kazakh", `document.documentElement.lang === "kk" && document.querySelector("#zones h2").textContent === "Аймақтар"`)
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
	b.Scheme("light")
	if l := b.Luminance(`getComputedStyle(document.body).backgroundColor`); l < 0.5 {
		t.Errorf("the light scheme's background has luminance %.2f", l)
	}
	for _, v := range views {
		name := fmt.Sprintf("status-%s-%s", v.lang, v.size)
		if v.dark {
			name += "-dark"
			b.Scheme("dark")
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
		b.Shot(name + ".png")
		if v.dark {
			b.Scheme("light")
		}
	}
}

// checkDark: a page in the dark scheme has a dark background with light text,
// dark zone cards, and a zone's state still told by its icon, not by colour alone.
func checkDark(t *testing.T, b *chromium.Browser, name string) {
	t.Helper()
	if l := b.Luminance(`getComputedStyle(document.body).backgroundColor`); l > 0.2 {
		t.Errorf("%s: the page's background has luminance %.2f in the dark scheme", name, l)
	}
	if l := b.Luminance(`getComputedStyle(document.body).color`); l < 0.7 {
		t.Errorf("%s: the text has luminance %.2f in the dark scheme", name, l)
	}
	if l := b.Luminance(`getComputedStyle(document.querySelector(".zone")).backgroundColor`); l > 0.2 {
		t.Errorf("%s: a zone card has luminance %.2f in the dark scheme", name, l)
	}
	if icon := b.Eval(`getComputedStyle(document.querySelector("[data-temp].ok, [data-temp].warn"), "::before").content`); !strings.ContainsAny(icon, "✔✓⚠") {
		t.Errorf("%s: a zone's state in the dark scheme is marked by %q, want an icon", name, icon)
	}
}
