package alert

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/alert/outbox"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// State is an alert's place in its lifecycle.
type State string

// States.
const (
	Firing       State = "firing"
	Acknowledged State = "acknowledged"
	Resolved     State = "resolved"
)

// Errors of Ack.
var (
	ErrNotFound = errors.New("alert: no such alert")
	ErrResolved = errors.New("alert: already resolved")
)

// Via is how an acknowledgement arrived.
type Via string

// Ways an acknowledgement arrives.
const (
	ViaTelegram   Via = "telegram"    // a recipient's button press (their chat)
	ViaStatusPage Via = "status_page" // a logged-in user of the status page
	ViaAPI        Via = "api"         // the machine API, from another host
	ViaLoopback   Via = "loopback"    // the machine API from the gateway itself: no person
)

// AckBy is who acknowledges, and how.
type AckBy struct {
	By string // shown to everyone told
	// Recipient is the recipient's name when the one acknowledging is one (a
	// Telegram chat of theirs); "" when By is not known to be one. Only their
	// reminders stop; for a critical alert the chain goes on until resolved.
	Recipient string
	Via       Via
}

// Ack suspicion reasons (Alert.AckSuspect): such an acknowledgement stops the
// acknowledger's reminders like any other but earns no response credit.
const (
	SuspectFast     = "fast"     // within score.AckSuspectWithin of the first notification
	SuspectLoopback = "loopback" // from the gateway's own loopback API
)

// Recipient is a person alerts go to.
type Recipient struct {
	Name, Lang   string
	TelegramChat string // "" when not on Telegram
	Email        string // "" when not by e-mail
}

// Step is one rung of an escalation chain: after the alert has been firing
// unacknowledged for After, Notify (recipient names) are told.
type Step struct {
	After  time.Duration
	Notify []string
}

// Enqueuer is the outbox as the engine sees it.
type Enqueuer interface {
	Enqueue(n outbox.Notification) error
}

// Options configure an Engine.
type Options struct {
	Centre     string // id, for MQTT topics
	CentreName string
	StatusURL  string // the gateway's local status page, put in messages
	Location   *time.Location
	ZoneNames  map[string]string // zone id → human name
	ZoneKinds  map[string]string // zone id → kind
	Recipients []Recipient
	// Chains per severity; a severity without a chain notifies every recipient at once.
	Chains map[telemetry.Severity][]Step
	// Renotify is the interval at which an unacknowledged critical alert is
	// repeated to whoever was told; 0 never.
	Renotify time.Duration
	// Channels that are configured: recipients are reached on these only.
	Telegram, Email, Webhook, MQTT bool
	// StateFile is where the state is saved (required).
	StateFile string
	Outbox    Enqueuer
	Templates *Templates
	Logger    *slog.Logger
	Now       func() time.Time // default time.Now
}

// Alert is one incident.
type Alert struct {
	ID       string             `json:"id"`
	Kind     string             `json:"kind"`
	Subject  string             `json:"subject"`
	Zone     string             `json:"zone,omitempty"`
	Severity telemetry.Severity `json:"severity"`
	State    State              `json:"state"`
	Since    time.Time          `json:"since"`  // when the condition began
	Opened   time.Time          `json:"opened"` // when the alert opened (gateway clock)
	Reason   string             `json:"reason,omitempty"`
	Value    float64            `json:"value"`
	HasValue bool               `json:"has_value,omitempty"`
	AckedBy  string             `json:"acked_by,omitempty"`
	AckedAt  time.Time          `json:"acked_at,omitzero"`
	// AckedRecipient is the recipient who acknowledged, when known (AckBy.Recipient,
	// or By naming a recipient); AckVia how; AckSuspect why the acknowledgement
	// earns no response credit ("" when it does).
	AckedRecipient string    `json:"acked_recipient,omitempty"`
	AckVia         Via       `json:"ack_via,omitempty"`
	AckSuspect     string    `json:"ack_suspect,omitempty"`
	Resolved       time.Time `json:"resolved,omitzero"`
	// Closed is when the engine resolved it (gateway clock): the time of the
	// resolved point, which the response rule reads on both sides.
	Closed time.Time `json:"closed,omitzero"`
	// ChainStart is when the current severity's escalation chain started.
	ChainStart time.Time `json:"chain_start"`
	// Sent holds the keys of the notifications enqueued (see reconcile).
	Sent map[string]bool `json:"sent,omitempty"`
	// Told lists the recipients told about it, in order, and ToldAt when (for
	// the reminders).
	Told   []string             `json:"told,omitempty"`
	ToldAt map[string]time.Time `json:"told_at,omitempty"`
}

