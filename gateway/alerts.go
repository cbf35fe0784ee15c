package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/alert"
	"github.com/saqshy/saqshy/gateway/alert/notify"
	"github.com/saqshy/saqshy/gateway/alert/outbox"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/rules"
	"github.com/saqshy/saqshy/gateway/status"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// alertCheck is the rules and the alert engine as one check: the rules judge the
// sensor events and the gateway's health and raise conditions into the registry;
// the registry passes every transition, whoever raised it, to the engine; the
// engine's points are written at each tick, and its outbox and Telegram poller run
// beside the gateway.
type alertCheck struct {
	rules    *rules.Check
	engine   *alert.Engine
	outbox   *outbox.Outbox
	telegram *notify.Telegram
	chats    map[string]bool // chats whose button presses count
	apiToken string
	log      interface{ Warn(string, ...any) }
}

// addAlerts builds the alert check from the config and wires it to the condition
// registry.
func (g *Gateway) addAlerts() error {
	ac, err := g.newAlertCheck()
	if err != nil {
		return fmt.Errorf("gateway: alerts: %w", err)
	}
	g.alerts = ac
	g.conds.listen(ac.engine)
	for _, c := range ac.engine.Open() {
		g.conds.restore(c)
	}
	g.checks = append(g.checks, ac)
	return nil
}

func (g *Gateway) newAlertCheck() (*alertCheck, error) {
	cfg, a := g.cfg, g.cfg.Alerts
	log := g.log.With("component", "alerts")
	dir := filepath.Join(cfg.Spool.Dir, "alerts")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	tpl, err := alert.LoadTemplates(a.TemplatesDir)
	if err != nil {
		return nil, err
	}
	ac := &alertCheck{log: log, chats: map[string]bool{}}
	senders := map[string]outbox.Sender{"mqtt": notify.MQTT{Pub: publisher{g}}}
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
	ob, err := outbox.Open(filepath.Join(dir, "outbox"), senders, outbox.Options{Logger: log, Now: g.opt.Clock.Now})
	if err != nil {
		return nil, err
	}
	ac.outbox = ob

	opt := alert.Options{
		Centre: cfg.Centre.ID, CentreName: cfg.Centre.Name, StatusURL: a.StatusURL, Location: cfg.Centre.Location,
		ZoneNames: map[string]string{}, ZoneKinds: map[string]string{}, Renotify: a.Renotify.Std(),
		Telegram: telegramOn, Email: a.SMTP.Host != "", Webhook: a.Webhook.URL != "", MQTT: true,
		StateFile: filepath.Join(dir, "state.json"), Outbox: ob, Templates: tpl, Logger: log, Now: g.opt.Clock.Now,
		Chains: map[telemetry.Severity][]alert.Step{},
	}
	for _, z := range cfg.Zones {
		opt.ZoneNames[z.ID], opt.ZoneKinds[z.ID] = z.Name, z.Kind
	}
	for _, r := range a.Recipients {
		opt.Recipients = append(opt.Recipients, alert.Recipient{Name: r.Name, Lang: r.Lang, TelegramChat: r.TelegramChat, Email: r.Email})
		if r.TelegramChat != "" {
			ac.chats[r.TelegramChat] = true
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
	ac.rules = rules.New(g.conds, rules.Options{
		Sensors: ruleSensors(cfg), StaleCritical: a.StaleCritical.Std(), BatteryLow: a.BatteryLow,
		Health: gatewayHealth{g}, Open: eng.Open(),
		StateFile: filepath.Join(dir, "rules-state.json"), Logger: log,
	})
	return ac, nil
}

// ruleSensors returns the configured sensors with their limits: the zone's
// overrides per metric, else the zone kind's defaults.
func ruleSensors(cfg *config.Config) []rules.Sensor {
	kinds := map[string]string{}
	for _, z := range cfg.Zones {
		kinds[z.ID] = z.Kind
	}
	override := map[string][]rules.Limit{} // zone → limits given
	overridden := map[[2]string]bool{}     // zone, metric
	for _, l := range cfg.Alerts.Limits {
		lim := rules.Limit{Metric: telemetry.Temperature, Hold: l.For.Std(), Severity: telemetry.Warning}
		if l.Metric == "humidity" {
			lim.Metric = telemetry.Humidity
		}
		if l.Severity == "critical" {
			lim.Severity = telemetry.Critical
		}
		if l.Above != nil {
			lim.Above, lim.Value = true, *l.Above
		} else if l.Below != nil {
			lim.Value = *l.Below
		}
		override[l.Zone] = append(override[l.Zone], lim)
		overridden[[2]string{l.Zone, l.Metric}] = true
	}
	var out []rules.Sensor
	for _, s := range cfg.Sensors {
		kind := kinds[s.Zone]
		var lims []rules.Limit
		for _, d := range rules.DefaultLimits(kind) {
			m := "temperature"
			if d.Metric == telemetry.Humidity {
				m = "humidity"
			}
			if !overridden[[2]string{s.Zone, m}] || d.Kind == rules.KindFreeze {
				lims = append(lims, d)
			}
		}
		lims = append(lims, override[s.Zone]...)
		out = append(out, rules.Sensor{ID: s.ID, Zone: s.Zone, ZoneKind: kind, Interval: s.Interval.Std(), Limits: lims})
	}
	return out
}

// gatewayHealth reads what the health rules need from the gateway's stats.
type gatewayHealth struct{ g *Gateway }

func (h gatewayHealth) Health() rules.Health {
	st := h.g.Stats()
	return rules.Health{MQTTConnected: st.MQTTConnected, ClockSynced: st.ClockSynced, SpoolBytes: st.SpoolBytes,
		SpoolMax: cmp.Or(st.Spool.MaxBytes, int64(h.g.cfg.Spool.MaxBytes)), InfluxError: st.InfluxError,
		SpoolDiskFree: st.Spool.DiskFree, SpoolDiskLow: st.Spool.DiskLow, SpoolWriteError: st.Spool.WriteError,
		SpoolLost: st.Spool.Lost + st.Spool.Corrupt, MQTTProblem: st.MQTTProblem}
}

func (ac *alertCheck) Name() string     { return "alerts" }
func (ac *alertCheck) Topics() []string { return nil }
func (ac *alertCheck) Message(telemetry.Message, bool) ([]telemetry.Event, error) {
	return nil, nil
}
func (ac *alertCheck) Observe(evs []telemetry.Event) { ac.rules.Observe(evs) }
func (ac *alertCheck) Tick(now time.Time, synced bool) []telemetry.Event {
	ac.rules.Tick(now, synced)
	return ac.engine.Tick(now)
}

// Run delivers the outbox and, with Telegram on, hears the acknowledge buttons.
func (ac *alertCheck) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = ac.outbox.Run(ctx) })
	if ac.telegram != nil {
		wg.Go(func() { _ = ac.telegram.RunAcks(ctx, ac.engine, ac.telegramAck) })
	}
	wg.Wait()
	return ac.outbox.Close()
}

