package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// Alert defaults.
const (
	DefaultRenotify        = Duration(30 * time.Minute)
	DefaultTelegramURL     = "https://api.telegram.org"
	DefaultSMTPTLS         = "starttls"
	DefaultBatteryLow      = 20.0
	DefaultStaleCritical   = Duration(60 * time.Minute)
	EnvTelegramToken       = "SAQSHY_TELEGRAM_TOKEN"
	EnvSMTPPassword        = "SAQSHY_SMTP_PASSWORD"
	EnvWebhookSecret       = "SAQSHY_WEBHOOK_SECRET"
	EnvAlertsAPIToken      = "SAQSHY_ALERTS_API_TOKEN"
	alertsTelegramBasePath = "alerts.telegram.base_url"
)

var smtpTLSModes = []string{"starttls", "tls", "none"}

// applyDefaults fills the alert defaults for keys absent from the file.
func (a *Alerts) applyDefaults(absent func(string) bool) {
	if a.Renotify == 0 && absent("alerts.renotify") {
		a.Renotify = DefaultRenotify
	}
	if a.Telegram.BaseURL == "" && absent(alertsTelegramBasePath) {
		a.Telegram.BaseURL = DefaultTelegramURL
	}
	if a.SMTP.TLS == "" && absent("alerts.smtp.tls") {
		a.SMTP.TLS = DefaultSMTPTLS
	}
	if a.SMTP.Port == 0 && absent("alerts.smtp.port") {
		switch a.SMTP.TLS {
		case "tls":
			a.SMTP.Port = 465
		case "none":
			a.SMTP.Port = 25
		default:
			a.SMTP.Port = 587
		}
	}
	if a.BatteryLow == 0 && absent("alerts.battery_low") {
		a.BatteryLow = DefaultBatteryLow
	}
	if a.StaleCritical == 0 && absent("alerts.stale_critical") {
		a.StaleCritical = DefaultStaleCritical
	}
}

// TelegramToken returns the bot token from SAQSHY_TELEGRAM_TOKEN or
// alerts.telegram.token_file; "" when neither is set (Telegram off).
func (c *Config) TelegramToken() (string, error) {
	return Secret(c.Alerts.Telegram.TokenFile, EnvTelegramToken)
}

// SMTPPassword returns the SMTP password from SAQSHY_SMTP_PASSWORD or
// alerts.smtp.password_file.
func (c *Config) SMTPPassword() (string, error) {
	return Secret(c.Alerts.SMTP.PasswordFile, EnvSMTPPassword)
}

// WebhookSecret returns the webhook signing secret from SAQSHY_WEBHOOK_SECRET or
// alerts.webhook.secret_file.
func (c *Config) WebhookSecret() (string, error) {
	return Secret(c.Alerts.Webhook.SecretFile, EnvWebhookSecret)
}

// AlertsAPIToken returns the local alerts API token from SAQSHY_ALERTS_API_TOKEN
// or alerts.api_token_file; "" when neither is set (loopback only).
func (c *Config) AlertsAPIToken() (string, error) {
	return Secret(c.Alerts.APITokenFile, EnvAlertsAPIToken)
}