// Engine runs the alerts' lifecycle. Safe for concurrent use.
type Engine struct {
	opt   Options
	log   *slog.Logger
	recip map[string]Recipient

	mu     sync.Mutex
	seq    uint64
	open   map[string]*Alert // by ID, including resolved ones still being announced
	byCond map[[2]string]string
	recent []*Alert // resolved, newest last (bounded)
	points []telemetry.Event
	offset int64 // Telegram getUpdates offset
	errs   uint64
}

const keepRecent = 200

// New returns an engine with the state restored from opt.StateFile. A state file
// that cannot be read is moved aside and the engine starts empty; the error is
// returned with the engine so the caller can log it (nothing open is then known,
// so the checks raise anew what is still wrong).
func New(opt Options) (*Engine, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	e := &Engine{opt: opt, log: opt.Logger, recip: map[string]Recipient{}, open: map[string]*Alert{}, byCond: map[[2]string]string{}}
	for _, r := range opt.Recipients {
		e.recip[r.Name] = r
	}
	err := e.load()
	if err != nil {
		e.seq = uint64(opt.Now().Unix()) // fresh ids that no delivered notification used
	}
	return e, err
}

// Open returns the conditions of the open alerts, to seed the registry and the
// rules after a restart.
func (e *Engine) Open() []telemetry.Condition {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []telemetry.Condition
	for _, a := range e.sorted() {
		if a.State == Resolved {
			continue
		}
		out = append(out, telemetry.Condition{Kind: a.Kind, Subject: a.Subject, Zone: a.Zone, Severity: a.Severity,
			Since: a.Since, Reason: a.Reason, Value: a.Value, HasValue: a.HasValue})
	}
	return out
}

func (e *Engine) sorted() []*Alert {
	out := make([]*Alert, 0, len(e.open))
	for _, a := range e.open {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *Alert) int { return cmpID(a.ID, b.ID) })
	return out
}

func cmpID(a, b string) int {
	x, _ := strconv.ParseUint(a, 10, 64)
	y, _ := strconv.ParseUint(b, 10, 64)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return strings.Compare(a, b)
}

// Raise opens an alert for c, or raises the severity of the open one (which
// restarts the escalation with the new severity's chain). It implements the
// condition registry's listener.
func (e *Engine) Raise(c telemetry.Condition) {
	now := e.opt.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if id, ok := e.byCond[[2]string{c.Kind, c.Subject}]; ok {
		a := e.open[id]
		a.Reason, a.Value, a.HasValue = c.Reason, c.Value, c.HasValue
		if c.Severity <= a.Severity {
			return // one incident: its severity never goes down until resolved
		}
		a.Severity, a.ChainStart = c.Severity, now
		// Reminders of the new severity count from now, also for those told
		// only of the lower one (ToldAt missing means ChainStart).
		for name := range a.ToldAt {
			a.ToldAt[name] = now
		}
		if a.State == Acknowledged { // worse than what was acknowledged: needs a new ack
			a.State, a.AckedBy, a.AckedAt = Firing, "", time.Time{}
			a.AckedRecipient, a.AckVia, a.AckSuspect = "", "", ""
		}
		e.transition(a, now)
		return
	}
	e.seq++
	since := c.Since
	if since.IsZero() {
		since = now
	}
	a := &Alert{ID: strconv.FormatUint(e.seq, 10), Kind: c.Kind, Subject: c.Subject, Zone: c.Zone, Severity: c.Severity,
		State: Firing, Since: since, Opened: now, Reason: c.Reason, Value: c.Value, HasValue: c.HasValue,
		ChainStart: now, Sent: map[string]bool{}}
	e.open[a.ID] = a
	e.byCond[[2]string{a.Kind, a.Subject}] = a.ID
	e.log.Warn("alert firing", "id", a.ID, "kind", a.Kind, "subject", a.Subject, "severity", a.Severity.String())
	e.transition(a, now)
}

