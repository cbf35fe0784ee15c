// Package alertcheck builds the alerting of one centre from its config: the
// temperature and health rules, which raise conditions into the registry, and the
// alert engine, which hears every transition of the registry (whoever raised it),
// notifies the recipients through the outbox, and is acknowledged from the status
// page, its API or Telegram's buttons. [Check] is the one check that holds them.
package alertcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/alert"
	"github.com/saqshy/saqshy/gateway/alert/notify"
	"github.com/saqshy/saqshy/gateway/alert/outbox"
	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/rules"
	"github.com/saqshy/saqshy/gateway/status"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Check is the rules and the alert engine as one check: the rules judge the sensor
// events and the gateway's health and raise conditions into the registry; the
// registry passes every transition, whoever raised it, to the engine; the engine's
// points are written at each tick, and its outbox and Telegram poller run beside
// the gateway.
type Check struct {
	rules    *rules.Check
	engine   *alert.Engine
	outbox   *outbox.Outbox
	telegram *notify.Telegram
	chats    map[string]string // chat → recipient name: the chats whose button presses count
	apiToken string
	log      interface{ Warn(string, ...any) }
}

// Deps are what the alert check is given by the gateway.
type Deps struct {
	// Conditions is the registry: the rules raise into it, the engine listens to it.
	Conditions *check.Conditions
	// Publisher publishes alerts on the gateway's MQTT connection.
	Publisher notify.Publisher
	// Health is the gateway's health for the health rules.
	Health rules.HealthSource
	Now    func() time.Time
	Logger *slog.Logger
	// InMemory keeps the rules' holds in memory only (a replay of the past).
	InMemory bool
}

// New builds the alert check from the config, listens to the registry and reopens
// in it the conditions the engine remembered across a restart. Its state and outbox
// live under the spool directory, in alerts/.
func New(cfg *config.Config, d Deps) (*Check, error) {
	ac, err := newCheck(cfg, d)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	d.Conditions.Listen(ac.engine)
	for _, c := range ac.engine.Open() {
		d.Conditions.Restore(c)
	}
	return ac, nil
}

func newCheck(cfg *config.Config, d Deps) (*Check, error) {
	a := cfg.Alerts
	log := d.Logger
	dir := filepath.Join(cfg.Spool.Dir, "alerts")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	tpl, err := alert.LoadTemplates(a.TemplatesDir)
	if err != nil {
		return nil, err
	}
	ac := &Check{log: log, chats: map[string]string{}}
	senders := map[string]outbox.Sender{"mqtt": notify.MQTT{Pub: d.Publisher}}
	// Secrets are read when used: a missing file delays the notifications (they
	// wait in the outbox, the error is logged and counted) instead of stopping
	// the gateway.
	if a.Webhook.URL != "" {
		senders["webhook"] = &notify.Webhook{URL: a.Webhook.URL, SecretFunc: cfg.WebhookSecret}
	}
	telegramOn := a.Telegram.TokenFile != "" || os.Getenv(config.EnvTelegramToken) != ""
	if telegramOn {
		ac.telegram = &notify.Telegram{BaseURL: a.Telegram.BaseURL, TokenFunc: cfg.TelegramToken, Logger: log}
		senders["telegram"] = ac.telegram
	}
	if a.SMTP.Host != "" {
		senders["email"] = &notify.Email{Host: a.SMTP.Host, Port: a.SMTP.Port, TLS: a.SMTP.TLS,
			Username: a.SMTP.Username, PasswordFunc: cfg.SMTPPassword, From: a.SMTP.From}
	}
	var err2 error
	if ac.apiToken, err2 = cfg.AlertsAPIToken(); err2 != nil {
		log.Error("alerts API token unreadable: the API answers this Pi only", "err", err2)
	}
	ob, err := outbox.Open(filepath.Join(dir, "outbox"), senders, outbox.Options{Logger: log, Now: d.Now})
	if err != nil {
		return nil, err
	}
	ac.outbox = ob

	opt := alert.Options{
		Centre: cfg.Centre.ID, CentreName: cfg.Centre.Name, StatusURL: a.StatusURL, Location: cfg.Centre.Location,
		ZoneNames: map[string]string{}, ZoneKinds: cfg.KindByZone(), Renotify: a.Renotify.Std(),
		Telegram: telegramOn, Email: a.SMTP.Host != "", Webhook: a.Webhook.URL != "", MQTT: true,
		StateFile: filepath.Join(dir, "state.json"), Outbox: ob, Templates: tpl, Logger: log, Now: d.Now,
		Chains: map[telemetry.Severity][]alert.Step{},
	}
	for _, z := range cfg.Zones {
		opt.ZoneNames[z.ID] = z.Name
	}
	for _, r := range a.Recipients {
		opt.Recipients = append(opt.Recipients, alert.Recipient{Name: r.Name, Lang: r.Lang, TelegramChat: r.TelegramChat, Email: r.Email})
		if r.TelegramChat != "" {
			ac.chats[r.TelegramChat] = r.Name
		}
		if !telegramOn && r.TelegramChat != "" {
			log.Warn("recipient has a telegram_chat but no bot token is configured: Telegram is off", "recipient", r.Name)
		}
		if a.SMTP.Host == "" && r.Email != "" {
			log.Warn("recipient has an email but no smtp host is configured: e-mail is off", "recipient", r.Name)
		}
	}
	for sev, steps := range map[telemetry.Severity][]config.EscalationStep{telemetry.Warning: a.Escalation.Warning, telemetry.Critical: a.Escalation.Critical} {
		for _, s := range steps {
			opt.Chains[sev] = append(opt.Chains[sev], alert.Step{After: s.After.Std(), Notify: s.Notify})
		}
	}
	eng, err := alert.New(opt)
	if errors.Is(err, alert.ErrCorruptState) {
		log.Error("alert state lost; starting with no open alerts", "err", err)
	} else if err != nil {
		return nil, err
	}
	ac.engine = eng
	rulesState := filepath.Join(dir, "rules-state.json")
	if d.InMemory {
		rulesState = ""
	}
	ac.rules = rules.New(d.Conditions, rules.Options{
		Sensors: ruleSensors(cfg), StaleCritical: a.StaleCritical.Std(), BatteryLow: a.BatteryLow,
		Health: d.Health, Open: eng.Open(),
		StateFile: rulesState, Logger: log,
	})
	return ac, nil
}

