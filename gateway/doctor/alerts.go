package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/alert/notify"
	"github.com/saqshy/saqshy/gateway/config"
)

// alertTimeout bounds each network check of the alert channels.
const alertTimeout = 10 * time.Second

// checkAlerts checks each configured alert channel: its secret is readable, the
// Telegram Bot API knows the token (getMe), the SMTP server takes a connection
// with the configured TLS and login, the webhook URL parses. Nothing is sent to
// anybody.
func checkAlerts(ctx context.Context, cfg *config.Config, opt *Options) []Check {
	a := cfg.Alerts
	telegram := a.Telegram.TokenFile != "" || envSet(config.EnvTelegramToken)
	if !telegram && a.SMTP.Host == "" && a.Webhook.URL == "" {
		return []Check{{Name: "alerts", Status: Skip,
			Title: "No alert channel configured (Telegram, e-mail, webhook): alerts go to MQTT and the status page only"}}
	}
	var out []Check
	if telegram {
		sc := checkSecret("telegram-token", "Telegram bot token", a.Telegram.TokenFile, config.EnvTelegramToken, "alerts.telegram.token_file",
			"put the token @BotFather gave the centre's bot in it, alone on one line")
		out = append(out, sc)
		out = append(out, checkTelegram(ctx, cfg, sc.Status == Pass))
	}
	if a.SMTP.Host != "" {
		auth := a.SMTP.Username != ""
		var sc Check
		if auth {
			sc = checkSecret("smtp-password", "SMTP password of "+a.SMTP.Username, a.SMTP.PasswordFile, config.EnvSMTPPassword, "alerts.smtp.password_file",
				"put the mailbox's password (or app password) in it, alone on one line")
			out = append(out, sc)
		}
		out = append(out, checkSMTP(ctx, cfg, opt, !auth || sc.Status == Pass))
	}
	if a.Webhook.URL != "" {
		out = append(out, checkSecret("webhook-secret", "Webhook signing secret", a.Webhook.SecretFile, config.EnvWebhookSecret, "alerts.webhook.secret_file",
			"put the secret shared with the receiving system in it (e.g. openssl rand -hex 32 > the file), alone on one line"))
		out = append(out, checkWebhook(cfg))
	}
	return out
}

func envSet(name string) bool {
	v, ok := os.LookupEnv(name)
	return ok && strings.TrimSpace(v) != ""
}

// checkSecret reports whether a channel's secret can be read, from its variable
// or its file.
func checkSecret(name, what, file, env, field, fill string) Check {
	c := Check{Name: name}
	if envSet(env) {
		c.Status, c.Title = Pass, fmt.Sprintf("%s is set in %s", what, env)
		return c
	}
	if file == "" {
		c.Status, c.Title = Fail, fmt.Sprintf("%s is not configured", what)
		c.Fix = fmt.Sprintf("set %s to a file readable by the saqshy user (or set %s), and %s", field, env, fill)
		return c
	}
	_, err := config.Secret(file, "")
	switch {
	case err == nil:
		c.Status, c.Title = Pass, fmt.Sprintf("%s %s is readable", what, file)
	case errors.Is(err, os.ErrNotExist):
		c.Status, c.Title = Fail, fmt.Sprintf("%s file %s does not exist", what, file)
		c.Fix = fmt.Sprintf("create it (sudo install -m 0640 -o root -g saqshy /dev/null %s), %s, or correct %s", file, fill, field)
	case errors.Is(err, os.ErrPermission):
		c.Status, c.Title = Fail, fmt.Sprintf("%s file %s cannot be read: permission denied", what, file)
		c.Fix = fmt.Sprintf("the gateway runs as the saqshy user: sudo chown root:saqshy %s && sudo chmod 0640 %s; run doctor as root or as saqshy", file, file)
	default:
		c.Status, c.Title = Fail, fmt.Sprintf("%s cannot be read: %v", what, err)
		c.Fix = fmt.Sprintf("%s (file %s)", fill, file)
	}
	if c.Status == Fail {
		c.Fix += "\nuntil then alert messages on this channel wait in the outbox"
	}
	return c
}

// checkTelegram asks the Bot API at the configured base_url who the bot is.
func checkTelegram(ctx context.Context, cfg *config.Config, tokenOK bool) Check {
	base := cfg.Alerts.Telegram.BaseURL
	c := Check{Name: "telegram"}
	if !tokenOK {
		c.Status, c.Title = Skip, fmt.Sprintf("Telegram Bot API %s not asked: no token", base)
		return c
	}
	tg := &notify.Telegram{BaseURL: base, TokenFunc: cfg.TelegramToken, Client: &http.Client{Timeout: alertTimeout}}
	cctx, cancel := context.WithTimeout(ctx, alertTimeout)
	defer cancel()
	name, err := tg.GetMe(cctx)
	var ae *notify.APIError
	switch {
	case err == nil:
		c.Status, c.Title = Pass, fmt.Sprintf("Telegram Bot API %s knows the bot @%s (getMe)", base, name)
	case errors.As(err, &ae) && (ae.Code == 401 || ae.Code == 404):
		c.Status, c.Title = Fail, fmt.Sprintf("Telegram Bot API %s refused the token: %v", base, err)
		c.Fix = "the token is wrong or was revoked: ask @BotFather (/mybots → the bot → API Token) and put the current token in the token file"
	default:
		c.Status, c.Title = Fail, fmt.Sprintf("Telegram Bot API %s did not answer getMe: %v", base, err)
		c.Fix = fmt.Sprintf("check the centre's Internet (curl -sI %s should answer) and alerts.telegram.base_url; "+
			"meanwhile messages wait in the outbox and staff can acknowledge on the status page", base)
	}
	return c
}

