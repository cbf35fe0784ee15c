package monitor

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/saqshy/saqshy/gateway/central/web"
	"github.com/saqshy/saqshy/gateway/webauth"
	"github.com/saqshy/saqshy/internal/chromium"
)

// browserSizes are the viewports every page is checked at.
var browserSizes = []struct {
	name string
	w, h int64
}{{"phone", 390, 844}, {"desktop", 1400, 1000}}

// browser is headless Chromium (Debian's package, driven with chromedp) in front
// of a monitor handler: a front server adds a session cookie to its requests
// (login itself is tested over HTTP in LoginAndCSRF).
type browser struct {
	*chromium.Browser
	front *httptest.Server
}

func newBrowser(t *testing.T, h http.Handler, tok string) *browser {
	t.Helper()
	chromium.Find(t)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/login" {
			r.AddCookie(&http.Cookie{Name: webauth.SessionCookie, Value: tok})
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	b := chromium.New(t, 1400, 1000)
	// The whole page, unless it is very long (a registry entry on a phone): then
	// the first screen, what the officer sees first.
	b.MaxFull = 3500
	return &browser{Browser: b, front: front}
}

// browserPage is a page the browser opens, and the element that shows it loaded.
type browserPage struct{ name, path, wait string }

// checkPages opens each page in ru, kk and en at a phone's and a desktop's size:
// the page speaks the language, is no wider than the screen and shows its logout
// button whole; check adds the page's own checks. Each is photographed
// (monitor-<page>-<lang>-<size>.png).
func (b *browser) checkPages(pages []browserPage, check func(pg browserPage, lang, size, where string)) {
	t := b.T
	for _, size := range browserSizes {
		b.Step("viewport "+size.name, chromedp.EmulateViewport(size.w, size.h))
		for _, lang := range web.Languages {
			for _, pg := range pages {
				where := fmt.Sprintf("%s %s %s", pg.name, lang, size.name)
				sep := "?"
				if strings.Contains(pg.path, "?") {
					sep = "&"
				}
				b.Step(where, chromedp.Navigate(b.front.URL+pg.path+sep+"lang="+lang+"&tz=auto"), chromedp.WaitVisible(chromedp.CSS(pg.wait)))
				if got := b.Eval(`document.documentElement.lang`); got != lang {
					t.Errorf("%s: page language %q", where, got)
				}
				// Nothing wider than the screen: no sideways scrolling of the page.
				if got := b.Eval(`String(document.documentElement.scrollWidth - window.innerWidth)`); got != "0" && !strings.HasPrefix(got, "-") {
					t.Errorf("%s: the page is %s px wider than the screen", where, got)
				}
				if pg.name != "login" {
					if got := b.Eval(`(() => { const r = document.querySelector(".logout button").getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth ? "on screen" : "clipped " + JSON.stringify(r); })()`); got != "on screen" {
						t.Errorf("%s: logout button %s", where, got)
					}
				}
				if check != nil {
					check(pg, lang, size.name, where)
				}
				b.Shot(fmt.Sprintf("monitor-%s-%s-%s.png", pg.name, lang, size.name))
			}
		}
	}
	b.Step("desktop", chromedp.EmulateViewport(1400, 1000))
}

