package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/alert/notify"
	"github.com/saqshy/saqshy/gateway/alert/outbox"
	"github.com/saqshy/saqshy/gateway/internal/tgtest"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var t0 = time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)

const token = "123:TEST"

var secret = []byte("s3cret")

// hook is a webhook receiver that checks the signature.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	events []WebhookEvent
	bad    int
}

func startHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if !notify.Verify(secret, body, r.Header.Get(notify.SignatureHeader)) {
			h.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			h.bad++
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.events = append(h.events, ev)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) states() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		out = append(out, string(e.State)+"/"+e.Severity)
	}
	return out
}

// rig is an engine and its outbox over a directory, with a fake Telegram and a
// webhook receiver on loopback.
type rig struct {
	t    *testing.T
	dir  string
	clk  *clock
	tg   *tgtest.Server
	hook *hook
	ob   *outbox.Outbox
	eng  *Engine
	err  error // from New
}

var recipients = []Recipient{
	{Name: "Director", Lang: "ru", TelegramChat: "101"},
	{Name: "Deputy", Lang: "kk", TelegramChat: "102"},
	{Name: "Ministry duty officer", Lang: "en", TelegramChat: "103"},
}

func open(t *testing.T, dir string, clk *clock, tg *tgtest.Server, h *hook) *rig {
	t.Helper()
	tpl, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	ob, err := outbox.Open(filepath.Join(dir, "outbox"), map[string]outbox.Sender{
		"telegram": &notify.Telegram{BaseURL: tg.URL, Token: token},
		"webhook":  &notify.Webhook{URL: h.URL, Secret: secret},
	}, outbox.Options{Now: clk.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	eng, err := New(Options{
		Centre: "c1", CentreName: "Centre No. 2", StatusURL: "http://saqshy.local:8080/",
		ZoneNames: map[string]string{"med-fridge": "Treatment room fridge"}, ZoneKinds: map[string]string{"med-fridge": "med-fridge"},
		Recipients: recipients,
		Chains: map[telemetry.Severity][]Step{telemetry.Critical: {
			{After: 0, Notify: []string{"Director"}},
			{After: 15 * time.Minute, Notify: []string{"Deputy"}},
			{After: 45 * time.Minute, Notify: []string{"Ministry duty officer"}},
		}},
		Renotify: 30 * time.Minute, Telegram: true, Webhook: true,
		StateFile: filepath.Join(dir, "state.json"), Outbox: ob, Templates: tpl, Logger: log, Now: clk.Now,
	})
	return &rig{t: t, dir: dir, clk: clk, tg: tg, hook: h, ob: ob, eng: eng, err: err}
}

func newRig(t *testing.T) *rig {
	clk := &clock{t: t0}
	r := open(t, t.TempDir(), clk, tgtest.Start(t, token), startHook(t))
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r
}

// run ticks and flushes every minute until the clock reaches until.
func (r *rig) run(until time.Time) {
	for {
		r.eng.Tick(r.clk.Now())
		r.ob.FlushAll(context.Background(), r.clk.Now())
		if !r.clk.Now().Before(until) {
			return
		}
		r.clk.Add(time.Minute)
	}
}

func perChat(sent []tgtest.Sent) map[string]int {
	m := map[string]int{}
	for _, s := range sent {
		m[s.ChatID]++
	}
	return m
}

func fridgeWarm() telemetry.Condition {
	return telemetry.Condition{Kind: "temperature_high", Subject: "fridge-probe", Zone: "med-fridge",
		Severity: telemetry.Critical, Since: t0.Add(-60 * time.Minute), Reason: "temperature_high: 9.4 °C", Value: 9.4, HasValue: true}
}

func wantChats(t *testing.T, step string, got map[string]int, want map[string]int) {
	t.Helper()
	for _, c := range []string{"101", "102", "103"} {
		if got[c] != want[c] {
			t.Fatalf("%s: messages per chat %v, want %v", step, got, want)
		}
	}
}

// Nobody acknowledges: the alert climbs director → deputy → ministry, the told
// are reminded every 30 minutes; the ministry's officer acknowledges through the
// Telegram button; everyone told hears of the acknowledgement and the resolution,
// once each, in their language.
func TestEscalationToMinistryAndTelegramAck(t *testing.T) {
	r := newRig(t)
	r.eng.Raise(fridgeWarm())
	r.run(t0)
	wantChats(t, "at once", perChat(r.tg.Sent()), map[string]int{"101": 1})
	first := r.tg.Sent()[0]
	for _, s := range []string{"КРИТИЧНО", "Treatment room fridge", "Centre No. 2", "9.4 °C", "резервный холодильник", "провизора", "http://saqshy.local:8080/#alert-1", "01:00"} {
		if !strings.Contains(first.Text, s) {
			t.Errorf("director's message lacks %q:\n%s", s, first.Text)
		}
	}
	if first.Callback != "ack:1" {
		t.Errorf("button callback %q, want ack:1", first.Callback)
	}
	r.run(t0.Add(14 * time.Minute))
	wantChats(t, "14 min", perChat(r.tg.Sent()), map[string]int{"101": 1})
	r.run(t0.Add(15 * time.Minute))
	wantChats(t, "15 min", perChat(r.tg.Sent()), map[string]int{"101": 1, "102": 1})
	if s := r.tg.Sent()[1].Text; !strings.Contains(s, "ӨТЕ ҚАУІПТІ") || !strings.Contains(s, "эскалация") {
		t.Errorf("deputy's (kk) escalation message:\n%s", s)
	}
	r.run(t0.Add(30 * time.Minute))
	wantChats(t, "30 min: a reminder to the director", perChat(r.tg.Sent()), map[string]int{"101": 2, "102": 1})
	r.run(t0.Add(50 * time.Minute))
	wantChats(t, "50 min: the ministry, a reminder to the deputy", perChat(r.tg.Sent()), map[string]int{"101": 2, "102": 2, "103": 1})
	if s := r.tg.Sent()[3].Text; !strings.Contains(s, "CRITICAL") || !strings.Contains(s, "backup fridge") {
		t.Errorf("ministry's (en) message:\n%s", s)
	}

	// The officer presses the button; the poller acknowledges.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tg := &notify.Telegram{BaseURL: r.tg.URL, Token: token, PollTimeout: time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = tg.RunAcks(ctx, r.eng, func(a notify.Ack) string {
			if a.ChatID != "103" {
				return "no"
			}
			_, err := r.eng.AckVia(a.AlertID, AckBy{By: a.By, Recipient: "Ministry duty officer", Via: ViaTelegram})
			if err != nil {
				return err.Error()
			}
			return "ok"
		})
	}()
	r.tg.Press(103, "ack:1", "Aigerim", "aigerim_duty")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if a, _ := r.eng.Get("1"); a.State == Acknowledged {
			if a.AckedBy != "Aigerim (@aigerim_duty)" {
				t.Errorf("acked by %q", a.AckedBy)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the button press did not acknowledge the alert")
		}
	}
	for deadline := time.Now().Add(5 * time.Second); len(r.tg.Answered()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("callback query not answered")
		}
	}
	cancel()
	<-done
	if r.eng.TelegramOffset() != 2 {
		t.Errorf("telegram offset %d, want 2", r.eng.TelegramOffset())
	}
	// A critical alert acknowledged but not resolved: the acknowledger is not
	// reminded; the others are (the director at 60, 90, 120 min; the deputy at
	// 75, 105), and everyone hears who acknowledged (issue 16).
	r.run(t0.Add(120 * time.Minute))
	wantChats(t, "acknowledged", perChat(r.tg.Sent()), map[string]int{"101": 6, "102": 5, "103": 2})
	r.eng.Clear("temperature_high", "fridge-probe", r.clk.Now())
	r.run(t0.Add(150 * time.Minute)) // resolved: nothing more but the notice
	wantChats(t, "resolved", perChat(r.tg.Sent()), map[string]int{"101": 7, "102": 6, "103": 3})
	last := r.tg.Sent()[len(r.tg.Sent())-1]
	if !strings.Contains(last.Text, "RESOLVED") || last.Callback != "" {
		t.Errorf("resolved notice: %+v", last)
	}
	if got := strings.Join(r.hook.states(), " "); got != "firing/critical acknowledged/critical resolved/critical" || r.hook.bad != 0 {
		t.Errorf("webhook events %q (bad %d)", got, r.hook.bad)
	}
	if len(r.eng.Snapshot()) != 0 {
		t.Errorf("snapshot after resolution: %+v", r.eng.Snapshot())
	}
	st := r.ob.Stats()
	if st.Pending["telegram"] != 0 || st.Delivered["telegram"] != 16 || st.Delivered["webhook"] != 3 {
		t.Errorf("outbox stats %+v", st)
	}
	pts := r.eng.Tick(r.clk.Now())
	_ = pts
}

// The gateway restarts in the middle of an escalation (and once with a
// notification still undelivered): the chain goes on where it was, nobody is
// told twice, nothing is lost.
func TestRestartMidEscalation(t *testing.T) {
	clk := &clock{t: t0}
	dir := t.TempDir()
	tg, h := tgtest.Start(t, token), startHook(t)
	r := open(t, dir, clk, tg, h)
	r.eng.Raise(fridgeWarm())
	r.run(t0.Add(14 * time.Minute))
	tg.SetDown(true) // the deputy's message cannot go out
	r.run(t0.Add(16 * time.Minute))
	wantChats(t, "before the restart", perChat(tg.Sent()), map[string]int{"101": 1})
	r.ob.Close()

	r2 := open(t, dir, clk, tg, h) // a new process
	if r2.err != nil {
		t.Fatal(r2.err)
	}
	if snap := r2.eng.Snapshot(); len(snap) != 1 || snap[0].State != Firing || snap[0].ID != "1" {
		t.Fatalf("restored: %+v", snap)
	}
	tg.SetDown(false)
	r2.run(t0.Add(50 * time.Minute))
	wantChats(t, "after the restart", perChat(tg.Sent()), map[string]int{"101": 2, "102": 2, "103": 1})
	r2.eng.Raise(telemetry.Condition{Kind: "temperature_high", Subject: "fridge-probe", Severity: telemetry.Warning})
	r2.eng.Raise(fridgeWarm())
	r2.run(t0.Add(51 * time.Minute))
	wantChats(t, "raised again while open", perChat(tg.Sent()), map[string]int{"101": 2, "102": 2, "103": 1})
	// A new incident of another kind gets a new id, past the old ones.
	r2.eng.Raise(telemetry.Condition{Kind: "sensor_stale", Subject: "fridge-probe", Zone: "med-fridge", Severity: telemetry.Critical})
	if snap := r2.eng.Snapshot(); len(snap) != 2 || snap[1].ID != "2" {
		t.Fatalf("second alert: %+v", snap)
	}
}

