package registry

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

const examplePath = "../../firmware-config/registry/shymkent-csu-2.yaml"

// small is a valid entry the error tests mutate.
const small = `version: 3
not_before: 2026-02-01T00:00:00+05:00
centre: {id: test-centre, name: "Test centre", region: shymkent, timezone: Asia/Almaty}
zones:
  - {id: room-1, kind: living, name: "Room 1", rooms: ["101"], cameras: [cam-1]}
  - {id: office, kind: office, name: "Office"}
  - {id: fridge, kind: med-fridge, name: "Fridge"}
sensors:
  - {id: fridge-probe, zone: fridge, max_interval: 60s}
rounds:
  window: "22:00-06:00"
  interval: 2h
  checkpoints:
    - {id: cp-1, zone: room-1, tag: "04A22B19"}
  badges:
    - {id: nurse-1, uid: "04B1C2D3E4F501"}
recipients:
  - {name: "Duty officer", telegram_chat: "-1001000000002", critical_within: 30m}
score:
  weights_version: "2025.1"
  weights: {temperature: 0.35, availability: 0.15, coverage: 0.20, rounds: 0.20, response: 0.10}
  caps: "on"
`

func TestParseExample(t *testing.T) {
	e, err := Load(examplePath)
	if err != nil {
		t.Fatalf("the example registry entry is invalid:\n%v", err)
	}
	if e.Centre.ID != "shymkent-csu-2" || len(e.Zones) != 56 || len(e.Sensors) != 63 || len(e.Rounds.Checkpoints) != 26 {
		t.Fatalf("example: %s, %d zones, %d sensors, %d checkpoints", e.Centre.ID, len(e.Zones), len(e.Sensors), len(e.Rounds.Checkpoints))
	}
	e2, err := Parse("small.yaml", []byte(small))
	if err != nil {
		t.Fatal(err)
	}
	if got := e2.NotBefore.Format("2006-01-02T15:04:05Z07:00"); got != "2026-01-31T19:00:00Z" {
		t.Errorf("not_before in UTC: %s", got)
	}
	if !e2.Zones[0].Required() || e2.Zones[1].Required() {
		t.Error("coverage rule of living/office")
	}
}

