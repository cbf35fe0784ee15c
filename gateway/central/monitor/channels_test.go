package monitor

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/saqshy/saqshy/gateway/central/jobs"
	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/influxsink"
)

// mailbox is an in-process SMTP server (emersion/go-smtp) on loopback.
type mailbox struct {
	mu   sync.Mutex
	msgs []string // "to|data"
}

type mailSession struct {
	mb *mailbox
	to []string
}

func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{mb: mb}, nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error     { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	for _, to := range s.to {
		s.mb.msgs = append(s.mb.msgs, to+"|"+string(b))
	}
	return nil
}
func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }

func (mb *mailbox) list() []string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]string(nil), mb.msgs...)
}

// TestSilentGatewayEmailTelegram: a silenced gateway raises exactly one central alert
// per e-mail address and Telegram chat, a failing chat is retried without mailing
// again, and the resolution reaches each recipient once.
func TestSilentGatewayEmailTelegram(t *testing.T) {
	e := newEnv(t)
	mb := &mailbox{}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	var (
		mu      sync.Mutex
		tgSent  []string // "chat|text"
		tgFail  = true
		badPath int
	)
	tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/bot7:TOKEN/sendMessage" {
			badPath++
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
			return
		}
		if tgFail {
			tgFail = false
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`)
			return
		}
		var m struct {
			ChatID string `json:"chat_id"`
			Text   string `json:"text"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("sendMessage body: %v", err)
		}
		tgSent = append(tgSent, m.ChatID+"|"+m.Text)
		io.WriteString(w, `{"ok":true,"result":{"message_id":1}}`)
	}))
	defer tg.Close()
	sent := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), tgSent...) }

	port := l.Addr().(*net.TCPAddr).Port
	cfg := &Config{}
	cfg.Notify.Email.Host, cfg.Notify.Email.Port, cfg.Notify.Email.TLS = "127.0.0.1", port, "none"
	cfg.Notify.Email.From, cfg.Notify.Email.To = "monitor@example.kz", []string{"duty@example.kz", "head@example.kz"}
	cfg.Notify.Telegram.BaseURL, cfg.Notify.Telegram.ChatIDs = tg.URL, []string{"-1001"}
	cfg.telegramToken = "7:TOKEN"
	ch := cfg.channels()
	if ch == nil || ch.Email == nil || ch.Telegram == nil || ch.Webhook != nil {
		t.Fatalf("channels from the config: %+v", ch)
	}

	client := influxsink.NewClient(e.in.URL(), "", "", e.in.Bucket(), 10*time.Second)
	defer client.Close()
	real := time.Now()
	beat := func(at time.Time) {
		t.Helper()
		if err := client.WriteRecord(context.Background(), "gateway,centre=hush uptime_s=5i "+strconv.FormatInt(at.UnixNano(), 10)); err != nil {
			t.Fatal(err)
		}
	}
	beat(real.Add(-40 * time.Minute))
	clock := real.Add(-39 * time.Minute)
	now := func() time.Time { return clock }
	centres := []store.CentreInfo{{ID: "hush", Name: "Hush centre", Region: "Abai"}}
	w, err := jobs.NewWatcher(e.app.Store, ch, centres, 10*time.Minute, t.TempDir(), slog.New(slog.DiscardHandler), now)
	if err != nil {
		t.Fatal(err)
	}
	poll := func() {
		t.Helper()
		if err := w.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	poll()
	if len(mb.list()) != 0 || len(sent()) != 0 {
		t.Fatalf("a reporting gateway sent mail %v / telegram %v", mb.list(), sent())
	}
	clock = real.Add(-25 * time.Minute) // silent for 15 min; Telegram fails once
	poll()
	if m := mb.list(); len(m) != 2 || len(sent()) != 0 {
		t.Fatalf("after the first poll: mail %d (want 2), telegram %v (want none: it failed)", len(m), sent())
	}
	clock = clock.Add(time.Minute)
	poll() // the retry: Telegram now, no second mail
	clock = clock.Add(time.Minute)
	poll()
	mails, tgs := mb.list(), sent()
	if len(mails) != 2 || len(tgs) != 1 {
		t.Fatalf("firing: %d mails, %d telegrams; want 2 and 1", len(mails), len(tgs))
	}
	for i, to := range []string{"duty@example.kz", "head@example.kz"} {
		if !strings.HasPrefix(mails[i], to+"|") || !strings.Contains(mails[i], "GATEWAY SILENT: Hush centre (hush, Abai)") {
			t.Errorf("mail %d: %.300s", i, mails[i])
		}
	}
	if !strings.HasPrefix(tgs[0], "-1001|[Saqshy] GATEWAY SILENT: Hush centre") || !strings.Contains(tgs[0], "no heartbeat") {
		t.Errorf("telegram: %q", tgs[0])
	}
	beat(real.Add(-5 * time.Minute))
	clock = real.Add(-4 * time.Minute)
	poll()
	poll()
	mails, tgs = mb.list(), sent()
	if len(mails) != 4 || len(tgs) != 2 {
		t.Fatalf("resolved: %d mails, %d telegrams in all; want 4 and 2", len(mails), len(tgs))
	}
	if !strings.Contains(mails[3], "gateway reports again: Hush centre") || !strings.Contains(tgs[1], "reports again") {
		t.Errorf("resolution messages: %.300s / %q", mails[3], tgs[1])
	}
	if badPath != 0 {
		t.Errorf("%d Bot API calls to a wrong path", badPath)
	}
}