// Clear resolves the open alert of (kind, subject), if any.
func (e *Engine) Clear(kind, subject string, at time.Time) {
	now := e.opt.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	id, ok := e.byCond[[2]string{kind, subject}]
	if !ok {
		return
	}
	a := e.open[id]
	delete(e.byCond, [2]string{kind, subject})
	if at.IsZero() {
		at = now
	}
	a.State, a.Resolved, a.Closed = Resolved, at, now
	e.log.Info("alert resolved", "id", a.ID, "kind", a.Kind, "subject", a.Subject, "acked_by", a.AckedBy)
	e.transition(a, now)
}

// Ack acknowledges alert id on behalf of by, a person by an unspecified way (see
// AckVia).
func (e *Engine) Ack(id, by string) (Alert, error) { return e.AckVia(id, AckBy{By: by}) }

// AckVia acknowledges alert id. Acknowledging an acknowledged alert again changes
// nothing; a resolved one returns ErrResolved. An acknowledgement from the
// gateway's own loopback API, or within score.AckSuspectWithin of the alert's
// first notification, is flagged (Alert.AckSuspect, the point's ack_suspect)
// and earns no response credit. Acknowledging stops the escalation of a warning;
// a critical alert's chain goes on to the ministry until it is resolved, and only
// the acknowledger's reminders stop.
func (e *Engine) AckVia(id string, ack AckBy) (Alert, error) {
	now := e.opt.Now()
	by := strings.TrimSpace(ack.By)
	if by == "" {
		by = "unknown"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.open[id]
	if !ok {
		for _, r := range e.recent {
			if r.ID == id {
				return *r, ErrResolved
			}
		}
		return Alert{}, ErrNotFound
	}
	switch a.State {
	case Resolved:
		return *a, ErrResolved
	case Acknowledged:
		return *a, nil
	}
	a.State, a.AckedBy, a.AckedAt, a.AckVia = Acknowledged, by, now, ack.Via
	a.AckedRecipient = ack.Recipient
	if _, ok := e.recip[by]; ok && a.AckedRecipient == "" {
		a.AckedRecipient = by
	}
	switch {
	case ack.Via == ViaLoopback:
		a.AckSuspect = SuspectLoopback
	case score.FastAck(a.ChainStart, now):
		a.AckSuspect = SuspectFast
	default:
		a.AckSuspect = ""
	}
	e.log.Info("alert acknowledged", "id", a.ID, "by", by, "via", string(ack.Via), "suspect", a.AckSuspect)
	e.transition(a, now)
	return *a, nil
}

// transition records a's new state: a point, the state file, the notifications.
// e.mu held.
func (e *Engine) transition(a *Alert, now time.Time) {
	e.points = append(e.points, e.point(a, now))
	e.save()
	e.reconcile(a, now)
	e.save()
}

func (e *Engine) point(a *Alert, now time.Time) telemetry.Event {
	return telemetry.NewPoint(now, "alert", []telemetry.Tag{
		{Key: "rule", Value: a.Kind}, {Key: "zone", Value: a.Zone}, {Key: "severity", Value: a.Severity.String()},
		{Key: "subject", Value: a.Subject},
	}, telemetry.String("state", string(a.State)), telemetry.Float("value", a.Value),
		telemetry.String("id", a.ID), telemetry.String("acked_by", a.AckedBy),
		telemetry.String("ack_via", string(a.AckVia)), telemetry.Bool("ack_suspect", a.AckSuspect != ""))
}

// Tick escalates and re-notifies what is due at now and returns the alert points
// written since the last tick.
func (e *Engine) Tick(now time.Time) []telemetry.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := false
	for _, a := range e.sorted() {
		if e.reconcile(a, now) {
			changed = true
		}
	}
	if changed {
		e.save()
	}
	pts := e.points
	e.points = nil
	return pts
}

