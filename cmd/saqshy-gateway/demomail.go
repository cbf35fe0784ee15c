//go:build !nodemo

package main

import (
	"bufio"
	"fmt"
	"io"
	"mime"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/saqshy/saqshy/gateway/config"
)

// demoMailbox is the demo's mail server on loopback: the alerts e-mailed to the
// ministry's duty officer arrive here and are printed, one line each, so that the
// demo shows the e-mail channel working instead of warning that it is off.
type demoMailbox struct {
	srv *smtp.Server
	out io.Writer
}

// startMailbox serves SMTP (no TLS, no login: loopback only) on a free port and
// points cfg's alerts at it.
func startMailbox(cfg *config.Config, out io.Writer) (*demoMailbox, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo mailbox: %w", err)
	}
	mb := &demoMailbox{out: out}
	mb.srv = smtp.NewServer(mb)
	mb.srv.Domain = "localhost"
	mb.srv.ReadTimeout, mb.srv.WriteTimeout = 30*time.Second, 30*time.Second
	go func() { _ = mb.srv.Serve(ln) }()
	a := ln.Addr().(*net.TCPAddr)
	cfg.Alerts.SMTP = config.AlertSMTP{Host: a.IP.String(), Port: a.Port, TLS: "none", From: "Saqshy demo <saqshy@demo.example>"}
	return mb, nil
}

// Close stops the server.
func (mb *demoMailbox) Close() { _ = mb.srv.Close() }

// NewSession implements smtp.Backend.
func (mb *demoMailbox) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &mailSession{mb: mb}, nil
}

type mailSession struct {
	mb *demoMailbox
	to []string
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

// Data prints the message's recipients and subject.
func (s *mailSession) Data(r io.Reader) error {
	h, err := textproto.NewReader(bufio.NewReader(r)).ReadMIMEHeader()
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		subject = h.Get("Subject")
	}
	fmt.Fprintf(s.mb.out, "demo: e-mail to %s: %s\n", strings.Join(s.to, ", "), subject)
	return nil
}

func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }
