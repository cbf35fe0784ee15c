package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
)

type fakeReports struct{ rep *store.Report }

func (f fakeReports) List() ([]string, error) { return []string{f.rep.Date}, nil }
func (f fakeReports) Load(date string) (*store.Report, error) {
	if date == f.rep.Date {
		return f.rep, nil
	}
	return nil, store.ErrNoReport
}
func (f fakeReports) Make(context.Context) (*store.Report, error) { return nil, errors.New("not here") }

// loggedIn returns the session cookie of user min on s.
func loggedIn(t *testing.T, s *Server) *http.Cookie {
	t.Helper()
	w := postLogin(s.Handler(), "10.0.0.1", "min", "pw-min")
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatalf("login: %d, no session", w.Code)
	return nil
}

func getAs(s *Server, c *http.Cookie, path string, more ...*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	r.AddCookie(c)
	for _, m := range more {
		r.AddCookie(m)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

// TestReportTimesOneZone: a report made at 20:00 UTC is the report of the next
// day in Almaty; it says it was composed that day, in Almaty time with the zone
// named (it said "composed" on the UTC date, a day before its title). A chosen
// zone (?tz=, remembered in a cookie) shows every time in that zone instead.
func TestReportTimesOneZone(t *testing.T) {
	almaty, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	rep := &store.Report{Date: "2026-03-02", Generated: time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC), Centres: 0}
	s, _ := loginServerOpt(t, 4, Options{Loc: almaty, Reports: fakeReports{rep}})
	c := loggedIn(t, s)
	w := getAs(s, c, "/reports/2026-03-02?lang=en")
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(visibleText(body), "Generated 2026-03-02 01:00 Asia/Almaty (UTC+05)") {
		t.Errorf("report page %d: %s", w.Code, visibleText(body))
	}
	w = getAs(s, c, "/reports/2026-03-02?lang=en&tz=UTC")
	if !strings.Contains(w.Body.String(), "Generated 2026-03-01 20:00 UTC") {
		t.Errorf("report page in the chosen zone UTC: %s", visibleText(w.Body.String()))
	}
	var tz *http.Cookie
	for _, ck := range w.Result().Cookies() {
		if ck.Name == zoneCookie {
			tz = ck
		}
	}
	if tz == nil || tz.Value != "UTC" {
		t.Fatalf("the chosen zone is not remembered: cookie %v", tz)
	}
	if w = getAs(s, c, "/reports/2026-03-02?lang=en", tz); !strings.Contains(w.Body.String(), "Generated 2026-03-01 20:00 UTC") {
		t.Errorf("report page with the zone cookie: %s", visibleText(w.Body.String()))
	}
	// The kept page for the record names its zone too.
	render, err := ReportRenderer(almaty)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := render(&b, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(visibleText(b.String()), "2026-03-02 01:00 Asia/Almaty (UTC+05)") {
		t.Errorf("kept report page: %s", visibleText(b.String()))
	}
	// A date not yet reported says so in the page's language (not a bare 404).
	w = getAs(s, c, "/reports/2026-03-05?lang=ru")
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "Отчёта за 2026-03-05 ещё нет") {
		t.Errorf("future report: %d %s", w.Code, visibleText(w.Body.String()))
	}
}

// TestZoneLabel names the zone and its offset.
func TestZoneLabel(t *testing.T) {
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for zone, want := range map[string]string{"UTC": "UTC", "Asia/Almaty": "Asia/Almaty (UTC+05)", "Asia/Kolkata": "Asia/Kolkata (UTC+05:30)", "America/New_York": "America/New_York (UTC-04)"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := ZoneLabel(loc, at); got != want {
			t.Errorf("%s: %q, want %q", zone, got, want)
		}
	}
}

// TestPagesWithoutDebugTimingOrAbbreviations: no page template prints a Go
// duration (the footer's "716.116463ms"), and the overview names the components
// (no te/av/co/ro/re with a hover tooltip).
func TestPagesWithoutDebugTimingOrAbbreviations(t *testing.T) {
	s, err := NewServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	info := store.NewCentre("c-1", "Centre 1", "Almaty", time.UTC)
	live := store.Score{At: now, Total: 70, Components: map[string]float64{"temperature": 0.5, "availability": 0.9, "coverage": 1, "rounds": 0.5, "response": 1}}
	ov := OverviewData{Rows: []store.CentreRow{{Info: info, Registered: true, Live: live, HasLive: true}}, Total: 1, Sort: "score", Dir: "asc",
		Components: store.ComponentNames, Now: now, Threshold: 60}
	cd := &CentreData{Info: info, Registered: true, Range: "24h", Components: store.ComponentNames, Scores: []store.Score{live}}
	dur := regexp.MustCompile(`\d(\.\d+)?(ns|µs|ms|s)\b`)
	for _, pg := range []struct {
		tmpl string
		data any
	}{{"overview.html", ov}, {"centre.html", cd}} {
		for _, lang := range Languages {
			var b strings.Builder
			if err := s.tmpl.ExecuteTemplate(&b, pg.tmpl, page{Lang: lang, User: &User{Name: "u", Role: RoleMinistry}, Data: pg.data, Langs: Languages, Now: now}); err != nil {
				t.Fatal(err)
			}
			text := visibleText(b.String())
			if m := dur.FindString(text); m != "" {
				t.Errorf("%s %s shows a duration %q: %s", pg.tmpl, lang, m, text)
			}
			if pg.tmpl != "overview.html" {
				continue
			}
			for _, k := range store.ComponentNames {
				if name := tr(lang, "c."+k); !strings.Contains(text, name+": ") {
					t.Errorf("overview %s does not name component %s (%q): %s", lang, k, name, text)
				}
				if strings.Contains(text, k[:2]+"\u00a0") || strings.Contains(text, k[:2]+" 50%") {
					t.Errorf("overview %s abbreviates %s", lang, k)
				}
			}
			if !strings.Contains(b.String(), `id="live" data-refresh=`) || !strings.Contains(b.String(), `src="/static/app.js"`) {
				t.Errorf("overview %s has no live part or no script", lang)
			}
		}
	}
}

// TestStylesheet: the monitor's stylesheet has a dark scheme, a phone layout
// and a print layout, and marks bad values with an icon (not colour alone).
func TestStylesheet(t *testing.T) {
	b, err := os.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	for _, want := range []string{"@media (prefers-color-scheme:dark)", "@media (max-width:760px)", "@media print", `.bad::before{content:"⚠`} {
		if !strings.Contains(css, want) {
			t.Errorf("style.css lacks %s", want)
		}
	}
}
