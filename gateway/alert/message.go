package alert

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/saqshy/saqshy/gateway/zonekind"
)

// Events a message is about.
const (
	evFire     = "fire"
	evEscalate = "escalate"
	evRenotify = "renotify"
	evAck      = "ack"
	evResolved = "resolved"
)

// Langs are the languages messages are written in.
var Langs = []string{"ru", "kk", "en"}

//go:embed templates/*.tmpl
var defaultTemplates embed.FS

// Templates renders messages per language from text/template files: the embedded
// defaults (templates/<lang>.tmpl), each optionally overridden by
// <dir>/<lang>.tmpl, whose {{define}}s replace the defaults' of the same name.
//
// Each language defines "subject", "text" and "button"; "text" may call
// {{what .}} and {{advice .}}, which run "what_<kind>" and "advice_<kind>" if the
// file defines them, else "what_default" and "advice_default".
type Templates struct {
	set map[string]*template.Template
}

// Message is a rendered message. Status is the one line the status page shows
// ("status" in the templates; "" when an override set lacks it).
type Message struct{ Subject, Text, Button, Status string }

// Data is what a template sees.
type Data struct {
	Event      string // fire, escalate, renotify, ack, resolved
	ID         string
	Centre     string // the centre's name (or id)
	Zone       string // zone id
	ZoneName   string // the zone's configured name; else its kind's name in the message's language; else its id; "" for the gateway itself
	ZoneKind   string // zone kind, e.g. med-fridge
	KindName   string // ZoneKind's name in the message's language (zonekind.Names)
	Subject    string // sensor, camera or checkpoint id
	Kind       string // condition kind, e.g. temperature_high
	Severity   string // warning or critical
	Critical   bool
	Reason     string
	Value      float64
	HasValue   bool
	Since      string // local time the condition began, "2006-01-02 15:04"
	For        string // how long it has lasted in the message's language, e.g. "1 ч 05 мин"
	AckedBy    string
	StatusURL  string
	StatusLink string // StatusURL + "#alert-<id>", or ""
}

// LoadTemplates parses the default templates and the overrides in dir ("" for
// none), and renders every language once with sample data so that a broken
// template fails at start, naming its file.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{set: map[string]*template.Template{}}
	for _, lang := range Langs {
		tpl := template.New(lang)
		tpl.Funcs(template.FuncMap{
			"what":   func(d Data) (string, error) { return include(tpl, "what", d) },
			"advice": func(d Data) (string, error) { return include(tpl, "advice", d) },
			"num":    func(v float64) string { return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", v), "0"), ".") },
		})
		def, err := fs.ReadFile(defaultTemplates, "templates/"+lang+".tmpl")
		if err != nil {
			return nil, fmt.Errorf("alert templates: %w", err)
		}
		if _, err := tpl.Parse(string(def)); err != nil {
			return nil, fmt.Errorf("alert templates: built-in %s.tmpl: %w", lang, err)
		}
		if dir != "" {
			path := filepath.Join(dir, lang+".tmpl")
			src, err := os.ReadFile(path)
			switch {
			case errors.Is(err, os.ErrNotExist):
			case err != nil:
				return nil, fmt.Errorf("alert templates: %w", err)
			default:
				if _, err := tpl.Parse(string(src)); err != nil {
					return nil, fmt.Errorf("alert templates: %s: %w", path, err)
				}
			}
		}
		t.set[lang] = tpl
	}
	for _, lang := range Langs {
		for _, ev := range []string{evFire, evEscalate, evRenotify, evAck, evResolved} {
			for _, kind := range sampleKinds {
				d := Data{Event: ev, ID: "1", Centre: "Centre", Zone: "z", ZoneName: "Zone", ZoneKind: "med-fridge", Subject: "s", Kind: kind,
					Severity: "critical", Critical: true, Value: 9.5, HasValue: true, Since: "2026-01-01 00:00", For: "15m",
					AckedBy: "Director", StatusURL: "http://saqshy.local:8080/"}
				if _, err := t.Render(lang, d); err != nil {
					return nil, fmt.Errorf("alert templates: %s (file %s.tmpl): %w", lang, lang, err)
				}
			}
		}
	}
	return t, nil
}

