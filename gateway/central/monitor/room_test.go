package monitor

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway/central/web"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// durationRE finds a Go duration printed on a page ("716.116463ms").
var durationRE = regexp.MustCompile(`\d(\.\d+)?(ns|µs|ms)\b|\d\.\d{3,}s\b`)

// testRoom: the monitoring room's first-hour faults (issue 19), over HTTP against
// the fleet in InfluxDB.
func testRoom(t *testing.T, e *env) {
	loc, _ := time.LoadLocation("Asia/Almaty")
	today := e.clock().In(loc).Format("2006-01-02")

	t.Run("LiveFragment", func(t *testing.T) {
		c := e.client(t, "min")
		body, code := get(t, c, e.srv.URL+"/overview/live?sort=score&lang=en")
		if code != http.StatusOK || strings.Contains(body, "<html") || strings.Count(body, " data-centre=") != 6 || !strings.Contains(body, `id="updated"`) {
			t.Errorf("overview's live part: %d, want the 6 rows without the page around them:\n%s", code, body)
		}
		page, _ := get(t, c, e.srv.URL+"/")
		if !strings.Contains(page, `data-refresh="2"`) {
			t.Error("overview does not say how often it refreshes (refresh_every: 2s)")
		}
	})

	t.Run("ReportOnDemand", func(t *testing.T) {
		c := e.client(t, "min")
		body, _ := get(t, c, e.srv.URL+"/reports")
		m := csrfRE.FindAllStringSubmatch(body, -1)
		if !strings.Contains(body, `id="make"`) || len(m) == 0 {
			t.Fatalf("the report list has no button to make a report:\n%s", body)
		}
		tok := m[len(m)-1][1]
		resp, err := c.PostForm(e.srv.URL+"/reports", url.Values{"csrf": {"forged"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("make a report with a forged token: %d, want 403", resp.StatusCode)
		}
		resp, err = c.PostForm(e.srv.URL+"/reports", url.Values{"csrf": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/reports/"+today {
			t.Fatalf("make a report: %d to %q, want 303 to /reports/%s", resp.StatusCode, resp.Header.Get("Location"), today)
		}
		if body, code := get(t, c, e.srv.URL+"/reports/"+today); code != http.StatusOK || !strings.Contains(body, "Asia/Almaty") {
			t.Errorf("the report made on demand: %d", code)
		}
		// A region officer sees no button and cannot post one.
		rc := e.client(t, "shym")
		body, _ = get(t, rc, e.srv.URL+"/reports")
		if strings.Contains(body, `id="make"`) {
			t.Error("a region officer is offered to make the ministry's report")
		}
		m = csrfRE.FindAllStringSubmatch(body, -1)
		resp, _ = rc.PostForm(e.srv.URL+"/reports", url.Values{"csrf": {m[len(m)-1][1]}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("region officer makes a report: %d, want 403", resp.StatusCode)
		}
	})

	t.Run("PastReports", func(t *testing.T) {
		c := e.client(t, "min")
		// Yesterday had no kept report, but the rating has its days.
		yesterday := e.clock().In(loc).AddDate(0, 0, -1).Format("2006-01-02")
		body, code := get(t, c, e.srv.URL+"/reports/"+yesterday+"?lang=en")
		if code != http.StatusOK || !strings.Contains(body, "Rebuilt") || !strings.Contains(body, "Shymkent <span class=\"muted\">(") {
			t.Errorf("past report of %s: %d\n%s", yesterday, code, body)
		}
		// The day c00002's gateway sent nothing: the rebuilt report names it.
		for _, p := range e.points {
			if p.m == "rating" && p.tags["centre"] == "c00002" && p.fields["has_data"] == "false" {
				day := p.t.In(loc).Format("2006-01-02")
				body, code := get(t, c, e.srv.URL+"/reports/"+day+"?lang=en")
				if code != http.StatusOK || !strings.Contains(body, "/centre/c00002") || !strings.Contains(body, "no verified data that day") {
					t.Errorf("past report of %s: %d, want c00002 without data\n%s", day, code, body)
				}
			}
		}
		// A date long before any data: a clear 404.
		body, code = get(t, c, e.srv.URL+"/reports/2020-01-01?lang=en")
		if code != http.StatusNotFound || !strings.Contains(body, "the rating has no data for that day") {
			t.Errorf("report of 2020-01-01: %d\n%s", code, body)
		}
		// The date form leads to the date's page.
		if _, code := get(t, c, e.srv.URL+"/reports?date="+yesterday); code != http.StatusSeeOther {
			t.Errorf("report date form: %d", code)
		}
	})

	t.Run("ExportMonth", func(t *testing.T) {
		c := e.client(t, "min")
		last := ""
		for _, p := range e.points {
			if p.m == "rating" && p.fields["has_data"] == "true" {
				if m := p.t.In(loc).Format("2006-01"); m > last {
					last = m
				}
			}
		}
		body, _ := get(t, c, e.srv.URL+"/export?lang=en")
		if !strings.Contains(body, `name="month" value="`+last+`"`) || !strings.Contains(body, "The last month with data is "+last) {
			t.Errorf("export page does not offer the last month with data %s:\n%s", last, body)
		}
		body, code := get(t, c, e.srv.URL+"/export/download?month=2020-01&format=csv&lang=en")
		if code != http.StatusNotFound || strings.HasPrefix(body, "centre_id") || !strings.Contains(body, "The rating has no data for 2020-01") {
			t.Errorf("export of an empty month: %d, want a page saying so, not a header-only CSV:\n%s", code, body)
		}
		body, code = get(t, c, e.srv.URL+"/export/download?month="+last+"&format=csv")
		if code != http.StatusOK || strings.Count(body, "\n") < 2 {
			t.Errorf("export of %s: %d\n%s", last, code, body)
		}
	})

	t.Run("NoDebugTiming", func(t *testing.T) {
		c := e.client(t, "min")
		for _, p := range []string{"/", "/centre/c00001", "/centre/c00001?range=7d"} {
			body, _ := get(t, c, e.srv.URL+p)
			if m := durationRE.FindString(body); m != "" {
				t.Errorf("%s shows a debug timing %q", p, m)
			}
		}
	})
}

// TestDatabaseDownPages: with InfluxDB unreachable the pages say so in their
// language (502), and the raw error is only in the log.
func TestDatabaseDownPages(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	cfg, err := ParseConfig([]byte(`
influx: {url: "` + dead + `", bucket: "saqshy"}
state_dir: ` + t.TempDir() + `
centres:
  - {id: c00001, name: "Shymkent centre 1", region: Shymkent, timezone: Asia/Almaty}
users:
  - {name: min, role: ministry, lang: kk, password_hash: "` + string(hash) + `"}
`))
	if err != nil {
		t.Fatal(err)
	}
	var logBuf testenv.LogBuffer
	app, err := New(cfg, slog.New(slog.NewTextHandler(&logBuf, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Server.Handler())
	defer srv.Close()
	e := &env{srv: srv}
	c := e.client(t, "min")
	for _, p := range []string{"/", "/centre/c00001", "/export", "/export/download?month=2026-01&format=csv"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+p, nil)
		resp, err := c.Do(req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		body := string(b)
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, web.Translate("kk", "err.influx")) {
			t.Errorf("%s with the database down: %d\n%s", p, resp.StatusCode, body)
		}
		for _, raw := range []string{"dial tcp", "connection refused", "influx", "query"} {
			if strings.Contains(strings.ToLower(body), raw) {
				t.Errorf("%s shows the raw error (%q):\n%s", p, raw, body)
			}
		}
	}
	if !strings.Contains(logBuf.String(), "connection refused") {
		t.Errorf("the raw error is not in the log:\n%s", logBuf.String())
	}
}
