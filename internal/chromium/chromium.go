// Package chromium drives Debian's headless Chromium for the web apps' browser
// tests (the gateway's status page, the monitor): a browser with one tab whose
// steps fail the test, screenshots into docs/screenshots/ with -screenshots
// (make screenshots). A test helper: only tests import it.
package chromium

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

var updateScreenshots = flag.Bool("screenshots", false, "write the browser tests' screenshots to docs/screenshots/ (make screenshots)")

// Find returns Debian's Chromium. A missing browser fails the test: the browser
// tests are part of make test, and make tools installs it.
func Find(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Fatal("Chromium not found on PATH: install the Debian package chromium (sudo apt-get install -y chromium; `make tools` does it)")
	return ""
}

// ShotDir is where screenshots go: $SAQSHY_SCREENSHOTS when set, else the
// module's docs/screenshots/ with -screenshots, else a directory of the test's.
func ShotDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("SAQSHY_SCREENSHOTS"); d != "" {
		return d
	}
	if !*updateScreenshots {
		return tb.TempDir()
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/saqshy/saqshy\n") {
			return filepath.Join(dir, "docs", "screenshots")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("-screenshots: no saqshy module holds the working directory")
		}
		dir = parent
	}
}

// Browser is a headless Chromium with one tab.
type Browser struct {
	T   testing.TB
	Ctx context.Context // the tab's; without a timeout (it would end the browser)
	// Dir is where Shot writes (ShotDir).
	Dir string
	// MaxFull is the page height above which Shot takes the first screen only
	// (0: always the whole page).
	MaxFull int
}

// New starts Chromium (English, hidden scrollbars) with a window of w×h and its
// profile in a directory of the test's; it ends with the test.
func New(tb testing.TB, w, h int) *Browser {
	tb.Helper()
	exe := Find(tb)
	out := &lockedBuffer{}
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(w, h),
		chromedp.CombinedOutput(out),
	)
	bctx, bcancel := chromedp.NewContext(actx)
	tb.Cleanup(func() {
		bcancel()
		acancel()
		if tb.Failed() {
			tb.Logf("chromium output:\n%s", out.String())
		}
	})
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		tb.Fatalf("start chromium %s: %v", exe, err)
	}
	dir := ShotDir(tb)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return &Browser{T: tb, Ctx: bctx, Dir: dir}
}

// Step runs actions within 30 s, failing the test on error.
func (b *Browser) Step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	sctx, scancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer scancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		b.T.Fatalf("%s: %v", name, err)
	}
}

// Eval returns the value of a JavaScript expression (a string).
func (b *Browser) Eval(js string) string {
	b.T.Helper()
	sctx, scancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer scancel()
	s, err := chromedp.Run(sctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.T.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// Text returns the visible text of the element sel selects (its innerText, ""
// when it is hidden), waiting until there is one. The element is found and read
// in one evaluation: a page that updates itself live (the status page, the
// monitor) may replace it between DevTools' query and a read of the node found,
// which then fails ("No node with given id found") or reads a detached node's "".
func (b *Browser) Text(sel string) string {
	b.T.Helper()
	sctx, scancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer scancel()
	s, err := chromedp.Run(sctx, chromedp.PollFunction[[]string](textJS, chromedp.WithPollingArgs(sel)))
	if err != nil || len(s) != 1 {
		b.T.Fatalf("text of %s: %v", sel, err)
	}
	return s[0]
}

// textJS finds the element sel selects and returns its visible text in an
// array (truthy when empty, for the poll), or null while there is none.
const textJS = `(sel) => {
	const e = document.querySelector(sel);
	if (e === null) return null;
	return [e.offsetWidth || e.offsetHeight || e.getClientRects().length ? e.innerText : ""];
}`

// WaitNavigated polls js after a click that navigates: the old page's context
// goes away under the poll.
func (b *Browser) WaitNavigated(name, js string) {
	b.T.Helper()
	var err error
	for range 5 {
		sctx, scancel := context.WithTimeout(b.Ctx, 15*time.Second)
		err = chromedp.Do(sctx, chromedp.Poll[chromedp.Void](js))
		scancel()
		if err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.T.Fatalf("%s: %v", name, err)
}

// Shot photographs the page (the whole page, or its first screen when taller
// than MaxFull) into Dir/name.
func (b *Browser) Shot(name string) {
	b.T.Helper()
	sctx, scancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer scancel()
	shoot := chromedp.FullScreenshot(100)
	if b.MaxFull > 0 {
		if h, err := chromedp.Run(sctx, chromedp.Evaluate[int](`document.documentElement.scrollHeight`)); err == nil && h > b.MaxFull {
			shoot = chromedp.CaptureScreenshot()
		}
	}
	img, err := chromedp.Run(sctx, shoot)
	if err != nil {
		b.T.Fatalf("screenshot %s: %v", name, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width < 300 || cfg.Height < 300 {
		b.T.Fatalf("screenshot %s: not a page-sized PNG (%v, %dx%d)", name, err, cfg.Width, cfg.Height)
	}
	out := filepath.Join(b.Dir, name)
	if err := os.WriteFile(out, img, 0o644); err != nil {
		b.T.Fatal(err)
	}
	b.T.Logf("screenshot %s (%dx%d)", out, cfg.Width, cfg.Height)
}

// Media emulates a CSS media type ("print"; "" for the screen) and media
// features (prefers-color-scheme), as Chromium's DevTools do.
func (b *Browser) Media(media string, features ...*emulation.MediaFeature) {
	b.T.Helper()
	sctx, scancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer scancel()
	if _, err := chromedp.Call(sctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media, Features: features}); err != nil {
		b.T.Fatalf("emulate media %q: %v", media, err)
	}
}

// Scheme emulates prefers-color-scheme ("light", "dark").
func (b *Browser) Scheme(value string) {
	b.T.Helper()
	b.Media("", &emulation.MediaFeature{Name: "prefers-color-scheme", Value: value})
}

// Luminance is the relative luminance of the rgb() colour expr evaluates to.
func (b *Browser) Luminance(expr string) float64 {
	b.T.Helper()
	css := b.Eval(expr)
	var r, g, bl float64
	if _, err := fmt.Sscanf(css, "rgb(%g, %g, %g)", &r, &g, &bl); err != nil {
		b.T.Fatalf("%s = %q: not an rgb() colour", expr, css)
	}
	return (0.2126*r + 0.7152*g + 0.0722*bl) / 255
}

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
