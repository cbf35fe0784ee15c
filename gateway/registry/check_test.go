package registry

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/saqshy/saqshy/gateway/config"
)

const centrePath = "../../firmware-config/centres/shymkent-csu-2.yaml"

func loadPair(t *testing.T) (string, *Entry) {
	t.Helper()
	data, err := os.ReadFile(centrePath)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(data), e
}

func TestCheckExamplePasses(t *testing.T) {
	text, e := loadPair(t)
	cfg, err := config.Parse("shymkent-csu-2.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if errs := Check(cfg, e); len(errs) > 0 {
		t.Fatalf("the example centre config weakens the example registry entry:\n%v", errs)
	}
}

// lineOf returns the 1-based line of the first line of text containing s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			return i + 1
		}
	}
	t.Fatalf("%q not in the config", s)
	return 0
}

// TestCheckLevers tries each lever of the dishonest director (issue 14) on the
// example centre's config: every one passes check-config on its own (the config
// parses), and every one is refused against the registry, naming the local line
// and field and the registry's value. docs/RATING.md lists them.
func TestCheckLevers(t *testing.T) {
	text, e := loadPair(t)
	type edit struct{ old, new string }
	for _, tc := range []struct {
		name  string
		edits []edit
		field string
		at    string // the local line: the first line of the edited config containing this
		want  string // in the message: the registry's value
	}{
		{"remove a room without camera", []edit{
			{"  - {id: room-106, kind: living, name: \"Room 106\"}\n", ""},
			{"  - {id: room-106-climate, zone: room-106, source: zigbee2mqtt, topic: zigbee2mqtt/room-106}\n", ""},
			{"  - {id: cam-06, zones: [room-106], source: frigate, name: room_106}\n", ""},
			{"    - {id: cp-106, zone: room-106, tag: \"04A22B1E\"}\n", ""},
		}, "zones", "\nzones:", `room-106 (living, "Room 106")`},
		{"relabel a cold living room as office", []edit{{`{id: room-101, kind: living`, `{id: room-101, kind: office`}}, "zones[7].kind", "id: room-101, kind", `has zone "room-101" as "living"`},
		{"relabel a living room as stairs", []edit{{`{id: room-102, kind: living`, `{id: room-102, kind: stairs`}}, "zones[8].kind", "id: room-102, kind", `as "living"`},
		{"required kinds optional under coverage.kinds", []edit{{"\nalerts:\n", "\ncoverage:\n  kinds: {living: optional, medical: optional}\n\nalerts:\n"}}, "coverage.kinds.living", "kinds: {living", "requires camera coverage there (cameras cam-01)"},
		{"a required zone made optional", []edit{{`name: "Room 101"}`, `name: "Room 101", coverage: optional}`}}, "zones[7].coverage", "id: room-101, kind", "requires camera coverage there"},
		{"a generic camera the director publishes to", []edit{{"  - {id: cam-27,", "  - {id: cam-99, zones: [room-101], source: generic, topic: director/cam}\n  - {id: cam-27,"}}, "cameras[26].zones[0]", "id: cam-99", "lists only cam-01 for it"},
		{"a fridge sensor's interval padded to 24h", []edit{{"key: \"000008BD38BF\", interval: 60s}", "key: \"000008BD38BF\", interval: 24h}"}}, "sensors[33].interval", "food-fridge-1-probe", `allows sensor "food-fridge-1-probe" at most 1m`},
		{"a sensor moved to another zone", []edit{{"{id: room-101-climate, zone: room-101,", "{id: room-101-climate, zone: director,"}}, "sensors[0].zone", "room-101-climate", `in zone "room-101"`},
		{"an unregistered zone and sensor to dilute the ratios", []edit{
			{"  - {id: garden, kind: play,", "  - {id: spare, kind: living, name: \"Spare\"}\n  - {id: garden, kind: play,"},
		}, "zones[55].id", "id: spare", `is not in the registry v1`},
		{"all checkpoints dropped", []edit{{`re:(?m)^    - \{id: cp-[^\n]*\n`, ""}, {"  checkpoints:\n", "  checkpoints: []\n"}}, "rounds.checkpoints", "  checkpoints: []", "26 registered checkpoint(s) missing: cp-corridor-1w"},
		{"a checkpoint's tag moved", []edit{{`tag: "04A22B19"`, `tag: "04A22B99"`}}, "rounds.checkpoints[9].tag", `tag: "04A22B99"`, `with tag "04A22B19"`},
		{"all recipients dropped", []edit{{`re:(?m)^    - \{name: [^\n]*\n`, ""}, {"  recipients:\n", "  recipients: []\n"}}, "alerts.recipients", "recipients: []", `no recipient "Ministry duty officer (Shymkent)" (telegram_chat -1001000000002 or email duty.shymkent@ministry.example.org)`},
		{"the ministry told last in the chain", []edit{{"alerts:\n  recipients:\n", "alerts:\n  escalation:\n    critical:\n      - {after: 0s, notify: [Director]}\n      - {after: 4h, notify: [\"Ministry duty officer\"]}\n  recipients:\n"}}, "alerts.escalation.critical[1].after", "after: 4h", "within 30m"},
		{"score caps off", []edit{{"\nalerts:\n", "\nscore:\n  caps: \"off\"\n\nalerts:\n"}}, "score.caps", "caps: \"off\"", "has the score caps on"},
		{"other weights under the label 2025.1", []edit{{"\nalerts:\n", "\nscore:\n  weights_version: \"2025.1\"\n  weights: {temperature: 0.1, availability: 0.1, coverage: 0.1, rounds: 0.1, response: 0.6}\n\nalerts:\n"}}, "score.weights", "weights: {temperature: 0.1", `weights "2025.1" are temperature 0.35, availability 0.15`},
		{"another weights label", []edit{{"\nalerts:\n", "\nscore:\n  weights_version: \"centre-1\"\n  weights: {temperature: 0.1, availability: 0.1, coverage: 0.1, rounds: 0.1, response: 0.6}\n\nalerts:\n"}}, "score.weights_version", "weights_version: \"centre-1\"", `rates with weights "2025.1"`},
		{"night window moved to 10:00-10:30", []edit{{`window: "22:00-06:00"`, `window: "10:00-10:30"`}}, "rounds.window", `window: "10:00-10:30"`, `night window "22:00-06:00"`},
		{"round interval lengthened", []edit{{"  interval: 2h\n", "  interval: 8h\n"}}, "rounds.interval", "interval: 8h", "at least every 2h"},
		{"round interval lengthened by an override", []edit{{"  interval: 2h\n", "  interval: 2h\n  overrides:\n    - {zone_kind: living, interval: 8h}\n"}}, "rounds.overrides[0].interval", "zone_kind: living", "at least every 2h"},
		{"burst rule off", []edit{{"  interval: 2h\n", "  interval: 2h\n  burst_count: 0\n"}}, "rounds.burst_count", "burst_count: 0", "loosens the rating's rule (5 scans"},
		{"walking-speed rule off", []edit{{"  interval: 2h\n", "  interval: 2h\n  min_walk: 0s\n  pace: 0s\n"}}, "rounds.min_walk", "min_walk: 0s", "loosens the rating's rule (20s)"},
		{"made-up badges", []edit{{"  interval: 2h\n", "  interval: 2h\n  badges:\n    - {id: walker-1}\n    - {id: walker-2}\n"}}, "rounds.badges[0].id", "id: walker-1", `badge "walker-1" was not issued: the registry v1 lists 5 badge(s)`},
		{"time zone America/New_York", []edit{{"timezone: Asia/Almaty", "timezone: America/New_York"}}, "centre.timezone", "timezone: America/New_York", `the registry v1 has "Asia/Almaty"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mod := text
			for _, ed := range tc.edits {
				if re, ok := strings.CutPrefix(ed.old, "re:"); ok {
					mod = regexp.MustCompile(re).ReplaceAllString(mod, ed.new)
					continue
				}
				if strings.Count(mod, ed.old) != 1 {
					t.Fatalf("%q is in the config %d times", ed.old, strings.Count(mod, ed.old))
				}
				mod = strings.Replace(mod, ed.old, ed.new, 1)
			}
			cfg, err := config.Parse("centre.yaml", []byte(mod))
			if err != nil {
				t.Fatalf("the lever does not even pass check-config on its own:\n%v", err)
			}
			errs := Check(cfg, e)
			var found *config.FieldError
			for _, err := range errs {
				if fe, ok := err.(*config.FieldError); ok && fe.Field == tc.field {
					found = fe
					break
				}
			}
			if found == nil {
				t.Fatalf("no error at %s; got %v", tc.field, errs)
			}
			if want := lineOf(t, mod, strings.TrimPrefix(tc.at, "\n")); found.Line != want || found.File != "centre.yaml" {
				t.Errorf("error at %s:%d, want centre.yaml:%d: %v", found.File, found.Line, want, found)
			}
			if !strings.Contains(found.Error(), tc.want) {
				t.Errorf("%v\ndoes not name the registry's value %q", found, tc.want)
			}
		})
	}
}

// TestCheckStricterPasses: settings that only make the centre stricter stay local.
func TestCheckStricterPasses(t *testing.T) {
	text, e := loadPair(t)
	for _, ed := range [][2]string{
		{"key: \"000008BD38BF\", interval: 60s}", "key: \"000008BD38BF\", interval: 30s}"},
		{"  interval: 2h\n", "  interval: 1h\n  burst_count: 3\n  min_walk: 30s\n  grace: 5m\n  overrides:\n    - {zone_kind: living, interval: 30m}\n  badges:\n    - {id: nurse-01, uid: \"04B1C2D3E4F501\"}\n"},
		{`name: "Reception and visitors' hall"}`, `name: "Reception and visitors' hall", coverage: required}`},
		{"\nalerts:\n", "\ncoverage:\n  kinds: {office: required}\n\nalerts:\n"},
		{"alerts:\n  recipients:\n", "alerts:\n  escalation:\n    critical:\n      - {after: 0s, notify: [\"Ministry duty officer\", Director]}\n  recipients:\n"},
	} {
		if strings.Count(text, ed[0]) != 1 {
			t.Fatalf("%q not once in the config", ed[0])
		}
		text = strings.Replace(text, ed[0], ed[1], 1)
	}
	cfg, err := config.Parse("centre.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if errs := Check(cfg, e); len(errs) > 0 {
		t.Fatalf("stricter settings refused: %v", errs)
	}
}

func TestApply(t *testing.T) {
	text, e := loadPair(t)
	text = strings.Replace(text, `{id: room-101, kind: living`, `{id: room-101, kind: office`, 1)
	text = strings.Replace(text, "  - {id: cam-27,", "  - {id: cam-99, zones: [room-101, director], source: generic, topic: director/cam}\n  - {id: cam-27,", 1)
	text = strings.Replace(text, "key: \"000008BD38BF\", interval: 60s}", "key: \"000008BD38BF\", interval: 24h}", 1)
	text = strings.Replace(text, "timezone: Asia/Almaty", "timezone: America/New_York", 1)
	text = strings.Replace(text, `window: "22:00-06:00"`, `window: "10:00-10:30"`, 1)
	text = strings.Replace(text, "  interval: 2h\n", "  interval: 1h\n  burst_count: 0\n  min_walk: 5s\n  overrides:\n    - {zone_kind: living, interval: 8h}\n  badges:\n    - {id: walker-1}\n", 1)
	text = strings.Replace(text, "\nalerts:\n", "\nscore:\n  caps: \"off\"\n  weights_version: \"2025.1\"\n  weights: {temperature: 0.1, availability: 0.1, coverage: 0.1, rounds: 0.1, response: 0.6}\n\nalerts:\n", 1)
	cfg, err := config.Parse("centre.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	before := EffectiveHash(cfg)
	eff := Apply(cfg, e)
	if cfg.Zones[7].Kind != "office" || cfg.Centre.Timezone != "America/New_York" {
		t.Fatal("Apply modified its input")
	}
	if eff.Zones[7].Kind != "living" || eff.Zones[7].Coverage != config.CoverageRequired {
		t.Errorf("zone kind %q coverage %q", eff.Zones[7].Kind, eff.Zones[7].Coverage)
	}
	cam := eff.Cameras[len(eff.Cameras)-2]
	if cam.ID != "cam-99" || !slices.Equal(cam.Zones, []string{"director"}) {
		t.Errorf("an unlisted camera still covers a required zone: %s %v", cam.ID, cam.Zones)
	}
	if got := eff.Sensors[33].Interval.String(); got != "1m" {
		t.Errorf("fridge interval %s", got)
	}
	if eff.Centre.Timezone != "Asia/Almaty" || eff.Centre.Location.String() != "Asia/Almaty" {
		t.Errorf("time zone %s", eff.Centre.Timezone)
	}
	if eff.Rounds.Window != "22:00-06:00" || eff.Rounds.Interval.String() != "1h" {
		t.Errorf("rounds %s every %s (the stricter local 1h stays)", eff.Rounds.Window, eff.Rounds.Interval)
	}
	if r := eff.Rounds; r.Overrides[0].Interval.String() != "2h" || r.BurstCount != config.DefaultRoundsBurstCount || r.MinWalk != config.DefaultRoundsMinWalk {
		t.Errorf("rounds rules: override %s, burst %d, min walk %s", r.Overrides[0].Interval, r.BurstCount, r.MinWalk)
	}
	if cfg.Rounds.Overrides[0].Interval.String() != "8h" {
		t.Error("Apply modified the input's overrides")
	}
	if len(eff.Rounds.Badges) != 5 || eff.Rounds.Badges[0].ID != "nurse-01" {
		t.Errorf("badges %v", eff.Rounds.Badges)
	}
	if eff.Score.Caps != "on" || eff.Score.Weights != config.DefaultScoreWeights || eff.Score.WeightsVersion != "2025.1" {
		t.Errorf("score %+v", eff.Score)
	}
	if err := eff.Validate(); err != nil {
		t.Errorf("the effective config is invalid: %v", err)
	}
	after := EffectiveHash(eff)
	if before == after || len(after) != 64 || EffectiveHash(Apply(cfg, e)) != after {
		t.Errorf("hash before %s after %s", before, after)
	}
}

func TestEffectiveHash(t *testing.T) {
	text, _ := loadPair(t)
	parse := func(s string) *config.Config {
		cfg, err := config.Parse("c.yaml", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	base := EffectiveHash(parse(text))
	if EffectiveHash(parse(text)) != base {
		t.Fatal("not deterministic")
	}
	// Settings that do not decide the score leave it; the others change it.
	if h := EffectiveHash(parse(strings.Replace(text, `listen: ":8080"`, `listen: ":8081"`, 1))); h != base {
		t.Error("the status page changed the hash")
	}
	for i, ed := range [][2]string{
		{`window: "22:00-06:00"`, `window: "22:00-07:00"`},
		{"key: \"000008BD38BF\", interval: 60s}", "key: \"000008BD38BF\", interval: 30s}"},
		{`{id: room-101, kind: living`, `{id: room-101, kind: office`},
		{"  interval: 2h\n", "  interval: 2h\n  burst_count: 4\n"},
	} {
		if h := EffectiveHash(parse(strings.Replace(text, ed[0], ed[1], 1))); h == base {
			t.Errorf("edit %d (%s) left the hash", i, ed[1])
		}
	}
}
