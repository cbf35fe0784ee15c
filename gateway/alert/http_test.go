package alert

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saqshy/saqshy/gateway/alert/outbox"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

func TestAckHTTP(t *testing.T) {
	r := newRig(t)
	r.eng.Raise(fridgeWarm())
	r.eng.Raise(fridgeWarm()) // the same incident
	open := httptest.NewServer(r.eng.Handler(""))
	defer open.Close()
	secured := httptest.NewServer(r.eng.Handler("tok"))
	defer secured.Close()
	do := func(srv *httptest.Server, method, path, ctype, body, auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		name                      string
		srv                       *httptest.Server
		method, path, ctype, body string
		auth                      string
		code                      int
		contains                  string
	}{
		{"no token", secured, "POST", "/api/alerts/1/ack", "application/json", `{"by":"x"}`, "", 401, "unauthorised"},
		{"wrong token", secured, "POST", "/api/alerts/1/ack", "application/json", `{"by":"x"}`, "Bearer nope", 401, "unauthorised"},
		{"bad json", secured, "POST", "/api/alerts/1/ack", "application/json", `{"by":`, "Bearer tok", 400, "invalid JSON"},
		{"no by", secured, "POST", "/api/alerts/1/ack", "application/json", `{}`, "Bearer tok", 400, "missing"},
		{"long by", secured, "POST", "/api/alerts/1/ack", "application/json", `{"by":"` + strings.Repeat("x", 300) + `"}`, "Bearer tok", 400, "longer"},
		{"huge body", secured, "POST", "/api/alerts/1/ack", "application/json", `{"by":"` + strings.Repeat("x", 10000) + `"}`, "Bearer tok", 400, "too large"},
		{"xml", secured, "POST", "/api/alerts/1/ack", "text/xml", `<by/>`, "Bearer tok", 400, "unsupported"},
		{"unknown", secured, "POST", "/api/alerts/42/ack", "application/json", `{"by":"x"}`, "Bearer tok", 404, "no such alert"},
		{"get ack", secured, "GET", "/api/alerts/1/ack", "", "", "Bearer tok", 405, ""},
		{"list", open, "GET", "/api/alerts", "", "", "", 200, `"State":"firing"`},
		{"form ack from loopback", open, "POST", "/api/alerts/1/ack", "application/x-www-form-urlencoded", "by=Director", "", 200, `"acked_by":"Director"`},
		{"again", secured, "POST", "/api/alerts/1/ack", "application/json", `{"by":"Deputy"}`, "Bearer tok", 200, `"acked_by":"Director"`},
	} {
		code, body := do(c.srv, c.method, c.path, c.ctype, c.body, c.auth)
		if code != c.code || !strings.Contains(body, c.contains) {
			t.Errorf("%s: %d %s; want %d containing %q", c.name, code, body, c.code, c.contains)
		}
	}
	r.eng.Clear("temperature_high", "fridge-probe", t0)
	r.run(t0)
	if code, body := do(secured, "POST", "/api/alerts/1/ack", "application/json", `{"by":"x"}`, "Bearer tok"); code != 409 {
		t.Errorf("resolved: %d %s", code, body)
	}
}

