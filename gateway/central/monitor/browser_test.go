package monitor

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/webauth"
)

// testBrowser renders the overview and a centre page in headless Chromium (Debian's
// package) and checks it produced a screenshot. The browser cannot log in by itself
// with --screenshot, so a front server adds a ministry session cookie to its
// requests; login itself is tested over HTTP in LoginAndCSRF. With
// SAQSHY_SCREENSHOTS=dir the PNGs are kept there (docs/screenshots).
func testBrowser(t *testing.T, e *env) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found: install the Debian package chromium (apt-get install -y chromium; `make tools` does it): %v", err)
	}
	tok := e.session(t, "min")
	h := e.app.Server.Handler()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.AddCookie(&http.Cookie{Name: webauth.SessionCookie, Value: tok})
		h.ServeHTTP(w, r)
	}))
	defer front.Close()
	dir := os.Getenv("SAQSHY_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for name, path := range map[string]string{
		"monitor-overview.png": "/?lang=en&sort=score",
		"monitor-centre.png":   "/centre/c00001?range=7d&lang=ru",
	} {
		out := filepath.Join(dir, name)
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--hide-scrollbars", "--user-data-dir="+t.TempDir(),
			"--screenshot="+out, "--window-size=1400,1000", front.URL+path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("chromium %s: %v\n%s", path, err, stderr.String())
		}
		b, err := os.ReadFile(out)
		if err != nil || len(b) < 10000 || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Fatalf("screenshot of %s: %d bytes, %v", path, len(b), err)
		}
	}
}