// telegramAck acknowledges on a button press from a recipient's chat.
func (ac *alertCheck) telegramAck(a notify.Ack) string {
	if !ac.chats[a.ChatID] {
		ac.log.Warn("telegram acknowledgement from a chat that is not a recipient's: ignored", "chat", a.ChatID, "alert", a.AlertID)
		return "not allowed from this chat"
	}
	_, err := ac.engine.Ack(a.AlertID, a.By+" (Telegram)")
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

// Alerts returns the open alerts, oldest first, for the status page.
func (g *Gateway) Alerts() []alert.Open {
	if g.alerts == nil {
		return nil
	}
	return g.alerts.engine.Snapshot()
}

// AlertsHandler serves GET /api/alerts and POST /api/alerts/{id}/ack (see
// alert.Engine.Handler), for the status server to mount.
func (g *Gateway) AlertsHandler() http.Handler {
	return g.alerts.engine.Handler(g.alerts.apiToken)
}

// AlertOutboxStats returns the notification counters per channel.
func (g *Gateway) AlertOutboxStats() outbox.Stats { return g.alerts.outbox.Stats() }

// alertSection is the open alerts for the status page.
func (g *Gateway) alertSection() []status.Alert {
	var out []status.Alert
	for _, a := range g.Alerts() {
		text := a.Text
		if text == "" {
			text = a.Kind + " " + a.Subject
		}
		out = append(out, status.Alert{ID: a.ID, Severity: a.Severity, State: string(a.State), Text: text,
			Zone: cmp.Or(a.ZoneName, a.Zone), Since: a.Since, AckedBy: a.AckedBy, AckedAt: a.AckedAt})
	}
	return out
}

// alertAcker acknowledges alerts from the status page.
type alertAcker struct{ e *alert.Engine }

func (a alertAcker) Ack(_ context.Context, id, by string) error {
	_, err := a.e.Ack(id, by)
	if errors.Is(err, alert.ErrNotFound) || errors.Is(err, alert.ErrResolved) {
		return fmt.Errorf("%w: %w", status.ErrUnknownAlert, err)
	}
	return err
}

// zoneBands are the zones' temperature bands as their alert limits (defaults of the
// kind and the zone's overrides) draw them, for the status page's colours.
func zoneBands(cfg *config.Config) map[string]*status.Band {
	out := map[string]*status.Band{}
	for _, s := range ruleSensors(cfg) {
		if _, done := out[s.Zone]; done {
			continue
		}
		if lo, hi, clo, chi, ok := rules.TemperatureBand(s.Limits); ok {
			out[s.Zone] = &status.Band{Low: lo, High: hi, CritLow: clo, CritHigh: chi}
		}
	}
	return out
}
