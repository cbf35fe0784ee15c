package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/alert/notify"
	"github.com/saqshy/saqshy/gateway/alert/outbox"
)

// Message is what the monitor tells the outside world: a central alert (a silent
// gateway) raised or resolved, or the daily report.
type Message struct {
	Type     string    `json:"type"`               // "silent_gateway", "registry_version" or "daily_report"
	State    string    `json:"state,omitempty"`    // firing or resolved (alerts)
	ID       string    `json:"id"`                 // incident or report id
	Centre   string    `json:"centre,omitempty"`   // centre id
	Name     string    `json:"name,omitempty"`     // centre name
	Region   string    `json:"region,omitempty"`   // centre region
	LastSeen time.Time `json:"last_seen,omitzero"` // the gateway's latest heartbeat
	Since    time.Time `json:"since,omitzero"`     // when the incident began
	At       time.Time `json:"at"`                 // when the monitor sent this
	Text     string    `json:"text"`               // a human summary
	URL      string    `json:"url,omitempty"`      // report page, relative to the monitor
}

// Notifier delivers a message; an error means it was not delivered and should be
// retried.
type Notifier interface {
	Notify(ctx context.Context, m Message) error
}

// Webhook POSTs messages as JSON, signed with HMAC-SHA256 the way the gateway's
// webhook channel signs (notify.Sign, notify.SignatureHeader; receivers check with
// notify.Verify), and stamped with the message's time in notify.TimestampHeader.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client // default: 10 s timeout
}

// Notify implements Notifier.
func (w *Webhook) Notify(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	resp, _, err := notify.PostSigned(ctx, w.Client, w.URL, w.Secret, body, m.At, "")
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: %s answered %s", w.URL, resp.Status)
	}
	return nil
}

// NopNotifier drops messages (no channel configured); incidents are still shown.
type NopNotifier struct{}

// Notify implements Notifier.
func (NopNotifier) Notify(context.Context, Message) error { return nil }

// Channels delivers each message to every configured channel and recipient: the
// webhook, e-mail (the gateway's SMTP channel, gateway/alert/notify) to each address
// and Telegram (the gateway's Bot API channel) to each chat. When some recipients
// fail, Notify returns an error so the caller retries the message; recipients that
// already accepted it are not sent it again (within this process).
type Channels struct {
	Webhook  *Webhook         // nil: none
	Email    *notify.Email    // nil: none
	EmailTo  []string         // addresses
	Telegram *notify.Telegram // nil: none
	ChatIDs  []string         // chat ids

	mu   sync.Mutex
	sent map[string]bool // message key + recipient, until every recipient has it
}

// multiNotifier is a Notifier with several destinations, each of which accepts or
// refuses a message on its own, so a caller can remember who got what.
type multiNotifier interface {
	Notifier
	// Destinations names every configured destination.
	Destinations() []string
	// NotifyTo delivers m to the named destinations (unknown names are skipped) and
	// returns those that accepted it; err joins the failures.
	NotifyTo(ctx context.Context, m Message, to []string) (ok []string, err error)
}

// chDest is one destination of Channels.
type chDest struct {
	name string
	send func() error
}

// dests returns every destination of c, ready to send m.
func (c *Channels) dests(ctx context.Context, m Message) []chDest {
	key := m.Type + "/" + m.ID + "/" + m.State
	n := &outbox.Notification{ID: strings.NewReplacer("/", "-", " ", "-").Replace(key), AlertID: m.ID, Subject: subject(m), Text: m.Text, Created: m.At}
	if m.URL != "" {
		n.Text += "\n" + m.URL
	}
	var dests []chDest
	if c.Webhook != nil {
		dests = append(dests, chDest{"webhook", func() error { return c.Webhook.Notify(ctx, m) }})
	}
	if c.Email != nil {
		for _, to := range c.EmailTo {
			dests = append(dests, chDest{"email:" + to, func() error { x := *n; x.Channel, x.To = "email", to; return c.Email.Send(ctx, &x) }})
		}
	}
	if c.Telegram != nil {
		for _, chat := range c.ChatIDs {
			dests = append(dests, chDest{"telegram:" + chat, func() error {
				x := *n
				x.Channel, x.To = "telegram", chat
				x.Text = n.Subject + "\n" + n.Text
				return c.Telegram.Send(ctx, &x)
			}})
		}
	}
	return dests
}

// Destinations implements multiNotifier.
func (c *Channels) Destinations() []string {
	var names []string
	for _, d := range c.dests(context.Background(), Message{}) {
		names = append(names, d.name)
	}
	return names
}

// NotifyTo implements multiNotifier: it sends m to each named destination, whatever
// was sent before; the caller keeps track.
func (c *Channels) NotifyTo(ctx context.Context, m Message, to []string) ([]string, error) {
	want := make(map[string]bool, len(to))
	for _, n := range to {
		want[n] = true
	}
	var ok []string
	var errs []error
	for _, d := range c.dests(ctx, m) {
		if !want[d.name] {
			continue
		}
		if err := d.send(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.name, err))
			continue
		}
		ok = append(ok, d.name)
	}
	return ok, errors.Join(errs...)
}

// Notify implements Notifier.
func (c *Channels) Notify(ctx context.Context, m Message) error {
	key := m.Type + "/" + m.ID + "/" + m.State
	dests := c.dests(ctx, m)
	var errs []error
	c.mu.Lock()
	if c.sent == nil {
		c.sent = map[string]bool{}
	}
	c.mu.Unlock()
	for _, d := range dests {
		c.mu.Lock()
		done := c.sent[key+"|"+d.name]
		c.mu.Unlock()
		if done {
			continue
		}
		if err := d.send(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.name, err))
			continue
		}
		c.mu.Lock()
		c.sent[key+"|"+d.name] = true
		c.mu.Unlock()
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.mu.Lock()
	for _, d := range dests {
		delete(c.sent, key+"|"+d.name)
	}
	c.mu.Unlock()
	return nil
}

// subject is the e-mail subject (and Telegram's first line) of a message.
func subject(m Message) string {
	switch {
	case m.Type == "silent_gateway" && m.State == "resolved":
		return fmt.Sprintf("[Saqshy] gateway reports again: %s (%s)", m.Name, m.Centre)
	case m.Type == "silent_gateway":
		return fmt.Sprintf("[Saqshy] GATEWAY SILENT: %s (%s, %s)", m.Name, m.Centre, m.Region)
	case m.Type == "daily_report":
		return "[Saqshy] daily report " + strings.TrimPrefix(m.ID, "report-")
	}
	return "[Saqshy] " + m.Type
}