// A crash after a notification was enqueued but before the state recorded it:
// the engine enqueues it again on restart, and the outbox delivers it once.
func TestSameIncidentNeverNotifiedTwice(t *testing.T) {
	clk := &clock{t: t0}
	dir := t.TempDir()
	tg, h := tgtest.Start(t, token), startHook(t)
	r := open(t, dir, clk, tg, h)
	r.eng.Raise(fridgeWarm())
	r.run(t0.Add(14 * time.Minute))
	old, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	r.run(t0.Add(16 * time.Minute)) // the deputy is told
	r.ob.Close()
	if err := os.WriteFile(filepath.Join(dir, "state.json"), old, 0o640); err != nil { // the state from before
		t.Fatal(err)
	}
	r2 := open(t, dir, clk, tg, h)
	r2.run(t0.Add(20 * time.Minute))
	wantChats(t, "after replaying the old state", perChat(tg.Sent()), map[string]int{"101": 1, "102": 1})
	if d := r2.ob.Stats().Duplicates["telegram"]; d != 1 {
		t.Errorf("duplicates dropped: %d, want 1", d)
	}
	if len(h.states()) != 1 {
		t.Errorf("webhook events: %v", h.states())
	}
}

func TestCorruptStateFile(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":   "\x00\x01not json",
		"truncated": `{"version":1,"seq":7,"open":[{"id":"7","kind":"temperature_high","subj`,
		"version":   `{"version":99,"seq":7,"open":[]}`,
		"invalid":   `{"version":1,"seq":7,"open":[{"id":"7","kind":"","subject":"x","state":"firing","severity":2}]}`,
		"state":     `{"version":1,"seq":7,"open":[{"id":"7","kind":"k","subject":"x","state":"burning","severity":2}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			clk := &clock{t: t0}
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
				t.Fatal(err)
			}
			r := open(t, dir, clk, tgtest.Start(t, token), startHook(t))
			if !errors.Is(r.err, ErrCorruptState) || !strings.Contains(r.err.Error(), path) {
				t.Fatalf("New: %v; want ErrCorruptState naming the file", r.err)
			}
			if r.eng == nil {
				t.Fatal("no engine after a corrupt state file")
			}
			aside, _ := filepath.Glob(path + ".corrupt-*")
			if len(aside) != 1 {
				t.Errorf("corrupt file not kept aside: %v", aside)
			}
			r.eng.Raise(fridgeWarm())
			r.run(t0)
			snap := r.eng.Snapshot()
			if id, _ := strconv.Atoi(snap[0].ID); len(snap) != 1 || id < 1_000_000 {
				t.Errorf("after recovery: %+v; want a fresh id that no earlier alert used", snap)
			}
			if len(r.tg.Sent()) != 1 {
				t.Errorf("sent %d", len(r.tg.Sent()))
			}
			r.ob.Close()
			r2 := open(t, dir, clk, r.tg, r.hook)
			if r2.err != nil || len(r2.eng.Snapshot()) != 1 {
				t.Errorf("the recovered state was not saved: %v %+v", r2.err, r2.eng.Snapshot())
			}
		})
	}
}

// A warning that becomes critical is the same incident: one alert, the critical
// chain starts; the severity never goes back down while open.
func TestSeverityUpgrade(t *testing.T) {
	r := newRig(t)
	c := fridgeWarm()
	c.Severity = telemetry.Warning
	r.eng.Raise(c)
	r.run(t0)
	wantChats(t, "warning: no chain for warnings, everyone", perChat(r.tg.Sent()), map[string]int{"101": 1, "102": 1, "103": 1})
	r.eng.Raise(fridgeWarm())
	r.run(t0.Add(time.Minute))
	wantChats(t, "critical", perChat(r.tg.Sent()), map[string]int{"101": 2, "102": 1, "103": 1})
	r.eng.Raise(c)
	if s := r.eng.Snapshot(); len(s) != 1 || s[0].Severity != "critical" {
		t.Errorf("snapshot %+v", s)
	}
	pts := r.eng.Tick(r.clk.Now())
	_ = pts
}

func TestAlertPoints(t *testing.T) {
	r := newRig(t)
	r.eng.Raise(fridgeWarm())
	if _, err := r.eng.Ack("1", "Director"); err != nil {
		t.Fatal(err)
	}
	r.eng.Clear("temperature_high", "fridge-probe", t0)
	pts := r.eng.Tick(t0)
	var states []string
	for _, p := range pts {
		if p.Point == nil || p.Point.Measurement != "alert" || p.Point.Check() != nil {
			t.Fatalf("not an alert point: %+v", p)
		}
		f := map[string]any{}
		for _, x := range p.Point.Fields {
			f[x.Key] = x.Value()
		}
		tags := map[string]string{}
		for _, x := range p.Point.Tags {
			tags[x.Key] = x.Value
		}
		if tags["rule"] != "temperature_high" || tags["zone"] != "med-fridge" || tags["severity"] != "critical" || tags["subject"] != "fridge-probe" || f["id"] != "1" || f["value"] != 9.4 {
			t.Errorf("point %+v %+v", tags, f)
		}
		states = append(states, f["state"].(string)+":"+f["acked_by"].(string))
	}
	if got := strings.Join(states, " "); got != "firing: acknowledged:Director resolved:Director" {
		t.Errorf("states %q", got)
	}
	if len(r.eng.Tick(t0)) != 0 {
		t.Error("points returned twice")
	}
	if _, err := r.eng.Ack("1", "x"); !errors.Is(err, ErrResolved) {
		t.Errorf("ack of a resolved alert: %v", err)
	}
	if _, err := r.eng.Ack("99", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ack of an unknown alert: %v", err)
	}
}

// recording is an Enqueuer that keeps what it is given (the outbox itself is
// tested in its package).
type recording struct{ got []outbox.Notification }

func (r *recording) Enqueue(n outbox.Notification) error { r.got = append(r.got, n); return nil }

// Recipients with e-mail get e-mails (no button), in their language; channels not
// configured are not used; MQTT carries the state retained and is cleared.
func TestChannelsPerRecipient(t *testing.T) {
	tpl, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recording{}
	clk := &clock{t: t0}
	e, err := New(Options{Centre: "c1", Recipients: []Recipient{
		{Name: "Director", Lang: "kk", TelegramChat: "101", Email: "director@example.org"},
		{Name: "Nurse", Lang: "en", TelegramChat: "102"},
	}, Email: true, MQTT: true, StateFile: filepath.Join(t.TempDir(), "s.json"), Outbox: rec, Templates: tpl, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.Raise(fridgeWarm())
	e.Clear("temperature_high", "fridge-probe", t0)
	var got []string
	for _, n := range rec.got {
		got = append(got, n.Channel+":"+n.To)
		switch n.Channel {
		case "email":
			if n.Button != "" || !strings.Contains(n.Subject, "ӨТЕ ҚАУІПТІ") && !strings.Contains(n.Subject, "Шешілді") {
				t.Errorf("email %+v", n)
			}
		case "mqtt":
			if !n.Retained || n.To != "saqshy/c1/alert/1" || n.Supersede != "mqtt/1" {
				t.Errorf("mqtt %+v", n)
			}
		}
	}
	want := "mqtt:saqshy/c1/alert/1 email:director@example.org mqtt:saqshy/c1/alert/1 email:director@example.org"
	if strings.Join(got, " ") != want {
		t.Fatalf("enqueued %q, want %q", strings.Join(got, " "), want)
	}
	if last := rec.got[len(rec.got)-2]; len(last.Body) != 0 {
		t.Errorf("the resolved MQTT message must be empty (clears the retained topic): %s", last.Body)
	}
}

// Acknowledged as a warning, the incident turns critical and is acknowledged
// again: the second acknowledgement reaches the webhook and everyone told.
func TestSecondAckAfterUpgradeAnnounced(t *testing.T) {
	r := newRig(t)
	c := fridgeWarm()
	c.Severity = telemetry.Warning
	r.eng.Raise(c)
	r.run(t0)
	r.clk.Add(time.Minute)
	if _, err := r.eng.Ack("1", "Aigerim"); err != nil {
		t.Fatal(err)
	}
	r.run(t0.Add(2 * time.Minute))
	wantChats(t, "warning acknowledged", perChat(r.tg.Sent()), map[string]int{"101": 2, "102": 2, "103": 2})
	r.eng.Raise(fridgeWarm())
	r.run(t0.Add(3 * time.Minute))
	wantChats(t, "critical", perChat(r.tg.Sent()), map[string]int{"101": 3, "102": 2, "103": 2})
	if _, err := r.eng.Ack("1", "Aigerim"); err != nil {
		t.Fatal(err)
	}
	r.run(t0.Add(4 * time.Minute))
	wantChats(t, "critical acknowledged", perChat(r.tg.Sent()), map[string]int{"101": 4, "102": 3, "103": 3})
	want := "firing/warning acknowledged/warning firing/critical acknowledged/critical"
	if got := strings.Join(r.hook.states(), " "); got != want {
		t.Errorf("webhook events %q, want %q", got, want)
	}
	r.eng.Clear("temperature_high", "fridge-probe", r.clk.Now())
	r.run(t0.Add(5 * time.Minute))
	wantChats(t, "resolved", perChat(r.tg.Sent()), map[string]int{"101": 5, "102": 4, "103": 4})
	if len(r.eng.Snapshot()) != 0 {
		t.Errorf("not retired: %+v", r.eng.Snapshot())
	}
}

// A warning long known to the director turns critical: the critical alert goes
// out alone, and the first reminder comes Renotify after it, not with it.
func TestUpgradeRestartsReminders(t *testing.T) {
	r := newRig(t)
	c := fridgeWarm()
	c.Severity = telemetry.Warning
	r.eng.Raise(c)
	r.run(t0.Add(40 * time.Minute))
	wantChats(t, "warning", perChat(r.tg.Sent()), map[string]int{"101": 1, "102": 1, "103": 1})
	r.eng.Raise(fridgeWarm())
	r.run(t0.Add(40 * time.Minute))
	wantChats(t, "critical, no reminder with it", perChat(r.tg.Sent()), map[string]int{"101": 2, "102": 1, "103": 1})
	r.run(t0.Add(69 * time.Minute)) // the deputy's step at 55 min
	wantChats(t, "no reminder before 30 min", perChat(r.tg.Sent()), map[string]int{"101": 2, "102": 2, "103": 1})
	r.run(t0.Add(70 * time.Minute))
	wantChats(t, "reminders 30 min after the upgrade", perChat(r.tg.Sent()), map[string]int{"101": 3, "102": 2, "103": 2})
}

// A state file from before the acknowledgement keys carried the severity: an
// acknowledgement already announced is not announced again.
func TestLegacyAckKeysMigrated(t *testing.T) {
	a := &Alert{ID: "1", Severity: telemetry.Critical, State: Acknowledged, AckedBy: "x", Told: []string{"Director"},
		Sent: map[string]bool{"wh/acknowledged": true, "mq/acknowledged": true, "r/ack/Director": true, "r/critical/Director": true}}
	migrateAckKeys(a)
	for _, k := range []string{"wh/acknowledged/critical", "mq/acknowledged/critical", "r/ack/critical/Director", "r/critical/Director"} {
		if !a.Sent[k] {
			t.Errorf("%s lost: %v", k, a.Sent)
		}
	}
	b := &Alert{ID: "2", Severity: telemetry.Critical, State: Firing, Told: []string{"Director"},
		Sent: map[string]bool{"wh/acknowledged": true, "r/ack/Director": true}}
	migrateAckKeys(b)
	if len(b.Sent) != 0 {
		t.Errorf("an earlier severity's acknowledgement kept: %v", b.Sent)
	}
}