// reconcile enqueues the notifications a's state calls for at now that were not
// enqueued yet, and retires a resolved alert once all are. It reports whether
// anything changed. e.mu held.
func (e *Engine) reconcile(a *Alert, now time.Time) bool {
	changed := false
	// send enqueues ns once per key and reports whether it did so now.
	send := func(key string, ns ...outbox.Notification) bool {
		if a.Sent[key] {
			return false
		}
		for _, n := range ns {
			if err := e.opt.Outbox.Enqueue(n); err != nil {
				e.errs++
				e.log.Error("enqueueing a notification", "alert", a.ID, "err", err)
				return false // not marked: tried again at the next tick
			}
		}
		if a.Sent == nil {
			a.Sent = map[string]bool{}
		}
		a.Sent[key] = true
		changed = true
		return true
	}
	sev := a.Severity.String()
	// Machines hear every transition.
	for _, st := range []State{Firing, Acknowledged, Resolved} {
		if !e.reached(a, st) {
			continue
		}
		k := string(st)
		if st != Resolved { // an incident is resolved once, but fires and is acknowledged per severity
			k += "/" + sev
		}
		if e.opt.Webhook {
			send("wh/"+k, e.webhook(a, st))
		}
		if e.opt.MQTT {
			send("mq/"+k, e.mqtt(a, st))
		}
	}
	// People: the chain while firing; for a critical alert until it is resolved
	// (an acknowledgement does not stop the way to the ministry).
	if a.State == Firing || a.State == Acknowledged && a.Severity == telemetry.Critical {
		for i, step := range e.chain(a.Severity) {
			if now.Sub(a.ChainStart) < step.After {
				continue
			}
			ev := evFire
			if i > 0 {
				ev = evEscalate
			}
			for _, name := range step.Notify {
				r, ok := e.recip[name]
				if !ok {
					continue
				}
				if send("r/"+sev+"/"+name, e.personal(a, r, ev, sev)...) {
					// Reminders count from the latest alert sent to name, not
					// from an earlier one of a lower severity.
					if !slices.Contains(a.Told, name) {
						a.Told = append(a.Told, name)
					}
					if a.ToldAt == nil {
						a.ToldAt = map[string]time.Time{}
					}
					a.ToldAt[name] = now
				}
			}
		}
		if a.Severity == telemetry.Critical && e.opt.Renotify > 0 {
			for _, name := range a.Told {
				if a.State == Acknowledged && name == a.AckedRecipient {
					continue // the one who acknowledged is not reminded
				}
				told, ok := a.ToldAt[name]
				if !ok {
					told = a.ChainStart
				}
				if k := int(now.Sub(told) / e.opt.Renotify); k >= 1 {
					step := fmt.Sprintf("re%d", k)
					send("r/"+sev+"/"+name+"/"+step, e.personal(a, e.recip[name], evRenotify, sev+"-"+step)...)
				}
			}
		}
	}
	if a.State == Acknowledged || a.State == Resolved && a.AckedBy != "" {
		for _, name := range a.Told {
			send("r/ack/"+sev+"/"+name, e.personal(a, e.recip[name], evAck, "ack-"+sev)...)
		}
	}
	if a.State == Resolved {
		for _, name := range a.Told {
			send("r/resolved/"+name, e.personal(a, e.recip[name], evResolved, "resolved")...)
		}
		if e.allSent(a) {
			delete(e.open, a.ID)
			e.recent = append(e.recent, a)
			if len(e.recent) > keepRecent {
				e.recent = e.recent[len(e.recent)-keepRecent:]
			}
			changed = true
		}
	}
	return changed
}