// testBrowser opens every monitor page in headless Chromium in ru, kk and en at
// a phone's and a desktop's size (checkPages): the components are named in the
// page's language, times name their zone, the overview turns into cards on a
// phone; the overview updates by itself, the zone picker sticks, the report
// prints without the controls (and Chromium saves it as a PDF), and the dark
// scheme is dark with bad values marked by an icon. Screenshots go to
// docs/screenshots/ with -screenshots (make screenshots).
func testBrowser(t *testing.T, e *env) {
	rep, err := e.app.Reporter.Make(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e.app.Server.Handler(), e.session(t, "min"))
	step, eval, shot, media, front, bctx := b.Step, b.Eval, b.Shot, b.Media, b.front, b.Ctx
	pages := []browserPage{
		{"login", "/login", "form.login"},
		{"overview", "/", "#updated"},
		{"centre", "/centre/c00001", "#times-in"},
		{"reports", "/reports", "#reports"},
		{"report", "/reports/" + rep.Date, "#generated"},
		{"export", "/export", "form.filters"},
	}
	b.checkPages(pages, func(pg browserPage, lang, size, where string) {
		switch pg.name {
		case "overview":
			want := web.Translate(lang, "c.temperature")
			if got := eval(`document.querySelector('[data-c="temperature"]').textContent`); !strings.HasPrefix(got, want+":") {
				t.Errorf("%s: temperature component shown as %q, want its name %q", where, got, want)
			}
			if got := eval(`document.querySelector("#updated").textContent`); !strings.Contains(got, "Asia/Almaty (UTC+05)") {
				t.Errorf("%s: update time %q does not name the ministry's zone", where, got)
			}
			if size == "phone" {
				if got := eval(`getComputedStyle(document.querySelector("table.ov thead")).display`); got != "none" {
					t.Errorf("%s: the table header is still shown on a phone (%s), want cards", where, got)
				}
			}
		case "centre":
			if got := eval(`document.querySelector("#times-in").textContent`); !strings.Contains(got, "Asia/Almaty (UTC+05)") {
				t.Errorf("%s: %q does not name the centre's zone", where, got)
			}
		case "report":
			if got := eval(`document.querySelector("#generated").textContent`); !strings.Contains(got, rep.Date) || !strings.Contains(got, "Asia/Almaty") {
				t.Errorf("%s: %q: composed on another date than the report's %s, or no zone", where, got, rep.Date)
			}
		}
	})
	{ // LiveOverview
		step("overview", chromedp.Navigate(front.URL+"/?lang=en"), chromedp.WaitVisible(chromedp.CSS("#updated")))
		eval(`document.querySelector("#updated").textContent = "stale"; "ok"`)
		step("live update", chromedp.Poll[chromedp.Void](
			`document.documentElement.dataset.live >= 1 && document.querySelector("#updated").textContent.startsWith("Updated")`,
			chromedp.WithPollingTimeout(20*time.Second)))
		if got := eval(`String(document.querySelectorAll("tr[data-centre]").length)`); got != "6" {
			t.Errorf("after a live update %s centres shown, want 6", got)
		}
	}
	{ // ZonePicker
		step("pick UTC", chromedp.Navigate(front.URL+"/?lang=en"), chromedp.WaitVisible(chromedp.CSS("#tz")),
			chromedp.SetValue(chromedp.CSS(`#tz select`), "UTC"), chromedp.Click(chromedp.CSS(`#tz button`)))
		// The click navigates: poll again when the old page's context goes away.
		var lastErr error
		for range 5 {
			sctx, scancel := context.WithTimeout(bctx, 15*time.Second)
			lastErr = chromedp.Do(sctx, chromedp.Poll[chromedp.Void](`document.querySelector("#updated") !== null && /\d UTC/.test(document.querySelector("#updated").textContent)`))
			scancel()
			if lastErr == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if lastErr != nil {
			t.Fatalf("overview in the chosen zone UTC: %v", lastErr)
		}
		step("centre page", chromedp.Navigate(front.URL+"/centre/c00004"), chromedp.WaitVisible(chromedp.CSS("#times-in")))
		if got := eval(`document.querySelector("#times-in").textContent`); !strings.Contains(got, "UTC") || strings.Contains(got, "Aqtobe") {
			t.Errorf("chosen zone not remembered: centre page says %q", got)
		}
		step("back to auto", chromedp.Navigate(front.URL+"/centre/c00004?tz=auto"), chromedp.WaitVisible(chromedp.CSS("#times-in")))
		if got := eval(`document.querySelector("#times-in").textContent`); !strings.Contains(got, "Asia/Aqtobe (UTC+05)") {
			t.Errorf("automatic zone: centre page says %q, want the centre's Asia/Aqtobe", got)
		}
	}
	{ // Print
		step("report", chromedp.Navigate(front.URL+"/reports/"+rep.Date+"?lang=ru"), chromedp.WaitVisible(chromedp.CSS("#generated")))
		media("print")
		if got := eval(`[document.querySelector("header").getClientRects().length, document.querySelector("#print").getClientRects().length].join(",")`); got != "0,0" {
			t.Errorf("printed report shows its controls: header,button boxes %s", got)
		}
		media("")
		sctx, scancel := context.WithTimeout(bctx, 30*time.Second)
		pdf, err := chromedp.Run(sctx, chromedp.PrintToPDF())
		scancel()
		if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
			t.Fatalf("print to PDF: %d bytes, %v", len(pdf), err)
		}
	}
	{ // Dark
		media("", &emulation.MediaFeature{Name: "prefers-color-scheme", Value: "dark"})
		defer media("")
		for _, pg := range pages[1:3] {
			step(pg.name, chromedp.Navigate(front.URL+pg.path+"?lang=kk"), chromedp.WaitVisible(chromedp.CSS(pg.wait)))
			if got := eval(`getComputedStyle(document.body).backgroundColor`); got != "rgb(21, 23, 26)" {
				t.Errorf("%s in the dark scheme: background %s", pg.name, got)
			}
			shot("monitor-" + pg.name + "-kk-dark.png")
		}
		// A bad value is marked by an icon, not by colour alone.
		if got := eval(`(() => { const b = document.querySelector("td.bad"); return b ? getComputedStyle(b, "::before").content : "none bad"; })()`); !strings.Contains(got, "⚠") {
			t.Errorf("a bad value's mark: %s, want ⚠", got)
		}
	}
}