// checkSMTP connects to the mail server as the gateway would — STARTTLS or TLS as
// configured, then the login — without sending a message. Each stage has its own
// fix.
func checkSMTP(ctx context.Context, cfg *config.Config, opt *Options, passOK bool) Check {
	s := cfg.Alerts.SMTP
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	mode := s.TLS
	if mode == "" {
		mode = notify.SMTPStartTLS
	}
	c := Check{Name: "smtp"}
	d := net.Dialer{Timeout: alertTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		c.Status, c.Title = Fail, fmt.Sprintf("SMTP server %s is not reachable: %v", addr, err)
		c.Fix = fmt.Sprintf("check alerts.smtp.host and port (587 for starttls, 465 for tls, 25 for none) and that the centre's network lets the Pi out to it (nc -vz %s %d)", s.Host, s.Port)
		return c
	}
	conn.Close()
	e := &notify.Email{Host: s.Host, Port: s.Port, TLS: mode, Username: s.Username, PasswordFunc: cfg.SMTPPassword,
		From: s.From, TLSConfig: opt.SMTPTLS, Timeout: alertTimeout}
	if opt.SMTPTLS != nil && opt.SMTPTLS.ServerName == "" {
		tc := opt.SMTPTLS.Clone()
		tc.ServerName = s.Host
		e.TLSConfig = tc
	}
	if err := e.Probe(ctx, false); err != nil {
		c.Status, c.Title = Fail, fmt.Sprintf("SMTP server %s does not take a %s connection: %v", addr, mode, err)
		switch mode {
		case notify.SMTPTLS:
			c.Fix = "port 465 speaks TLS from the first byte; for port 587 set alerts.smtp.tls: starttls. The server's certificate must be valid for alerts.smtp.host"
		case notify.SMTPNone:
			c.Fix = "check that the server speaks SMTP on that port"
		default:
			c.Fix = "the server must offer STARTTLS with a certificate valid for alerts.smtp.host; for port 465 set alerts.smtp.tls: tls (tls: none only for a relay on this Pi)"
		}
		return c
	}
	if s.Username == "" {
		c.Status, c.Title = Pass, fmt.Sprintf("SMTP server %s takes a %s connection (no login configured)", addr, mode)
		return c
	}
	if !passOK {
		c.Status, c.Title = Skip, fmt.Sprintf("SMTP server %s takes a %s connection; login as %s not tried: no password", addr, mode, s.Username)
		return c
	}
	if err := e.Probe(ctx, true); err != nil {
		c.Status, c.Title = Fail, fmt.Sprintf("SMTP server %s refused the login of %s: %v", addr, s.Username, err)
		c.Fix = "check alerts.smtp.username and the password in alerts.smtp.password_file (many providers want an app password for SMTP)"
		return c
	}
	c.Status, c.Title = Pass, fmt.Sprintf("SMTP server %s takes a %s connection and the login of %s", addr, mode, s.Username)
	return c
}

// checkWebhook checks that the webhook URL is one the gateway can POST to. It
// sends nothing: a test POST would reach the receiving system as an alert.
func checkWebhook(cfg *config.Config) Check {
	raw := cfg.Alerts.Webhook.URL
	c := Check{Name: "webhook"}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		c.Status, c.Title = Fail, fmt.Sprintf("Webhook URL %q does not parse: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		c.Status, c.Title = Fail, fmt.Sprintf("Webhook URL %q is not http or https", raw)
	case u.Host == "" || u.Hostname() == "":
		c.Status, c.Title = Fail, fmt.Sprintf("Webhook URL %q has no host", raw)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		c.Status, c.Title = Warn, fmt.Sprintf("Webhook URL %s is plain http: alert contents cross the network unencrypted", u.Redacted())
		c.Fix = "use an https:// URL (the signature proves who sent it, but does not hide it)"
	default:
		c.Status, c.Title = Pass, fmt.Sprintf("Webhook URL %s parses (nothing sent: a test would reach the receiver as an alert)", u.Redacted())
	}
	if c.Status == Fail {
		c.Fix = "write alerts.webhook.url as a full URL, e.g. https://ministry.example.kz/saqshy/alerts"
	}
	return c
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