// reached reports whether a has been in state st.
func (e *Engine) reached(a *Alert, st State) bool {
	switch st {
	case Firing:
		return true
	case Acknowledged:
		return a.AckedBy != ""
	}
	return a.State == Resolved
}

// allSent reports whether a resolved alert's closing notifications are enqueued.
func (e *Engine) allSent(a *Alert) bool {
	if e.opt.Webhook && !a.Sent["wh/resolved"] || e.opt.MQTT && !a.Sent["mq/resolved"] {
		return false
	}
	for _, name := range a.Told {
		if !a.Sent["r/resolved/"+name] || a.AckedBy != "" && !a.Sent["r/ack/"+a.Severity.String()+"/"+name] {
			return false
		}
	}
	return true
}

func (e *Engine) chain(sev telemetry.Severity) []Step {
	if c, ok := e.opt.Chains[sev]; ok {
		return c
	}
	all := make([]string, 0, len(e.opt.Recipients))
	for _, r := range e.opt.Recipients {
		all = append(all, r.Name)
	}
	return []Step{{Notify: all}}
}

// personal builds the notifications to r about a for event ev; step makes the IDs
// unique per step.
func (e *Engine) personal(a *Alert, r Recipient, ev, step string) []outbox.Notification {
	var out []outbox.Notification
	if r.Name == "" {
		return nil
	}
	msg, err := e.opt.Templates.Render(r.Lang, e.data(a, ev, r.Lang))
	if err != nil {
		e.errs++
		e.log.Error("rendering an alert message", "alert", a.ID, "lang", r.Lang, "err", err)
		msg = Message{Subject: a.Kind + " " + a.Subject, Text: fallbackText(a, ev)}
	}
	base := a.ID + "/" + step + "/" + r.Name
	if e.opt.Telegram && r.TelegramChat != "" {
		n := outbox.Notification{ID: base + "/telegram", Channel: "telegram", To: r.TelegramChat, AlertID: a.ID,
			Subject: msg.Subject, Text: msg.Text}
		if ev == evFire || ev == evEscalate || ev == evRenotify {
			n.Button = msg.Button
		}
		out = append(out, n)
	}
	if e.opt.Email && r.Email != "" {
		out = append(out, outbox.Notification{ID: base + "/email", Channel: "email", To: r.Email, AlertID: a.ID,
			Subject: msg.Subject, Text: msg.Text})
	}
	return out
}

func fallbackText(a *Alert, ev string) string {
	return fmt.Sprintf("%s: %s %s %s (%s)", ev, a.Severity, a.Kind, a.Subject, a.Reason)
}

