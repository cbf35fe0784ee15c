package status

import (
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/alert"
	"github.com/saqshy/saqshy/gateway/camera"
	"github.com/saqshy/saqshy/gateway/rounds"
	"github.com/saqshy/saqshy/gateway/rules"
	"github.com/saqshy/saqshy/gateway/zonekind"
)

// allKinds are the condition kinds the checks raise: the packages' constants, the
// limits' own kinds, the wired probes', and the plausibility and tamper kinds.
func allKinds() []string {
	ks := []string{rules.KindFreeze, rules.KindCumulative, rules.KindStale, rules.KindOffline, rules.KindBattery,
		rules.KindSpool, rules.KindUplink, rules.KindClock, rules.KindMQTT,
		camera.KindCoverageGap, camera.KindCameraOffline, rounds.KindMissed, rounds.KindStateLost,
		"probe_error", "implausible", "camera_tampered", rounds.ReasonUnknownBadge}
	for _, k := range zonekind.All() {
		for _, l := range k.Limits {
			if l.Kind != "" {
				ks = append(ks, l.Kind)
			}
		}
	}
	ks = append(ks, alert.Kinds...)
	slices.Sort(ks)
	return slices.Compact(ks)
}

// A condition of every kind, with the reasons the checks write (English).
func everyCondition() []Condition {
	var cs []Condition
	for _, k := range allKinds() {
		c := Condition{Kind: k, Subject: "s1", Zone: "med-fridge", Severity: SeverityCritical, Since: t0.Add(-75 * time.Minute),
			Reason: k + ": 9.8 °C", Value: 9.8, HasValue: true}
		switch {
		case strings.HasPrefix(k, "gateway_"):
			c.Subject, c.Zone, c.Reason, c.Value = "gateway", "", "InfluxDB unreachable: connection refused", 75
		case k == "coverage_gap":
			c.Subject, c.Zone, c.Reason, c.HasValue = "boiler", "boiler", "zone boiler (boiler) has no camera", false
		case k == "camera_offline":
			c.Subject, c.Reason, c.HasValue = "k1", "camera offline no_frames", false
		case k == "round_missed":
			c.Subject, c.Zone, c.Reason, c.HasValue = "p1", "room-101", "no scan at p1 between 22:00 and 23:00 (2 missed in a row)", false
		case k == "round_state_lost":
			c.Subject, c.Zone, c.Reason, c.HasValue = "rounds", "", "the night-round state file was corrupt; tonight's rounds are not judged", false
		case k == "probe_error":
			c.Reason, c.HasValue = "crc", false
		case k == "sensor_stale" || k == "device_offline":
			c.Value = 75
		}
		cs = append(cs, c)
	}
	return cs
}

var (
	tagRE    = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)
	spacesRE = regexp.MustCompile(`\s+`)
)

// visible is the text a reader sees: no tags, no attribute values.
func visible(page string) string {
	return spacesRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(page, " ")), " ")
}

// englishIn returns the English catalogue strings (EnglishIn) and the raw
// condition kinds in text.
func englishIn(text string, kinds []string) []string {
	found := EnglishIn(text)
	for _, k := range kinds {
		if strings.Contains(text, k) {
			found = append(found, "kind "+k)
		}
	}
	return found
}

