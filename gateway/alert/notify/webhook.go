package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/saqshy/saqshy/gateway/alert/outbox"
)

// SignatureHeader carries the webhook body's HMAC-SHA256 as "sha256=<hex>";
// TimestampHeader the Unix time the request was signed.
const (
	SignatureHeader = "X-Saqshy-Signature"
	TimestampHeader = "X-Saqshy-Timestamp"
)

// Webhook POSTs each notification's JSON body to a URL, signed with a secret.
type Webhook struct {
	URL    string
	Secret []byte
	// SecretFunc, when set, replaces Secret and is asked at every send.
	SecretFunc func() (string, error)
	Client     *http.Client // default: 10 s timeout
}

// Sign returns the signature header value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's signature under secret (for receivers).
func Verify(secret, body []byte, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(Sign(secret, body)))
}

// Send implements outbox.Sender: a 2xx answer is a delivery.
func (w *Webhook) Send(ctx context.Context, n *outbox.Notification) error {
	secret := w.Secret
	if w.SecretFunc != nil {
		s, err := w.SecretFunc()
		if err != nil {
			return fmt.Errorf("webhook: signing secret: %w", err)
		}
		secret = []byte(s)
	}
	resp, msg, err := PostSigned(ctx, w.Client, w.URL, secret, n.Body, time.Now(), n.ID)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("webhook: %s: %s", resp.Status, bytes.TrimSpace(msg))
		if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			return outbox.Permanent(err) // the receiver refuses this request for good
		}
		return err
	}
	return nil
}

// PostSigned POSTs the JSON body to url, signed under secret (SignatureHeader)
// and stamped with at (TimestampHeader); delivery, when not empty, names the
// delivery (X-Saqshy-Delivery). client nil means one with a 10 s timeout. It
// returns the answer, its body already closed, and the first 512 bytes of that
// body; any status is the caller's to judge.
func PostSigned(ctx context.Context, client *http.Client, url string, secret, body []byte, at time.Time, delivery string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(secret, body))
	if delivery != "" {
		req.Header.Set("X-Saqshy-Delivery", delivery)
	}
	req.Header.Set(TimestampHeader, strconv.FormatInt(at.Unix(), 10))
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp, msg, nil
}

var _ outbox.Sender = (*Webhook)(nil)
