package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/saqshy/saqshy/gateway/alert/outbox"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/internal/tgtest"
)

// mailbox is an in-process SMTP server (emersion/go-smtp) on loopback that
// requires TLS and PLAIN authentication.
type mailbox struct {
	mu   sync.Mutex
	msgs []mailMsg
}

type mailMsg struct {
	From string
	To   []string
	Data string
	TLS  bool
}

type session struct {
	mb   *mailbox
	conn *smtp.Conn
	auth bool
	msg  mailMsg
}

func (mb *mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{mb: mb, conn: c}, nil
}
func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "saqshy" || pass != "mail-pass" {
			return errors.New("invalid credentials")
		}
		s.auth = true
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.auth {
		return smtp.ErrAuthRequired
	}
	s.msg.From = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.msg.TLS = s.conn.TLSConnectionState()
	s.msg.Data = string(b)
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, s.msg)
	s.mb.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.msg = mailMsg{} }
func (s *session) Logout() error { return nil }

func (mb *mailbox) list() []mailMsg {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]mailMsg(nil), mb.msgs...)
}

// serve starts the server on addr (STARTTLS, or implicit TLS); it stops at the
// end of the test or when stop is called.
func (mb *mailbox) serve(t *testing.T, addr string, cert tls.Certificate, implicit bool) (stop func()) {
	t.Helper()
	s := smtp.NewServer(mb)
	s.Addr, s.Domain = addr, "localhost"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	var l net.Listener
	var err error
	if implicit {
		l, err = tls.Listen("tcp", addr, s.TLSConfig)
	} else {
		l, err = net.Listen("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	var once sync.Once
	stop = func() { once.Do(func() { s.Close() }) }
	t.Cleanup(stop)
	return stop
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func emailSender(addr string, pool *x509.CertPool, mode string) *Email {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return &Email{Host: host, Port: p, TLS: mode, Username: "saqshy", Password: "mail-pass", From: "Saqshy <saqshy@centre.example.org>",
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: host}, Timeout: 5 * time.Second}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// The mail server is down for ten minutes (and the gateway restarts meanwhile):
// the e-mail waits in the outbox, is retried with backoff, and is delivered once
// when the server is back.
func TestSMTPDownTenMinutesThenDelivered(t *testing.T) {
	cert, pool := testenv.LoopbackCert(t)
	addr := freeAddr(t) // nothing listens yet
	clk := &clock{t: time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	senders := map[string]outbox.Sender{"email": emailSender(addr, pool, SMTPStartTLS)}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	ob, err := outbox.Open(filepath.Join(dir, "outbox"), senders, outbox.Options{Now: clk.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	err = ob.Enqueue(outbox.Notification{ID: "1/critical/Director/email", Channel: "email", To: "director@example.org",
		AlertID: "1", Subject: "КРИТИЧНО: Температура выше нормы — Холодильник", Text: "Переложите лекарства в резервный холодильник."})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := clk.Now()
	for clk.Now().Sub(start) < 10*time.Minute {
		if n := ob.Flush(ctx, "email", clk.Now()); n != 0 {
			t.Fatal("delivered with no server")
		}
		clk.Add(30 * time.Second)
		if clk.Now().Sub(start) == 5*time.Minute { // the gateway restarts
			ob.Close()
			if ob, err = outbox.Open(filepath.Join(dir, "outbox"), senders, outbox.Options{Now: clk.Now, Logger: log}); err != nil {
				t.Fatal(err)
			}
		}
	}
	st := ob.Stats()
	if st.Failures["email"] < 3 || st.Pending["email"] != 1 || st.LastError["email"] == "" {
		t.Fatalf("after 10 min down: %+v", st)
	}
	mb := &mailbox{}
	mb.serve(t, addr, cert, false)
	delivered := 0
	for i := 0; i < 12; i++ { // backoff is at most 5 min
		delivered += ob.Flush(ctx, "email", clk.Now())
		clk.Add(30 * time.Second)
	}
	msgs := mb.list()
	if delivered != 1 || len(msgs) != 1 {
		t.Fatalf("delivered %d, server has %d messages", delivered, len(msgs))
	}
	m := msgs[0]
	if m.From != "saqshy@centre.example.org" || len(m.To) != 1 || m.To[0] != "director@example.org" || !m.TLS {
		t.Errorf("envelope %+v", m)
	}
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if msg.Header.Get("X-Saqshy-Alert") != "1" || subject != "КРИТИЧНО: Температура выше нормы — Холодильник" ||
		strings.TrimSpace(string(body)) != "Переложите лекарства в резервный холодильник." {
		t.Errorf("message: subject %q body %q\n%s", subject, body, m.Data)
	}
	// Enqueued again (a replayed engine state): not sent twice.
	_ = ob.Enqueue(outbox.Notification{ID: "1/critical/Director/email", Channel: "email", To: "director@example.org", Subject: "x", Text: "x"})
	ob.Flush(ctx, "email", clk.Now().Add(time.Hour))
	if len(mb.list()) != 1 || ob.Stats().Duplicates["email"] != 1 {
		t.Errorf("sent twice: %d messages, stats %+v", len(mb.list()), ob.Stats())
	}
	ob.Close()
}

func TestSMTPImplicitTLSAndBadPassword(t *testing.T) {
	cert, pool := testenv.LoopbackCert(t)
	addr := freeAddr(t)
	mb := &mailbox{}
	mb.serve(t, addr, cert, true)
	e := emailSender(addr, pool, SMTPTLS)
	n := &outbox.Notification{ID: "x", To: "nurse@example.org", AlertID: "2", Subject: "Ескерту", Text: "Батареяны ауыстырыңыз."}
	if err := e.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if l := mb.list(); len(l) != 1 || !l[0].TLS {
		t.Fatalf("messages %+v", l)
	}
	e.Password = "wrong"
	if err := e.Send(context.Background(), n); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad password: %v (must fail and not print the password)", err)
	}
	e.TLSConfig = nil // the system roots do not trust the test certificate
	e.Password = "mail-pass"
	if err := e.Send(context.Background(), n); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
	bad := &Email{Host: "127.0.0.1", Port: 1, From: "not an address"}
	if err := bad.Send(context.Background(), n); err == nil || !strings.Contains(err.Error(), "from") {
		t.Errorf("bad from: %v", err)
	}
}

func TestWebhookSignedAndErrors(t *testing.T) {
	secret := []byte("k")
	var got [][]byte
	var mu sync.Mutex
	code := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if !Verify(secret, body, r.Header.Get(SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Saqshy-Delivery") == "" {
			http.Error(w, "headers", http.StatusBadRequest)
			return
		}
		got = append(got, body)
		w.WriteHeader(code)
	}))
	defer srv.Close()
	n := &outbox.Notification{ID: "1/firing-critical/webhook", Body: []byte(`{"id":"1","state":"firing"}`)}
	w := &Webhook{URL: srv.URL, Secret: secret}
	if err := w.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0], n.Body) {
		t.Fatalf("received %q", got)
	}
	if err := (&Webhook{URL: srv.URL, Secret: []byte("other")}).Send(context.Background(), n); err == nil || !strings.Contains(err.Error(), "401") || !outbox.IsPermanent(err) {
		t.Errorf("wrong secret: %v (permanent %v)", err, outbox.IsPermanent(err))
	}
	for _, c := range []int{http.StatusServiceUnavailable, http.StatusRequestTimeout, http.StatusTooManyRequests} {
		code = c
		if err := w.Send(context.Background(), n); err == nil || !strings.Contains(err.Error(), strconv.Itoa(c)) || outbox.IsPermanent(err) {
			t.Errorf("%d: %v (permanent %v)", c, err, outbox.IsPermanent(err))
		}
	}
	if Verify(secret, n.Body, "sha256=00") || Verify(secret, n.Body, "") {
		t.Error("Verify accepted a wrong signature")
	}
}

func TestTelegramSendErrors(t *testing.T) {
	tg := tgtest.Start(t, "9:TOKEN")
	c := &Telegram{BaseURL: tg.URL, Token: "9:TOKEN"}
	n := &outbox.Notification{To: "101", Text: "hi", Button: "Ack", AlertID: "5"}
	if err := c.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if s := tg.Sent(); len(s) != 1 || s[0].Callback != "ack:5" || s[0].ChatID != "101" {
		t.Fatalf("sent %+v", s)
	}
	var ae *APIError
	if err := c.Send(context.Background(), &outbox.Notification{To: "101"}); !errors.As(err, &ae) || ae.Code != 400 || !outbox.IsPermanent(err) {
		t.Errorf("empty text: %v (permanent %v)", err, outbox.IsPermanent(err))
	}
	wrong := &Telegram{BaseURL: tg.URL, Token: "9:WRONG"}
	if err := wrong.Send(context.Background(), n); !errors.As(err, &ae) || ae.Code != 401 || strings.Contains(err.Error(), "WRONG") || outbox.IsPermanent(err) {
		t.Errorf("wrong token: %v (a fixable token is no permanent refusal)", err)
	}
	tg.SetDown(true)
	if err := c.Send(context.Background(), n); err == nil || strings.Contains(err.Error(), "TOKEN") {
		t.Errorf("down: %v (must fail without printing the token)", err)
	}
	dead := &Telegram{BaseURL: "http://" + freeAddr(t), Token: "9:TOKEN"}
	if err := dead.Send(context.Background(), n); err == nil || strings.Contains(err.Error(), "TOKEN") {
		t.Errorf("unreachable: %v (must fail without printing the token)", err)
	}
}

func TestParseUpdates(t *testing.T) {
	acks, next, err := ParseUpdates([]byte(`[
	 {"update_id": 10, "message": {"text": "hello"}},
	 {"update_id": 11, "callback_query": {"id": "q1", "data": "ack:7", "from": {"id": 5, "first_name": "Айгерим"}, "message": {"chat": {"id": -100123}}}},
	 {"update_id": 12, "callback_query": {"id": "q2", "data": "other", "from": {"id": 5}}},
	 {"update_id": 13, "callback_query": {"id": "q3", "data": "ack:8", "from": {"id": 6, "username": "nurse"}}}
	]`))
	if err != nil || next != 14 || len(acks) != 2 {
		t.Fatalf("%+v %d %v", acks, next, err)
	}
	if acks[0] != (Ack{AlertID: "7", By: "Айгерим", ChatID: "-100123", CallbackID: "q1"}) || acks[1].By != "@nurse" || acks[1].ChatID != "" {
		t.Errorf("acks %+v", acks)
	}
	for _, bad := range []string{``, `{}`, `[{"update_id": -1}]`, `[{"update_id": "x"}]`, `null garbage`} {
		if _, _, err := ParseUpdates([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseUpdates(f *testing.F) {
	f.Add([]byte(`[{"update_id": 11, "callback_query": {"id": "q1", "data": "ack:7", "from": {"id": 5, "first_name": "A"}, "message": {"chat": {"id": 1}}}}]`))
	f.Add([]byte(`[{"update_id": 1, "message": {}}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		acks, next, err := ParseUpdates(data)
		if err != nil {
			if len(acks) != 0 || next != 0 {
				t.Fatalf("results with an error")
			}
			return
		}
		if next < 0 {
			t.Fatalf("negative offset %d", next)
		}
		for _, a := range acks {
			if a.AlertID == "" || len(a.AlertID) > 64 || a.By == "" {
				t.Fatalf("bad ack %+v", a)
			}
		}
	})
}
