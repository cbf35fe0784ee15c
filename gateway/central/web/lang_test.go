package web

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
)

var (
	tagRE    = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)
	spacesRE = regexp.MustCompile(`\s+`)
)

func visibleText(page string) string {
	return spacesRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(page, " ")), " ")
}

// englishShown returns the strings of the English catalogue that lang says
// otherwise and text shows, and the raw condition kinds it shows.
func englishShown(lang, text string) []string {
	var found []string
	other := lang
	if lang == "en" {
		other = "ru"
	}
	for k, en := range messages["en"] {
		if messages[other][k] == en || (lang == "en" && messages["kk"][k] == en) {
			continue
		}
		for _, frag := range regexp.MustCompile(`%[sd]`).Split(en, -1) {
			frag = strings.Trim(strings.TrimSpace(frag), ":·—()")
			if len(regexp.MustCompile(`[A-Za-z]`).FindAllString(frag, -1)) < 3 {
				continue
			}
			if regexp.MustCompile(`(^|[^A-Za-z._])` + regexp.QuoteMeta(frag) + `($|[^A-Za-z._])`).MatchString(text) {
				found = append(found, frag)
			}
		}
	}
	for _, k := range ConditionKinds {
		if strings.Contains(text, k) {
			found = append(found, "kind "+k)
		}
	}
	return found
}

// TestNoEnglishOnMonitorPages: the overview, a centre page and the daily report in
// ru and kk show no string of the English catalogue and no raw kind, cap or zone
// id; in English they do (the check can fail).
func TestNoEnglishOnMonitorPages(t *testing.T) {
	s, err := NewServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	info := store.NewCentre("c-1", "Орталық №1", "Алматы", time.UTC)
	live := store.Score{At: now, Total: 22, Capped: true, Caps: "med_fridge_freeze,room_below_16",
		Components: map[string]float64{"temperature": 0.5, "availability": 0.9, "rounds": 0.5, "response": 1}}
	reasons := []store.Reason{{Key: "reason.silent", Arg: "2026-01-15 08:47 UTC"}, {Key: "reason.critical", Arg: "2"},
		{Key: "reason.score", Arg: "22"}, {Key: "reason.capped", Arg: live.Caps}, {Key: "reason.coverage", Arg: "50%"},
		{Key: "reason.rounds", Arg: "50%"}, {Key: "reason.noscore"}, {Key: "reason.unregistered"}}
	ov := OverviewData{Rows: []store.CentreRow{{Info: info, Registered: true, Live: live, HasLive: true, Yesterday: live, HasYesterday: true,
		Month: 80, HasMonth: true, Coverage: 0.5, HasCoverage: true, Night: store.Night{Due: 4, OnTime: 2, Compliance: 0.5}, HasNight: true,
		OpenCritical: 2, Gateway: store.GatewayState{LastSeen: now.Add(-13 * time.Minute), Silent: true}, Reasons: reasons}},
		Total: 1, Attention: 1, Regions: []string{"Алматы"}, Sort: "score", Dir: "asc", Components: store.ComponentNames, Now: now,
		Threshold: 60, CovThreshold: 0.9, RoundsThreshold: 0.9}
	cd := &CentreData{Info: info, Registered: true, Range: "24h", Components: store.ComponentNames,
		Nights: []store.Night{{Night: "2026-01-14", Due: 4, OnTime: 2, Late: 1, Missed: 1, Compliance: 0.5}},
		Scores: []store.Score{live}, zones: map[string]string{"fridge-1": "Дәрі тоңазытқышы"}}
	for i, k := range ConditionKinds {
		in := store.Incident{ID: k, Kind: k, Zone: "fridge-1", Severity: []string{"warning", "critical"}[i%2], Subject: "d-1",
			Fired: now.Add(-2 * time.Hour), State: []string{"firing", "acknowledged", "resolved"}[i%3]}
		if in.State != "firing" {
			in.Acked, in.AckedBy = now.Add(-107*time.Minute), "Әлия"
		}
		if in.State == "resolved" {
			in.Resolved = now.Add(-time.Hour)
		}
		cd.Alerts = append(cd.Alerts, in)
	}
	rep := &store.Report{Date: "2026-01-15", Generated: now, Centres: 1, Regions: []store.ReportRegion{{Region: "Алматы", Centres: 1,
		Items: []store.ReportCentre{{ID: "c-1", Name: "Орталық №1", Reasons: reasons}}}}}
	user := &User{Name: "Әлия", Role: RoleMinistry}
	for _, pg := range []struct {
		tmpl, title string
		data        any
	}{{"overview.html", "overview", ov}, {"centre.html", "centre", cd}, {"report.html", "reports", &ReportView{Report: rep, Kept: true}}} {
		var enFound int
		for _, lang := range Languages {
			var b strings.Builder
			if err := s.tmpl.ExecuteTemplate(&b, pg.tmpl, page{Lang: lang, User: user, Title: pg.title, Data: pg.data, Langs: Languages}); err != nil {
				t.Fatalf("%s %s: %v", pg.tmpl, lang, err)
			}
			text := visibleText(b.String())
			found := englishShown(lang, text)
			if lang == "en" {
				enFound = len(found)
				continue
			}
			for _, raw := range []string{"med_fridge_freeze", "room_below_16", "fridge-1", "13m", " ago", "firing", "critical"} {
				if strings.Contains(text, raw) {
					found = append(found, raw)
				}
			}
			if len(found) > 0 {
				t.Errorf("%s in %s shows %q:\n%s", pg.tmpl, lang, found, text)
			}
		}
		if enFound < 3 {
			t.Errorf("%s in en shows only %d English catalogue strings: the check is blind", pg.tmpl, enFound)
		}
	}
}

// TestAgoTranslated: "13m ago" in every language.
func TestAgoTranslated(t *testing.T) {
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	for lang, want := range map[string]string{"ru": "13 мин назад", "kk": "13 мин бұрын", "en": "13 min ago"} {
		if got := (page{Lang: lang}).Ago(now, now.Add(-13*time.Minute)); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	if got := (page{Lang: "kk"}).Dur(125 * time.Minute); got != "2 сағ 05 мин" {
		t.Errorf("kk Dur = %q", got)
	}
}

// TestKazakhMonitorWords: the words the review found to say something else.
func TestKazakhMonitorWords(t *testing.T) {
	for key, m := range messages["kk"] {
		for _, bad := range []string{"Өткізілген", "өткізілген", "Жойылды", "жойылды", "айналым"} {
			if strings.Contains(m, bad) {
				t.Errorf("kk %s = %q contains %q", key, m, bad)
			}
		}
	}
	if messages["kk"]["resolved"] != "Шешілді" || messages["kk"]["missed"] != "Өткізіп алынған" {
		t.Errorf("kk resolved/missed = %q/%q", messages["kk"]["resolved"], messages["kk"]["missed"])
	}
}

// TestNamesComplete: every name key has all three languages.
func TestNamesComplete(t *testing.T) {
	for k := range nameMessages["en"] {
		for _, l := range Languages {
			if strings.TrimSpace(nameMessages[l][k]) == "" {
				t.Errorf("%s: no %s text", k, l)
			}
		}
	}
	for _, k := range ConditionKinds {
		if _, ok := nameMessages["en"]["kind."+k]; !ok {
			t.Errorf("kind %s has no name", k)
		}
	}
}
