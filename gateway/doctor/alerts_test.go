package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/internal/tgtest"
)

// mailServer is an in-process SMTP server (emersion/go-smtp) on loopback taking
// PLAIN logins of saqshy / mail-pass; it counts the messages it was given (doctor
// must send none).
type mailServer struct {
	addr         string
	pool         *x509.CertPool
	logins, msgs atomic.Int32
}

type mailSession struct{ s *mailServer }

func (m *mailServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m}, nil }
func (s *mailSession) AuthMechanisms() []string                   { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "saqshy" || pass != "mail-pass" {
			return errors.New("invalid credentials")
		}
		s.s.logins.Add(1)
		return nil
	}), nil
}
func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Data(r io.Reader) error {
	s.s.msgs.Add(1)
	_, err := io.Copy(io.Discard, r)
	return err
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

// startMail starts a server offering STARTTLS (withTLS) or none, with a
// certificate for 127.0.0.1 that only the returned pool trusts.
func startMail(t *testing.T, withTLS bool) *mailServer {
	t.Helper()
	cert, pool := testenv.LoopbackCert(t)
	m := &mailServer{pool: pool}
	s := smtp.NewServer(m)
	s.Domain = "localhost"
	s.ErrorLog = log.New(io.Discard, "", 0) // a probe hangs up without QUIT
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	if withTLS {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	} else {
		s.AllowInsecureAuth = true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return m
}

// channels is the alerts: block of a test config; empty fields leave a channel out.
type channels struct {
	tgURL, tgToken            string // token_file is written with tgToken unless tgToken is "-"
	smtpAddr, smtpTLS         string
	smtpUser, smtpPass        string // password_file written with smtpPass unless "-"
	webhookURL, webhookSecret string // secret_file written unless "-"
}

func secretFile(t *testing.T, name, content string) string {
	path := filepath.Join(t.TempDir(), name)
	if content == "-" {
		return path // configured but never written
	}
	if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (ch channels) yaml(t *testing.T) string {
	s := "alerts:\n  recipients:\n    - {name: Director, lang: en, telegram_chat: \"1001\", email: director@centre.example.org}\n"
	if ch.tgURL != "" {
		s += fmt.Sprintf("  telegram: {base_url: %q, token_file: %q}\n", ch.tgURL, secretFile(t, "telegram.token", ch.tgToken))
	}
	if ch.smtpAddr != "" {
		host, port, _ := net.SplitHostPort(ch.smtpAddr)
		s += fmt.Sprintf("  smtp: {host: %q, port: %s, tls: %s, from: \"Saqshy <saqshy@centre.example.org>\"", host, port, ch.smtpTLS)
		if ch.smtpUser != "" {
			s += fmt.Sprintf(", username: %s, password_file: %q", ch.smtpUser, secretFile(t, "smtp.pass", ch.smtpPass))
		}
		s += "}\n"
	}
	if ch.webhookURL != "" {
		s += fmt.Sprintf("  webhook: {url: %q, secret_file: %q}\n", ch.webhookURL, secretFile(t, "webhook.secret", ch.webhookSecret))
	}
	return s
}

// alertChecks loads a config with ch and runs only the alert checks.
func alertChecks(t *testing.T, ch channels, opt Options, edit func(*config.Config)) (*Report, string) {
	t.Helper()
	c := centre{tag: "al", mqttURL: "tcp://127.0.0.1:1883", passFile: filepath.Join(t.TempDir(), "none"),
		spoolDir: t.TempDir(), extraLines: ch.yaml(t)}
	path := filepath.Join(t.TempDir(), "centre.yaml")
	if err := os.WriteFile(path, []byte(c.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, c.yaml())
	}
	if edit != nil {
		edit(cfg)
	}
	opt.defaults()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := &Report{}
	for _, c := range checkAlerts(ctx, cfg, &opt) {
		r.add(c)
	}
	var b bytes.Buffer
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	t.Logf("doctor output:\n%s", b.String())
	return r, b.String()
}

const tgTok = "5:DOCTOR-TOKEN"

// The alert channels checked against a local Telegram Bot API, an in-process SMTP
// server and a webhook URL: healthy, then each thing broken.
func TestDoctorAlertChannels(t *testing.T) {
	tg := tgtest.Start(t, tgTok)
	mail := startMail(t, true)
	tlsOpt := Options{SMTPTLS: &tls.Config{RootCAs: mail.pool}}
	healthy := channels{tgURL: tg.URL, tgToken: tgTok, smtpAddr: mail.addr, smtpTLS: "starttls", smtpUser: "saqshy", smtpPass: "mail-pass",
		webhookURL: "https://ministry.example.kz/saqshy/alerts", webhookSecret: "hook-secret"}

	t.Run("healthy", func(t *testing.T) {
		r, out := alertChecks(t, healthy, tlsOpt, nil)
		if !r.OK() {
			t.Error("healthy channels: report not OK")
		}
		for _, n := range []string{"telegram-token", "telegram", "smtp-password", "smtp", "webhook-secret", "webhook"} {
			wantStatus(t, r, n, Pass)
		}
		wantLines(t, out,
			"✓ Telegram bot token ", "telegram.token is readable",
			"✓ Telegram Bot API "+tg.URL+" knows the bot @"+tgtest.BotUsername+" (getMe)",
			"✓ SMTP password of saqshy ", "smtp.pass is readable",
			"✓ SMTP server "+mail.addr+" takes a starttls connection and the login of saqshy",
			"✓ Webhook signing secret ", "webhook.secret is readable",
			"✓ Webhook URL https://ministry.example.kz/saqshy/alerts parses",
			"All checks passed",
		)
		if mail.logins.Load() == 0 || mail.msgs.Load() != 0 {
			t.Errorf("SMTP: %d logins (want ≥ 1), %d messages (want 0)", mail.logins.Load(), mail.msgs.Load())
		}
		if len(tg.Sent()) != 0 {
			t.Errorf("doctor sent Telegram messages: %+v", tg.Sent())
		}
	})

	t.Run("token from the environment", func(t *testing.T) {
		t.Setenv(config.EnvTelegramToken, tgTok)
		ch := channels{tgURL: tg.URL, tgToken: "-"}
		r, out := alertChecks(t, ch, Options{}, nil)
		wantStatus(t, r, "telegram-token", Pass)
		wantStatus(t, r, "telegram", Pass)
		wantLines(t, out, "✓ Telegram bot token is set in "+config.EnvTelegramToken)
	})

	t.Run("secret files missing or empty", func(t *testing.T) {
		ch := healthy
		ch.tgToken, ch.smtpPass, ch.webhookSecret = "-", "", "-"
		r, out := alertChecks(t, ch, tlsOpt, nil)
		if r.OK() {
			t.Error("missing secrets: report OK")
		}
		wantStatus(t, r, "telegram-token", Fail)
		wantStatus(t, r, "telegram", Skip)
		wantStatus(t, r, "smtp-password", Fail)
		wantStatus(t, r, "smtp", Skip)
		wantStatus(t, r, "webhook-secret", Fail)
		wantStatus(t, r, "webhook", Pass)
		wantLines(t, out,
			"✗ Telegram bot token file ", "telegram.token does not exist",
			"fix: create it (sudo install -m 0640 -o root -g saqshy /dev/null ",
			"until then alert messages on this channel wait in the outbox",
			"– Telegram Bot API "+tg.URL+" not asked: no token",
			"✗ SMTP password of saqshy cannot be read: secret file ", "smtp.pass is empty",
			"– SMTP server "+mail.addr+" takes a starttls connection; login as saqshy not tried: no password",
			"✗ Webhook signing secret file ", "webhook.secret does not exist",
			"3 problems marked ✗ must be fixed",
		)
	})

	t.Run("telegram refuses the token", func(t *testing.T) {
		ch := channels{tgURL: tg.URL, tgToken: "5:REVOKED"}
		r, out := alertChecks(t, ch, Options{}, nil)
		wantStatus(t, r, "telegram", Fail)
		wantLines(t, out, "✗ Telegram Bot API "+tg.URL+" refused the token: telegram getMe: 401 Unauthorized",
			"fix: the token is wrong or was revoked: ask @BotFather")
		if bytes.Contains([]byte(out), []byte("REVOKED")) {
			t.Error("the output shows the token")
		}
	})

	t.Run("telegram unreachable", func(t *testing.T) {
		tg.SetDown(true)
		defer tg.SetDown(false)
		r, out := alertChecks(t, channels{tgURL: tg.URL, tgToken: tgTok}, Options{}, nil)
		wantStatus(t, r, "telegram", Fail)
		wantLines(t, out, "✗ Telegram Bot API "+tg.URL+" did not answer getMe", "fix: check the centre's Internet (curl -sI "+tg.URL)

		down := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
		r, out = alertChecks(t, channels{tgURL: down, tgToken: tgTok}, Options{}, nil)
		wantStatus(t, r, "telegram", Fail)
		wantLines(t, out, "✗ Telegram Bot API "+down+" did not answer getMe", "connection refused")
	})

	t.Run("smtp wrong password", func(t *testing.T) {
		ch := healthy
		ch.smtpPass = "not-it"
		r, out := alertChecks(t, ch, tlsOpt, nil)
		wantStatus(t, r, "smtp-password", Pass)
		wantStatus(t, r, "smtp", Fail)
		wantLines(t, out, "✗ SMTP server "+mail.addr+" refused the login of saqshy", "fix: check alerts.smtp.username and the password")
	})

	t.Run("smtp unreachable", func(t *testing.T) {
		ch := healthy
		ch.smtpAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(testenv.FreePort(t)))
		r, out := alertChecks(t, ch, tlsOpt, nil)
		wantStatus(t, r, "smtp", Fail)
		wantLines(t, out, "✗ SMTP server "+ch.smtpAddr+" is not reachable", "fix: check alerts.smtp.host and port")
	})

	t.Run("smtp without STARTTLS or with an untrusted certificate", func(t *testing.T) {
		plain := startMail(t, false)
		ch := healthy
		ch.smtpAddr = plain.addr
		r, out := alertChecks(t, ch, tlsOpt, nil)
		wantStatus(t, r, "smtp", Fail)
		wantLines(t, out, "✗ SMTP server "+plain.addr+" does not take a starttls connection",
			"fix: the server must offer STARTTLS with a certificate valid for alerts.smtp.host")

		r, out = alertChecks(t, healthy, Options{}, nil) // system roots: the test CA is unknown
		wantStatus(t, r, "smtp", Fail)
		wantLines(t, out, "✗ SMTP server "+mail.addr+" does not take a starttls connection", "certificate")

		ch.smtpTLS = "none" // a local relay without TLS: fine
		r, _ = alertChecks(t, ch, Options{}, nil)
		wantStatus(t, r, "smtp", Pass)
	})

	t.Run("webhook URL", func(t *testing.T) {
		for _, tc := range []struct {
			url  string
			st   Status
			line string
		}{
			{"ftp://ministry.example.kz/x", Fail, `✗ Webhook URL "ftp://ministry.example.kz/x" is not http or https`},
			{"https://", Fail, `✗ Webhook URL "https://" has no host`},
			{"https://ministry.example.kz/%zz", Fail, `does not parse`},
			{"http://10.20.0.5/hook", Warn, "! Webhook URL http://10.20.0.5/hook is plain http"},
			{"http://127.0.0.1:9000/hook", Pass, "✓ Webhook URL http://127.0.0.1:9000/hook parses"},
		} {
			r, out := alertChecks(t, channels{webhookURL: "https://ministry.example.kz/ok", webhookSecret: "s"}, Options{},
				func(c *config.Config) { c.Alerts.Webhook.URL = tc.url })
			wantStatus(t, r, "webhook", tc.st)
			wantLines(t, out, tc.line)
			if tc.st == Fail {
				wantLines(t, out, "fix: write alerts.webhook.url as a full URL")
			}
		}
	})

	t.Run("no channel", func(t *testing.T) {
		r, out := alertChecks(t, channels{}, Options{}, nil)
		wantStatus(t, r, "alerts", Skip)
		wantLines(t, out, "– No alert channel configured", "All checks passed")
	})
}