// alertsMore checks the alert settings beyond the recipients.
func (v *checker) alertsMore(zones map[string]Zone) {
	a := &v.c.Alerts
	names := make([]string, 0, len(a.Recipients))
	for _, r := range a.Recipients {
		names = append(names, r.Name)
	}
	for _, ch := range []struct {
		sev   string
		steps []EscalationStep
	}{{"warning", a.Escalation.Warning}, {"critical", a.Escalation.Critical}} {
		var prev Duration
		for i, s := range ch.steps {
			p := fmt.Sprintf("alerts.escalation.%s[%d]", ch.sev, i)
			switch {
			case s.After < 0:
				v.errf(p+".after", "must not be negative, got %s", s.After)
			case i > 0 && s.After < prev:
				v.errf(p+".after", "%s is earlier than the step before (%s): list the steps in order", s.After, prev)
			}
			prev = s.After
			if len(s.Notify) == 0 {
				v.errf(p+".notify", "required: the names of the recipients to tell")
			}
			for j, n := range s.Notify {
				if !contains(names, n) {
					v.errf(fmt.Sprintf("%s.notify[%d]", p, j), "no recipient named %q%s", clip(n), DidYouMean(n, names))
				}
			}
		}
	}
	if a.Renotify < 0 {
		v.errf("alerts.renotify", "must not be negative, got %s (0s never repeats)", a.Renotify)
	} else if a.Renotify > 0 && a.Renotify < Duration(time.Minute) {
		v.errf("alerts.renotify", "%s is too often: at least 1m (0s never repeats)", a.Renotify)
	}
	v.httpURL("alerts.status_url", a.StatusURL)
	v.httpURL(alertsTelegramBasePath, a.Telegram.BaseURL)
	if a.Telegram.BaseURL == "" {
		v.errf(alertsTelegramBasePath, "empty: leave base_url out for %s", DefaultTelegramURL)
	}
	s := &a.SMTP
	if !contains(smtpTLSModes, s.TLS) {
		v.errf("alerts.smtp.tls", "unknown mode %q%s: use starttls, tls or none", clip(s.TLS), DidYouMean(s.TLS, smtpTLSModes))
	}
	if s.Port < 1 || s.Port > 65535 {
		v.errf("alerts.smtp.port", "must be between 1 and 65535, got %d", s.Port)
	}
	if s.Host != "" {
		if strings.ContainsAny(s.Host, " /:") {
			v.errf("alerts.smtp.host", "invalid host %q: write a host name or address only, the port goes in port", clip(s.Host))
		}
		if s.From == "" {
			v.errf("alerts.smtp.from", "required when host is set, e.g. \"Saqshy <saqshy@centre.example.org>\"")
		} else if _, err := mail.ParseAddress(s.From); err != nil {
			v.errf("alerts.smtp.from", "invalid address %q", clip(s.From))
		}
		if s.Username != "" && s.PasswordFile == "" {
			v.errf("alerts.smtp.password_file", "required with username (or set %s)", EnvSMTPPassword)
		}
	}
	if a.Webhook.URL != "" {
		v.httpURL("alerts.webhook.url", a.Webhook.URL)
		if a.Webhook.SecretFile == "" {
			v.errf("alerts.webhook.secret_file", "required with url: the webhook is signed (or set %s)", EnvWebhookSecret)
		}
	}
	if a.BatteryLow < 0 || a.BatteryLow > 100 {
		v.errf("alerts.battery_low", "must be a percentage between 0 and 100, got %g", a.BatteryLow)
	}
	if a.StaleCritical < Duration(time.Minute) {
		v.errf("alerts.stale_critical", "must be at least 1m, got %s", a.StaleCritical)
	}
	for i, l := range a.Limits {
		p := fmt.Sprintf("alerts.limits[%d]", i)
		if l.Zone == "" {
			v.errf(p+".zone", "required: the id of the zone the limit is for")
		} else {
			v.zoneRef(p+".zone", l.Zone, zones)
		}
		switch l.Metric {
		case "temperature", "humidity":
		case "":
			v.errf(p+".metric", "required: temperature or humidity")
		default:
			v.errf(p+".metric", "unknown metric %q%s: use temperature or humidity", clip(l.Metric), DidYouMean(l.Metric, []string{"temperature", "humidity"}))
		}
		switch {
		case l.Above == nil && l.Below == nil:
			v.errf(p, "no limit: set above or below")
		case l.Above != nil && l.Below != nil:
			v.errf(p, "set above or below, not both: write two limits")
		}
		if l.For < 0 {
			v.errf(p+".for", "must not be negative, got %s", l.For)
		}
		switch l.Severity {
		case "warning", "critical":
		case "":
			v.errf(p+".severity", "required: warning or critical")
		default:
			v.errf(p+".severity", "unknown severity %q%s: use warning or critical", clip(l.Severity), DidYouMean(l.Severity, []string{"warning", "critical"}))
		}
	}
}

// httpURL checks an optional http(s) URL.
func (v *checker) httpURL(path, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !strings.Contains(raw, "://"):
		v.errf(path, "invalid URL %q: write e.g. \"https://example.org/path\"", redact(raw))
	case u.Scheme != "http" && u.Scheme != "https":
		v.errf(path, "unsupported scheme %q: use http:// or https://", u.Scheme)
	case u.Hostname() == "":
		v.errf(path, "the URL %q names no host", redact(raw))
	case u.User != nil:
		v.errf(path, "the URL carries credentials: put secrets in a *_file")
	}
}