// WebhookEvent is the JSON the webhook receives and MQTT carries.
type WebhookEvent struct {
	Centre   string    `json:"centre"`
	ID       string    `json:"id"`
	State    State     `json:"state"`
	Kind     string    `json:"kind"`
	Subject  string    `json:"subject"`
	Zone     string    `json:"zone,omitempty"`
	ZoneName string    `json:"zone_name,omitempty"`
	Severity string    `json:"severity"`
	Since    time.Time `json:"since"`
	Value    *float64  `json:"value,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	AckedBy  string    `json:"acked_by,omitempty"`
	At       time.Time `json:"at"`
}

func (e *Engine) event(a *Alert, st State) WebhookEvent {
	ev := WebhookEvent{Centre: e.opt.Centre, ID: a.ID, State: st, Kind: a.Kind, Subject: a.Subject, Zone: a.Zone,
		ZoneName: e.opt.ZoneNames[a.Zone], Severity: a.Severity.String(), Since: a.Since, Reason: a.Reason}
	if a.HasValue {
		v := a.Value
		ev.Value = &v
	}
	switch st {
	case Firing:
		ev.At = a.ChainStart
	case Acknowledged:
		ev.At, ev.AckedBy = a.AckedAt, a.AckedBy
	case Resolved:
		ev.At, ev.AckedBy = a.Resolved, a.AckedBy
	}
	return ev
}

func (e *Engine) webhook(a *Alert, st State) outbox.Notification {
	body, _ := json.Marshal(e.event(a, st))
	k := string(st)
	if st != Resolved {
		k += "-" + a.Severity.String()
	}
	return outbox.Notification{ID: a.ID + "/" + k + "/webhook", Channel: "webhook", AlertID: a.ID, Body: body}
}

// Topic returns the MQTT topic of alert id.
func (e *Engine) Topic(id string) string { return "saqshy/" + e.opt.Centre + "/alert/" + id }

func (e *Engine) mqtt(a *Alert, st State) outbox.Notification {
	k := string(st)
	if st != Resolved {
		k += "-" + a.Severity.String()
	}
	n := outbox.Notification{ID: a.ID + "/" + k + "/mqtt", Channel: "mqtt", To: e.Topic(a.ID), AlertID: a.ID,
		Retained: true, Supersede: "mqtt/" + a.ID}
	if st != Resolved {
		n.Body, _ = json.Marshal(e.event(a, st))
	}
	return n
}

// Open alert as the status page shows it.
type Open struct {
	ID, Kind, Subject, Zone, ZoneName string
	Severity                          string
	State                             State
	Text                              string            // one line, in English
	Texts                             map[string]string // one line per language (Langs)
	Since                             time.Time
	AckedBy                           string
	AckedAt                           time.Time
}

// Snapshot returns the open (firing or acknowledged) alerts, oldest first.
func (e *Engine) Snapshot() []Open {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Open
	for _, a := range e.sorted() {
		if a.State == Resolved {
			continue
		}
		text, texts := a.Reason, map[string]string{}
		for _, lang := range Langs {
			m, err := e.opt.Templates.Render(lang, e.data(a, evFire, lang))
			if err != nil {
				continue
			}
			texts[lang] = cmp.Or(m.Status, m.Subject)
		}
		if x := texts["en"]; x != "" {
			text = x
		}
		out = append(out, Open{ID: a.ID, Kind: a.Kind, Subject: a.Subject, Zone: a.Zone, ZoneName: e.opt.ZoneNames[a.Zone],
			Severity: a.Severity.String(), State: a.State, Text: text, Texts: texts, Since: a.Since, AckedBy: a.AckedBy, AckedAt: a.AckedAt})
	}
	return out
}

// Get returns alert id (open or recently resolved).
func (e *Engine) Get(id string) (Alert, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a, ok := e.open[id]; ok {
		return *a, true
	}
	for _, a := range e.recent {
		if a.ID == id {
			return *a, true
		}
	}
	return Alert{}, false
}

// Errors counts failures to save the state, render a message or enqueue.
func (e *Engine) Errors() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.errs
}

// TelegramOffset returns the saved getUpdates offset.
func (e *Engine) TelegramOffset() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.offset
}

// SetTelegramOffset saves the getUpdates offset, so that updates are not
// processed again after a restart.
func (e *Engine) SetTelegramOffset(off int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if off > e.offset {
		e.offset = off
		e.save()
	}
}

// ResponseScore is, for the safety score, the response component over the
// critical alerts that became critical in [from, to), as score.ResponseOf defines
// it (acknowledgement by a person as a step, the rest for the time to
// resolution; an alert open and unacknowledged counts 0). The central rating
// computes the same from the alert points. It sees the open alerts and the last
// resolved ones the engine keeps (200). Always known. Safe for concurrent use.
func (e *Engine) ResponseScore(from, to time.Time) (float64, bool) {
	now := e.opt.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	var spans []score.AlertSpan
	add := func(a *Alert) {
		if a.Severity == telemetry.Critical {
			resolved := a.Closed
			if resolved.IsZero() { // restored from a state file written before Closed
				resolved = a.Resolved
			}
			spans = append(spans, score.AlertSpan{Critical: a.ChainStart, Acked: a.AckedAt, AckSuspect: a.AckSuspect != "", Resolved: resolved})
		}
	}
	for _, a := range e.open {
		add(a)
	}
	for _, a := range e.recent {
		if _, ok := e.open[a.ID]; !ok {
			add(a)
		}
	}
	return score.ResponseOf(spans, from, to, now), true
}