// testBrowserRating: in headless Chromium, the centre page of c00002 shows, per
// rated day, the central score, the gateway's, their difference and why (the
// components that differ, the implausible sensors, a day without verified data),
// and the 30-day mean with its days with data; the export form, as rendered,
// downloads a CSV carrying the central score and the days-with-data count.
func testBrowserRating(t *testing.T, e *env) {
	b := newBrowser(t, e.app.Server.Handler(), e.session(t, "min"))
	x := e.expect(t, "c00002", time.FixedZone("", 5*3600))
	var newest, oldest lp
	for _, p := range e.points {
		if p.m != "rating" || p.tags["centre"] != "c00002" {
			continue
		}
		if newest.t.IsZero() || p.t.After(newest.t) {
			newest = p
		}
		if oldest.t.IsZero() || p.t.Before(oldest.t) {
			oldest = p
		}
	}
	if newest.fields["has_data"] != "true" || oldest.fields["has_data"] != "false" {
		t.Fatalf("fixture: c00002's newest day has data %s, oldest %s; want true, false", newest.fields["has_data"], oldest.fields["has_data"])
	}
	f1 := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	central, gw := num(t, newest.fields["total"]), num(t, newest.fields["gateway_total"])

	b.Step("centre page", chromedp.Navigate(b.front.URL+"/centre/c00002?lang=en"), chromedp.WaitVisible(chromedp.CSS("tr.rating-day")))
	// What the table says, read from the rendered page: every cell's text as shown,
	// and whether it is on the page at all (a box with a size).
	js := `(() => {
	  const shown = el => el !== null && el.getClientRects().length > 0 && el.getBoundingClientRect().width > 0;
	  const txt = el => shown(el) ? el.innerText.trim() : "(not shown)";
	  const table = document.querySelector("tr.rating-day").closest("table");
	  const rows = [...table.querySelectorAll("tr.rating-day")];
	  const row = r => ({date: txt(r.cells[0]), central: txt(r.querySelector(".central")), gateway: txt(r.querySelector(".gateway")),
	    difference: txt(r.querySelector(".difference")), differenceBad: r.querySelector(".difference").classList.contains("bad"),
	    why: txt(r.cells[r.cells.length - 2]), differsIn: txt(r.querySelector(".differs-in")), implausible: txt(r.querySelector(".implausible"))});
	  return JSON.stringify({head: [...table.querySelectorAll("thead th")].slice(0, 4).map(txt).concat([txt(table.querySelectorAll("thead th")[table.querySelectorAll("thead th").length - 2])]),
	    first: row(rows[0]), last: row(rows[rows.length - 1]), rows: rows.length, month: txt(document.querySelector(".rating-month"))});
	})()`
	var got struct {
		Head        []string
		First, Last struct {
			Date, Central, Gateway, Difference, Why, DiffersIn, Implausible string
			DifferenceBad                                                   bool
		}
		Rows  int
		Month string
	}
	if err := json.Unmarshal([]byte(b.Eval(js)), &got); err != nil {
		t.Fatal(err)
	}
	wantHead := []string{web.Translate("en", "date"), web.Translate("en", "central.score"), web.Translate("en", "gateway.score"), web.Translate("en", "difference"), web.Translate("en", "why")}
	if strings.Join(got.Head, "|") != strings.Join(wantHead, "|") {
		t.Errorf("table head %q, want %q", got.Head, wantHead)
	}
	if got.Rows != x.monthDays && got.Rows != x.monthDays+1 {
		t.Errorf("%d rated days shown, want the month's %d", got.Rows, x.monthDays)
	}
	fr := got.First
	if fr.Central != f1(central) || fr.Gateway != f1(gw) || fr.Difference != f1(central-gw) || !fr.DifferenceBad {
		t.Errorf("newest day: central %q gateway %q difference %q (marked bad %v); want %s, %s, %s marked bad",
			fr.Central, fr.Gateway, fr.Difference, fr.DifferenceBad, f1(central), f1(gw), f1(central-gw))
	}
	if fr.DiffersIn != "differs in: temperature" || !strings.Contains(fr.Implausible, implausibleReason) || !strings.Contains(fr.Why, fr.DiffersIn) {
		t.Errorf("newest day's why: %q (differs %q, implausible %q); want the differing component and the implausible sensor's reason", fr.Why, fr.DiffersIn, fr.Implausible)
	}
	lr := got.Last
	if lr.Central != "0.0" || !strings.Contains(lr.Why, web.Translate("en", "no.data.day")) || lr.DiffersIn != "differs in: temperature,availability" || lr.Implausible != "(not shown)" {
		t.Errorf("oldest day: central %q why %q implausible %q; want 0.0, no verified data, differs in temperature and availability, no implausible sensor", lr.Central, lr.Why, lr.Implausible)
	}
	if want := fmt.Sprintf("%d/%d days with data", x.withData, x.monthDays); !strings.Contains(got.Month, want) || !strings.Contains(got.Month, f1(x.month)) {
		t.Errorf("30-day line %q, want the mean %s and %q", got.Month, f1(x.month), want)
	}
	b.Shot("monitor-centre-rating-en-desktop.png")

	// The export form as the page renders it (the month it offers), for c00002, as
	// CSV: fetched by the page itself, with its session.
	b.Step("export page", chromedp.Navigate(b.front.URL+"/export?lang=en"), chromedp.WaitVisible(chromedp.CSS("form.filters")),
		chromedp.SetValue(chromedp.CSS(`form.filters select[name=centre]`), "c00002"))
	sctx, scancel := context.WithTimeout(b.Ctx, 30*time.Second)
	body, err := chromedp.Run(sctx, chromedp.Evaluate[string](`(() => { const f = document.querySelector("form.filters");
	  return fetch(f.action + "?" + new URLSearchParams(new FormData(f))).then(r => r.ok ? r.text() : "HTTP " + r.status); })()`, chromedp.EvalAwaitPromise))
	scancel()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("the export form's CSV: %v, %q", err, body)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	month := recs[1][col["date"]][:7]
	days, with := 0, 0
	totals := map[string]string{} // date → central total of the rating points
	for _, p := range e.points {
		if p.m == "rating" && p.tags["centre"] == "c00002" && p.t.In(time.FixedZone("", 5*3600)).Format("2006-01") == month {
			days++
			if p.fields["has_data"] == "true" {
				with++
			}
			totals[p.t.In(time.FixedZone("", 5*3600)).Format(time.DateOnly)] = p.fields["total"]
		}
	}
	if len(recs)-1 != days {
		t.Errorf("CSV has %d rows for c00002 in %s, want %d", len(recs)-1, month, days)
	}
	for _, r := range recs[1:] {
		if r[col["centre_id"]] != "c00002" {
			t.Errorf("CSV row of %s: the form asked for c00002", r[col["centre_id"]])
			continue
		}
		if w, ok := totals[r[col["date"]]]; !ok || num(t, r[col["total"]]) != num(t, w) {
			t.Errorf("CSV %s: total %s, want the central score %s", r[col["date"]], r[col["total"]], w)
		}
		if r[col["days_with_data"]] != fmt.Sprintf("%d/%d", with, days) {
			t.Errorf("CSV %s: days_with_data %q, want %d/%d", r[col["date"]], r[col["days_with_data"]], with, days)
		}
	}
}
