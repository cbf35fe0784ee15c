package monitor

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Message is what the monitor tells the outside world: a central alert (a silent
// gateway) raised or resolved, or the daily report.
type Message struct {
	Type     string    `json:"type"`               // "silent_gateway" or "daily_report"
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

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the request body under
// the shared secret; TimestampHeader the Unix time it was signed (also in the body).
const (
	SignatureHeader = "X-Saqshy-Signature"
	TimestampHeader = "X-Saqshy-Timestamp"
)

// Webhook POSTs messages as JSON, signed with HMAC-SHA256.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client // default: 10 s timeout
}

// Sign returns the signature header value of body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether sig is body's signature under secret.
func VerifySignature(secret, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(sig))
}

// Notify implements Notifier.
func (w *Webhook) Notify(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(w.Secret, body))
	req.Header.Set(TimestampHeader, strconv.FormatInt(m.At.Unix(), 10))
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: %s answered %s", w.URL, resp.Status)
	}
	return nil
}

// nopNotifier drops messages (no channel configured); incidents are still shown.
type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, Message) error { return nil }