// TestNoEnglishOnRussianOrKazakhPage: the page in ru and kk, with open conditions
// of every kind, alerts of every kind, cameras, coverage, rounds and a capped
// score, shows no string of the English catalogue and no raw condition kind or
// zone id; the ids stay in attributes for the technician.
func TestNoEnglishOnRussianOrKazakhPage(t *testing.T) {
	p := centre()
	ts, err := alert.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	p.set(func(s *Snapshot) {
		s.CentreName = "Орталық №2"
		s.Zones = []Zone{{"room-101", "", "living", &living}, {"med-fridge", "", "med-fridge", &medFridge},
			{"boiler", "", "boiler", &boiler}, {"store", "Қойма", "other", nil}}
		for i := range s.Sensors {
			s.Sensors[i].ID = "s" + string(rune('1'+i))
		}
		s.Counters = nil
		s.Conditions = everyCondition()
		s.Cameras = []Camera{{ID: "k1", Zones: []string{"room-101"}, State: CameraOffline, Reason: "no_frames"},
			{ID: "k2", Zones: []string{"boiler"}, State: CameraDegraded, Reason: "fps 0.5 below 2"}}
		s.Coverage = []Coverage{{ZoneKind: "all", Required: 2, Covered: 1, Now: 0.5, Today: 0.7}, {ZoneKind: "living", Required: 1, Covered: 0}}
		s.Rounds = &Rounds{Window: "22:00-06:00", Due: 4, Done: 3, Missed: 1, Next: t0.Add(30 * time.Minute)}
		s.Score = &Score{Live: 22, Components: []ScoreComponent{{"temperature", 0.5, true}, {"availability", 0, false},
			{"coverage", 1, true}, {"rounds", 0.75, true}, {"response", 1, true}}, Caps: []string{"med_fridge_freeze", "room_below_16", "scald"}, Version: "v1"}
		for i, k := range alert.Kinds {
			texts := map[string]string{}
			for _, lang := range alert.Langs {
				m, err := ts.Render(lang, alert.Data{Event: "fire", ID: "1", Centre: "Орталық", Zone: "med-fridge", ZoneName: "Дәрі тоңазытқышы",
					ZoneKind: "med-fridge", Subject: "s1", Kind: k, Severity: "critical", Critical: true, Value: 9.8, HasValue: true})
				if err != nil {
					t.Fatal(err)
				}
				texts[lang] = m.Status
			}
			s.Alerts = append(s.Alerts, Alert{ID: string(rune('a' + i)), Severity: SeverityCritical, State: AlertFiring,
				Text: texts["en"], Texts: texts, Zone: "med-fridge", Since: t0.Add(-time.Hour)})
		}
	})
	srv := newServer(t, p, Options{})
	c := newClient(t, srv)
	catalogue, kinds := EnglishOnly(), allKinds()
	if len(catalogue) < 100 || len(kinds) < 20 {
		t.Fatalf("only %d English strings and %d kinds: the test checks nothing", len(catalogue), len(kinds))
	}
	var enText string
	for _, lang := range []string{"ru", "kk", "en"} {
		_, body := c.do("GET", "/", nil, "Accept-Language", lang)
		text := visible(body)
		if lang == "en" {
			enText = text
			continue
		}
		if found := englishIn(text, kinds); len(found) > 0 {
			t.Errorf("%s page shows English or raw kinds: %q\n%s", lang, found, text)
		}
		for _, id := range []string{"room-101", "med-fridge", "boiler"} {
			if strings.Contains(text, id) {
				t.Errorf("%s page shows the raw zone id %q", lang, id)
			}
			if !strings.Contains(body, `title="`+id+`"`) && !strings.Contains(body, `data-zone="`+id+`"`) {
				t.Errorf("%s page keeps no attribute with zone id %q for the technician", lang, id)
			}
		}
		for _, k := range kinds {
			if !strings.Contains(body, `data-kind="`+k+`"`) {
				t.Errorf("%s page: the condition %s lacks its data-kind", lang, k)
			}
		}
		if !strings.Contains(body, `title="camera offline no_frames"`) {
			t.Errorf("%s page hides the check's own reason from the technician", lang)
		}
	}
	// The check can fail: the English page shows English.
	if found := englishIn(enText, nil); len(found) < 20 {
		t.Errorf("the English page shows only %d English catalogue strings: the check is blind\n%s", len(found), enText)
	}
}

// TestEveryKindAndReasonNamed: every condition kind, camera reason and wired
// probe's reason has a name in ru, kk and en, each its own.
func TestEveryKindAndReasonNamed(t *testing.T) {
	ids := append(allKinds(), "no_report", "stale", "nvr_silent", "nvr_offline", "not_in_stats", "no_frames", "disabled",
		"detect_offline", "connection_unusable", "recording_off", "recording_failing", "low_fps", "connection_poor",
		"storage_low", "reported", "crc", "power_on_value", "disconnected", "wrong_chip", "bus_error", "bad_data", "read_error",
		"gateway", "rounds", "all", "scald", "med_fridge_freeze", "room_below_16", "camera_down_24h", "gateway_silent_24h")
	for _, id := range ids {
		n, ok := names[id]
		if !ok {
			t.Errorf("%s has no name", id)
			continue
		}
		for i, s := range n {
			if strings.TrimSpace(s) == "" || (i < 2 && s == id) {
				t.Errorf("%s: no %s name (%q)", id, languages[i], s)
			}
		}
		if n[0] == n[2] || n[1] == n[2] {
			t.Errorf("%s: ru or kk name is the English one: %q", id, n)
		}
	}
}

// TestReasonOnThePage: a reason that is a code is translated, one that repeats the
// kind is dropped, and an English sentence is shown only on the English page.
func TestReasonOnThePage(t *testing.T) {
	for _, tt := range []struct{ lang, kind, reason, want string }{
		{"ru", "probe_error", "crc", "ошибка контрольной суммы"},
		{"kk", "probe_error", "crc: checksum mismatch", "бақылау сомасының қатесі"},
		{"ru", "camera_offline", "camera offline no_frames", "нет кадров"},
		{"ru", "temperature_high", "temperature_high: 9.8 °C", ""},
		{"en", "temperature_high", "temperature_high: 9.8 °C", ""},
		{"ru", "round_missed", "no scan at p1 between 22:00 and 23:00", ""},
		{"en", "round_missed", "no scan at p1 between 22:00 and 23:00", "no scan at p1 between 22:00 and 23:00"},
	} {
		if got := (tr{tt.lang}).reason(tt.kind, tt.reason); got != tt.want {
			t.Errorf("%s reason(%s, %q) = %q, want %q", tt.lang, tt.kind, tt.reason, got, tt.want)
		}
	}
	for _, tt := range []struct {
		lang, kind string
		v          float64
		want       string
	}{
		{"ru", "temperature_high", 9.84, "9.8 °C"}, {"kk", "gateway_uplink", 75, "1 сағ 15 мин"}, {"ru", "sensor_stale", 12, "12 мин"},
		{"en", "gateway_spool", 91.6, "92 %"},
	} {
		if got := (tr{tt.lang}).value(tt.kind, tt.v); got != tt.want {
			t.Errorf("%s value(%s, %v) = %q, want %q", tt.lang, tt.kind, tt.v, got, tt.want)
		}
	}
}
