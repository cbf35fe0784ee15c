package alert

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// latinWord is a word in Latin letters: in a ru or kk message only ids and MQTT may be.
var latinWord = regexp.MustCompile(`[A-Za-z][A-Za-z_]{2,}`)

// TestMessagesHaveNoEnglish: every event of every kind, rendered in ru and kk,
// shows no English word and no raw kind, and the duration is in the message's
// language; the English message of the same data does (the check can fail).
func TestMessagesHaveNoEnglish(t *testing.T) {
	ts, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"MQTT": true}
	for _, lang := range []string{"ru", "kk", "en"} {
		for _, ev := range []string{evFire, evEscalate, evRenotify, evAck, evResolved} {
			for _, k := range Kinds {
				d := Data{Event: ev, ID: "7", Centre: "Орталық", Zone: "z-1", ZoneName: "Бөлме 101", ZoneKind: "med-fridge", Subject: "d-7",
					Kind: k, Severity: "critical", Critical: true, Value: 9.8, HasValue: true, Since: "2026-01-15 22:00",
					For: shortDuration(75*time.Minute, lang), AckedBy: "Әлия"}
				if strings.HasPrefix(k, "gateway_") {
					d.Zone, d.ZoneName, d.Subject = "", "", "gateway"
				}
				m, err := ts.Render(lang, d)
				if err != nil {
					t.Fatal(err)
				}
				all := m.Subject + "\n" + m.Text + "\n" + m.Button + "\n" + m.Status
				var bad []string
				for _, w := range latinWord.FindAllString(all, -1) {
					if !allowed[w] {
						bad = append(bad, w)
					}
				}
				if lang == "en" {
					if len(bad) == 0 {
						t.Errorf("en %s %s: no English word found: the check is blind", ev, k)
					}
					continue
				}
				if len(bad) > 0 {
					t.Errorf("%s %s %s shows %q:\n%s", lang, ev, k, bad, all)
				}
				if strings.Contains(all, " — ,") || strings.Contains(all, "— \n") {
					t.Errorf("%s %s %s: an empty zone:\n%s", lang, ev, k, all)
				}
			}
		}
	}
}

func TestShortDurationPerLanguage(t *testing.T) {
	for _, tt := range []struct {
		d          time.Duration
		lang, want string
	}{
		{20 * time.Second, "ru", "<1 мин"}, {12 * time.Minute, "kk", "12 мин"}, {65 * time.Minute, "ru", "1 ч 05 мин"},
		{65 * time.Minute, "kk", "1 сағ 05 мин"}, {65 * time.Minute, "en", "1 h 05 min"}, {50 * time.Hour, "kk", "2 күн 2 сағ"},
		{65 * time.Minute, "xx", "1 ч 05 мин"},
	} {
		if got := shortDuration(tt.d, tt.lang); got != tt.want {
			t.Errorf("shortDuration(%v, %s) = %q, want %q", tt.d, tt.lang, got, tt.want)
		}
	}
}