// TestGatewayInstalled: the installation time the officer registers is read in
// UTC and signed with the entry; an entry without it keeps its canonical bytes.
func TestGatewayInstalled(t *testing.T) {
	without, err := Parse("small.yaml", []byte(small))
	if err != nil {
		t.Fatal(err)
	}
	cw, _ := without.Canonical()
	if strings.Contains(string(cw), "installed") {
		t.Errorf("an entry without gateway.installed has it in its canonical bytes: %s", cw)
	}
	e, err := Parse("small.yaml", []byte(small+"gateway: {installed: 2026-02-03T14:30:00+05:00}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Gateway.Installed.Format(time.RFC3339); got != "2026-02-03T09:30:00Z" {
		t.Errorf("installed %s, want 2026-02-03T09:30:00Z", got)
	}
	c, _ := e.Canonical()
	if !strings.Contains(string(c), `"gateway":{"installed":"2026-02-03T09:30:00Z"}`) {
		t.Errorf("canonical bytes lack the installation time: %s", c)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           string // the whole first error, file:line: field: message
	}{
		{"unknown kind", "kind: office,", "kind: ofice,", `small.yaml:6: zones[1].kind: unknown zone kind "ofice" (did you mean "office"?)`},
		{"missing kind", "kind: office, ", "", `small.yaml:6: zones[1].kind: required: one of activity,`},
		{"unknown field", "rooms: [\"101\"]", "room: [\"101\"]", `small.yaml:5: zones[0].room: unknown field "room" (did you mean "rooms"?)`},
		{"unknown section", "score:", "scores:", `small.yaml:19: scores: unknown field "scores" (did you mean "score"?)`},
		{"not_before quoted", "not_before: 2026-02-01T00:00:00+05:00", `not_before: "tomorrow"`, `small.yaml:2: not_before: expected a time such as 2026-03-01T00:00:00+05:00`},
		{"installed not a time", "score:", "gateway: {installed: \"last week\"}\nscore:", `small.yaml:19: gateway.installed: expected a time such as 2026-03-01T00:00:00+05:00`},
		{"version", "version: 3", "version: 0", `small.yaml:1: version: required: a whole number from 1`},
		{"bad id", "id: test-centre", "id: Test Centre", `small.yaml:3: centre.id: invalid id "Test Centre"`},
		{"no region", "region: shymkent, ", "", `small.yaml:3: centre.region: required`},
		{"bad tz", "Asia/Almaty", "Asia/Almatty", `small.yaml:3: centre.timezone: unknown time zone "Asia/Almatty"`},
		{"dup zone", "id: office, kind", "id: room-1, kind", `small.yaml:6: zones[1].id: duplicate id "room-1" (first at line 5, zones[0].id)`},
		{"required without cameras", ", cameras: [cam-1]", "", `small.yaml:5: zones[0].cameras: zone "room-1" (kind living) must be covered`},
		{"cameras on optional", `name: "Office"}`, `name: "Office", cameras: [cam-2]}`, `small.yaml:6: zones[1].cameras: zone "office" is not required`},
		{"private with cameras", "kind: office, name: \"Office\"", "kind: toilet, name: \"WC\", cameras: [cam-2]", `small.yaml:6: zones[1].cameras: zone "office" is of private kind toilet`},
		{"bad coverage", `name: "Office"}`, `name: "Office", coverage: maybe}`, `small.yaml:6: zones[1].coverage: must be required or optional`},
		{"sensor zone", "zone: fridge, max", "zone: fridgee, max", `small.yaml:9: sensors[0].zone: unknown zone "fridgee" (did you mean "fridge"?)`},
		{"sensor interval", "max_interval: 60s", "max_interval: 0s", `small.yaml:9: sensors[0].max_interval: required: the longest`},
		{"sensor interval no unit", "max_interval: 60s", "max_interval: 60", `small.yaml:9: sensors[0].max_interval: duration "60" has no unit`},
		{"window", `"22:00-06:00"`, `"22:00"`, `small.yaml:11: rounds.window: invalid window "22:00"`},
		{"interval", "interval: 2h", "interval: 30s", `small.yaml:12: rounds.interval: required: how often`},
		{"tag", `tag: "04A22B19"`, `tag: "xyz"`, `small.yaml:14: rounds.checkpoints[0].tag: invalid tag UID "xyz"`},
		{"badge is a tag", `uid: "04B1C2D3E4F501"`, `uid: "04:a2:2b:19"`, `small.yaml:16: rounds.badges[0].uid: UID "04:a2:2b:19" is also line 14, rounds.checkpoints[0]`},
		{"no recipients", "  - {name: \"Duty officer\", telegram_chat: \"-1001000000002\", critical_within: 30m}\n", "", `small.yaml:17: recipients: required`},
		{"recipient channel", `telegram_chat: "-1001000000002", `, "", `small.yaml:18: recipients[0]: no channel`},
		{"weights sum", "response: 0.10", "response: 0.20", `small.yaml:21: score.weights: must sum to 1, got 1.1`},
		{"caps", `caps: "on"`, `caps: "maybe"`, `small.yaml:22: score.caps: required: on or off, got "maybe"`},
		{"gateway key", `caps: "on"`, "caps: \"on\"\ngateway: {public_key: \"AAAA\"}", `small.yaml:23: gateway.public_key: not an Ed25519 public key`},
		{"syntax", "zones:", "zones: [", `small.yaml:5: YAML syntax error`},
		{"list", small, "- a\n- b\n", `small.yaml:1: a registry entry is a mapping`},
		{"empty", small, "", `small.yaml: the file is empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(small, tc.old) {
				t.Fatalf("%q not in the entry", tc.old)
			}
			data := strings.Replace(small, tc.old, tc.new, 1)
			e, err := Parse("small.yaml", []byte(data))
			if err == nil || e != nil {
				t.Fatalf("accepted:\n%s", data)
			}
			fes := config.FieldErrors(err)
			if len(fes) == 0 {
				t.Fatalf("not FieldErrors: %v", err)
			}
			if got := fes[0].Error(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("got  %s\nwant %s…\nall: %v", got, tc.want, err)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	_, err := Parse("big.yaml", make([]byte, MaxEntrySize+1))
	if err == nil || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("got %v", err)
	}
	if _, err := Load("/nonexistent/x.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestCanonicalDeterministic(t *testing.T) {
	a, err := Parse("a.yaml", []byte(small))
	if err != nil {
		t.Fatal(err)
	}
	// The same entry written differently: other order of keys, flow vs block,
	// another offset for the same instant.
	other := strings.Replace(small, "not_before: 2026-02-01T00:00:00+05:00", "not_before: 2026-01-31T19:00:00Z", 1)
	other = strings.Replace(other, `{temperature: 0.35, availability: 0.15, coverage: 0.20, rounds: 0.20, response: 0.10}`,
		"\n    response: 0.1\n    rounds: 0.2\n    coverage: 0.2\n    availability: 0.15\n    temperature: 0.35", 1)
	b, err := Parse("b.yaml", []byte(other))
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := a.Canonical()
	cb, _ := b.Canonical()
	if string(ca) != string(cb) {
		t.Fatalf("canonical bytes differ:\n%s\n%s", ca, cb)
	}
	if !strings.Contains(string(ca), `"max_interval":"1m"`) || !strings.Contains(string(ca), `"not_before":"2026-01-31T19:00:00Z"`) {
		t.Errorf("canonical: %s", ca)
	}
}