// Kinds are the condition kinds the built-in templates name in every language
// (rules, readings, camera, rounds, the gateway's own health, plausibility).
var Kinds = []string{"temperature_high", "temperature_low", "temperature_freeze", "temperature_cumulative",
	"humidity_high", "humidity_low", "sensor_stale", "device_offline", "battery_low", "probe_error", "implausible",
	"gateway_spool", "gateway_uplink", "gateway_clock", "gateway_mqtt",
	"camera_offline", "camera_tampered", "coverage_gap", "round_missed", "round_state_lost", "unknown_badge"}

var sampleKinds = append(append([]string(nil), Kinds...), "something_new")

func include(tpl *template.Template, prefix string, d Data) (string, error) {
	name := prefix + "_" + d.Kind
	if tpl.Lookup(name) == nil {
		name = prefix + "_default"
	}
	var b bytes.Buffer
	if err := tpl.ExecuteTemplate(&b, name, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// Render renders the message of lang (falling back to ru for an unknown one).
func (t *Templates) Render(lang string, d Data) (Message, error) {
	tpl := t.set[lang]
	if tpl == nil {
		tpl = t.set["ru"]
	}
	var m Message
	for _, p := range []struct {
		name string
		dst  *string
	}{{"subject", &m.Subject}, {"text", &m.Text}, {"button", &m.Button}, {"status", &m.Status}} {
		if p.name == "status" && tpl.Lookup("status") == nil {
			continue
		}
		var b bytes.Buffer
		if err := tpl.ExecuteTemplate(&b, p.name, d); err != nil {
			return Message{}, err
		}
		*p.dst = strings.TrimSpace(collapse(b.String()))
	}
	return m, nil
}

// collapse removes the blank lines that template actions leave, keeping one blank
// line where the template has two newlines in a row around text.
func collapse(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// data builds the template data of a for event ev. e.mu held.
func (e *Engine) data(a *Alert, ev, lang string) Data {
	now := e.opt.Now()
	d := Data{Event: ev, ID: a.ID, Centre: e.opt.CentreName, Zone: a.Zone, ZoneName: e.opt.ZoneNames[a.Zone],
		ZoneKind: e.opt.ZoneKinds[a.Zone], Subject: a.Subject, Kind: a.Kind, Severity: a.Severity.String(), Critical: a.Severity == 2,
		Reason: a.Reason, Value: a.Value, HasValue: a.HasValue, AckedBy: a.AckedBy, StatusURL: e.opt.StatusURL,
		Since: a.Since.In(e.opt.Location).Format("2006-01-02 15:04")}
	if d.Centre == "" {
		d.Centre = e.opt.Centre
	}
	if k, ok := zonekind.Lookup(d.ZoneKind); ok {
		d.KindName = k.Names.In(lang)
	}
	if d.ZoneName == "" {
		d.ZoneName = cmp.Or(d.KindName, a.Zone)
	}
	end := now
	if a.State == Resolved && !a.Resolved.IsZero() {
		end = a.Resolved
	}
	if dur := end.Sub(a.Since); dur > 0 {
		d.For = shortDuration(dur, lang)
	}
	if e.opt.StatusURL != "" {
		d.StatusLink = strings.TrimRight(e.opt.StatusURL, "/") + "/#alert-" + a.ID
	}
	return d
}

// durUnits are the minute, hour and day units per language.
var durUnits = map[string][3]string{"ru": {"мин", "ч", "д"}, "kk": {"мин", "сағ", "күн"}, "en": {"min", "h", "d"}}

// shortDuration says d in lang: "<1 мин", "12 мин", "1 ч 05 мин", "3 д 2 ч".
func shortDuration(d time.Duration, lang string) string {
	u, ok := durUnits[lang]
	if !ok {
		u = durUnits["ru"]
	}
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case d < time.Minute:
		return "<1 " + u[0]
	case d < time.Hour:
		return fmt.Sprintf("%d %s", m, u[0])
	case d < 48*time.Hour:
		return fmt.Sprintf("%d %s %02d %s", h, u[1], m, u[0])
	}
	return fmt.Sprintf("%d %s %d %s", h/24, u[2], h%24, u[1])
}
