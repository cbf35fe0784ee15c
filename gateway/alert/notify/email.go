package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/saqshy/saqshy/gateway/alert/outbox"
)

// TLS modes of the SMTP connection.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded with STARTTLS (mandatory), port 587
	SMTPTLS      = "tls"      // implicit TLS, port 465
	SMTPNone     = "none"     // no encryption (a relay on the same host only)
)

// Email sends notifications over SMTP.
type Email struct {
	Host     string
	Port     int
	TLS      string // SMTPStartTLS (default), SMTPTLS or SMTPNone
	Username string // "" for no authentication
	Password string
	// PasswordFunc, when set, replaces Password and is asked at every send.
	PasswordFunc func() (string, error)
	From         string
	// TLSConfig, when set, replaces the default (server name = Host, system roots).
	TLSConfig *tls.Config
	Timeout   time.Duration // default 30 s
}

// Send implements outbox.Sender.
func (e *Email) Send(ctx context.Context, n *outbox.Notification) error {
	m := mail.NewMsg()
	if err := m.From(e.From); err != nil {
		return fmt.Errorf("email: from %q: %w", e.From, err)
	}
	if err := m.To(n.To); err != nil {
		return fmt.Errorf("email: to %q: %w", n.To, err)
	}
	m.Subject(n.Subject)
	m.SetBodyString(mail.TypeTextPlain, n.Text)
	m.SetGenHeader("X-Saqshy-Alert", n.AlertID)
	m.SetMessageIDWithValue(n.ID + "@saqshy")
	c, err := e.client(true)
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("email to %s via %s:%d: %w", n.To, e.Host, e.Port, err)
	}
	return nil
}

// client returns a mail client for the server, logging in when auth and a
// Username are set.
func (e *Email) client(auth bool) (*mail.Client, error) {
	timeout := e.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	opts := []mail.Option{mail.WithPort(e.Port), mail.WithTimeout(timeout)}
	tc := e.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: e.Host, MinVersion: tls.VersionTLS12}
	}
	switch e.TLS {
	case SMTPTLS:
		opts = append(opts, mail.WithSSL(), mail.WithTLSConfig(tc))
	case SMTPNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(tc))
	}
	if auth && e.Username != "" {
		pass := e.Password
		if e.PasswordFunc != nil {
			var err error
			if pass, err = e.PasswordFunc(); err != nil {
				return nil, fmt.Errorf("email: smtp password: %w", err)
			}
		}
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(e.Username), mail.WithPassword(pass))
	}
	c, err := mail.NewClient(e.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	return c, nil
}

// Probe connects to the server as Send would — TLS or STARTTLS as configured,
// and the login when auth is set and a Username is given — and hangs up without
// sending anything (doctor).
func (e *Email) Probe(ctx context.Context, auth bool) error {
	c, err := e.client(auth)
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("smtp %s:%d: %w", e.Host, e.Port, err)
	}
	return c.Close()
}

var _ outbox.Sender = (*Email)(nil)