func TestTemplates(t *testing.T) {
	tpl, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	d := Data{Event: evFire, ID: "3", Centre: "ЦСУ №2", ZoneName: "Комната 101", ZoneKind: "living", Subject: "room-101-climate",
		Kind: "temperature_low", Severity: "critical", Critical: true, Value: 16.5, HasValue: true, Since: "2026-11-22 02:00", For: "45m",
		StatusURL: "http://gw:8080/", StatusLink: "http://gw:8080/#alert-3"}
	for lang, want := range map[string][]string{
		"ru": {"КРИТИЧНО", "Температура ниже нормы", "16.5 °C", "ЦСУ №2 — Комната 101", "С 2026-11-22 02:00 (45m)", "одеяла", "Статус: http://gw:8080/#alert-3", "Оповещение №3"},
		"kk": {"ӨТЕ ҚАУІПТІ", "Температура нормадан төмен", "16.5 °C", "2026-11-22 02:00 бастап", "көрпе", "Ескерту №3"},
		"en": {"CRITICAL", "Temperature too low", "16.5 °C", "Since 2026-11-22 02:00 (45m)", "blankets", "Alert #3"},
		"xx": {"КРИТИЧНО"}, // an unknown language falls back to Russian
	} {
		m, err := tpl.Render(lang, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(m.Text, w) && !strings.Contains(m.Subject, w) {
				t.Errorf("%s lacks %q:\n%s\n%s", lang, w, m.Subject, m.Text)
			}
		}
		if m.Button == "" || strings.Contains(m.Text, "\n\n\n") {
			t.Errorf("%s: button %q, text:\n%s", lang, m.Button, m.Text)
		}
	}
	d.Event, d.AckedBy = evResolved, "Director"
	m, _ := tpl.Render("en", d)
	if strings.Contains(m.Text, "What to do") || !strings.HasPrefix(m.Subject, "Resolved:") {
		t.Errorf("resolved:\n%s\n%s", m.Subject, m.Text)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ru.tmpl"), []byte(`{{define "advice_temperature_low"}}Звоните завхозу: +7 701 000 00 00.{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	over, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Event = evFire
	if m, _ := over.Render("ru", d); !strings.Contains(m.Text, "Звоните завхозу") || !strings.Contains(m.Text, "Температура ниже нормы") {
		t.Errorf("override:\n%s", m.Text)
	}
	for name, src := range map[string]string{
		"syntax":  `{{define "text"}}{{if}}{{end}}`,
		"missing": `{{define "text"}}{{template "nope" .}}{{end}}`,
		"field":   `{{define "subject"}}{{.NoSuchField}}{{end}}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, "kk.tmpl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTemplates(dir); err == nil || !strings.Contains(err.Error(), "kk") {
			t.Errorf("%s: broken override accepted or not named: %v", name, err)
		}
	}
}

func FuzzLoadState(f *testing.F) {
	f.Add([]byte(`{"version":1,"seq":3,"telegram_offset":5,"open":[{"id":"3","kind":"k","subject":"s","state":"firing","severity":2,"sent":{"wh/firing/critical":true},"told":["Director"]}]}`))
	f.Add([]byte(`{"version":1,"seq":0,"open":[]}`))
	f.Add([]byte(`{"version":1,"open":[null]}`))
	tpl, err := LoadTemplates("")
	if err != nil {
		f.Fatal(err)
	}
	file := testenv.FuzzFile(f, "state.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		path := file(t, data)
		e, err := New(Options{StateFile: path, Outbox: nopOutbox{}, Templates: tpl, Recipients: recipients, Telegram: true, Webhook: true, MQTT: true})
		if e == nil {
			t.Fatalf("no engine: %v", err)
		}
		// Whatever was loaded must be usable.
		e.Tick(t0)
		for _, o := range e.Snapshot() {
			e.Ack(o.ID, "x")
			e.Clear(o.Kind, o.Subject, t0)
		}
		e.Tick(t0)
	})
}

type nopOutbox struct{}

func (nopOutbox) Enqueue(outbox.Notification) error { return nil }

func FuzzAckBody(f *testing.F) {
	f.Add("application/json", `{"by":"Director"}`)
	f.Add("application/x-www-form-urlencoded", "by=Director")
	f.Add("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"by\"\r\n\r\nD\r\n--x--\r\n")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, ctype, body string) {
		req := httptest.NewRequest("POST", "/api/alerts/1/ack", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		by, err := ackBy(req)
		if err != nil {
			if by != "" {
				t.Fatalf("a name with an error: %q", by)
			}
			return
		}
		if by == "" || len(by) > 200 || strings.TrimSpace(by) != by {
			t.Fatalf("bad name %q", by)
		}
	})
}