// ruleSensors returns the configured sensors with their zones' effective limits
// (config.EffectiveZone: the zone's overrides per metric, else the kind's defaults).
func ruleSensors(cfg *config.Config) []rules.Sensor {
	var out []rules.Sensor
	for _, s := range cfg.Sensors {
		z := cfg.EffectiveZone(s.Zone)
		out = append(out, rules.Sensor{ID: s.ID, Zone: s.Zone, ZoneKind: z.Kind.Name, Interval: s.Interval.Std(), Limits: z.Limits})
	}
	return out
}

// Name labels the check's counters.
func (ac *Check) Name() string { return "alerts" }

// Observe shows the durable sensor events to the rules.
func (ac *Check) Observe(evs []telemetry.Event) { ac.rules.Observe(evs) }

// Tick advances the rules and the engine and returns the engine's points.
func (ac *Check) Tick(now time.Time, synced bool) []telemetry.Event {
	ac.rules.Tick(now, synced)
	return ac.engine.Tick(now)
}

// Run delivers the outbox and, with Telegram on, hears the acknowledge buttons.
func (ac *Check) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = ac.outbox.Run(ctx) })
	if ac.telegram != nil {
		wg.Go(func() { _ = ac.telegram.RunAcks(ctx, ac.engine, ac.telegramAck) })
	}
	wg.Wait()
	return ac.outbox.Close()
}

// telegramAck acknowledges on a button press from a recipient's chat.
func (ac *Check) telegramAck(a notify.Ack) string {
	name, ok := ac.chats[a.ChatID]
	if !ok {
		ac.log.Warn("telegram acknowledgement from a chat that is not a recipient's: ignored", "chat", a.ChatID, "alert", a.AlertID)
		return "not allowed from this chat"
	}
	_, err := ac.engine.AckVia(a.AlertID, alert.AckBy{By: a.By + " (Telegram)", Recipient: name, Via: alert.ViaTelegram})
	switch {
	case errors.Is(err, alert.ErrNotFound):
		return "unknown alert"
	case errors.Is(err, alert.ErrResolved):
		return "already resolved"
	case err != nil:
		return "error"
	}
	return "✓"
}

// Engine is the alert engine (the score's response component reads it).
func (ac *Check) Engine() *alert.Engine { return ac.engine }

// Snapshot returns the open alerts, oldest first, for the status page.
func (ac *Check) Snapshot() []alert.Open { return ac.engine.Snapshot() }

// Handler serves GET /api/alerts and POST /api/alerts/{id}/ack (see
// alert.Engine.Handler), for the status server to mount.
func (ac *Check) Handler() http.Handler { return ac.engine.Handler(ac.apiToken) }

// OutboxStats returns the notification counters per channel.
func (ac *Check) OutboxStats() outbox.Stats { return ac.outbox.Stats() }

// Acker acknowledges alerts from the status page.
func (ac *Check) Acker() status.Acker { return alertAcker{ac.engine} }

// alertAcker acknowledges alerts from the status page.
type alertAcker struct{ e *alert.Engine }

func (a alertAcker) Ack(_ context.Context, id, by string) error {
	_, err := a.e.AckVia(id, alert.AckBy{By: by, Via: alert.ViaStatusPage})
	if errors.Is(err, alert.ErrNotFound) || errors.Is(err, alert.ErrResolved) {
		return fmt.Errorf("%w: %w", status.ErrUnknownAlert, err)
	}
	return err
}

var (
	_ check.Observer = (*Check)(nil)
	_ check.Ticker   = (*Check)(nil)
	_ check.Runner   = (*Check)(nil)
)

// ZoneBands are the zones' temperature bands as their alert limits (defaults of the
// kind and the zone's overrides) draw them, for the status page's colours.
func ZoneBands(cfg *config.Config) map[string]*status.Band {
	out := map[string]*status.Band{}
	for _, s := range cfg.Sensors {
		if b := status.ZoneBand(cfg.EffectiveZone(s.Zone)); b != nil {
			out[s.Zone] = b
		}
	}
	return out
}
