// Package listen is a short-lived MQTT listener for the technician's commands
// (doctor, discover): a clean-session paho client with a one-off client id that
// subscribes to some filters and hands every message to a callback. It never uses
// the gateway's client id, so it does not disturb the gateway's persistent session.
package listen

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Options say how to reach the broker.
type Options struct {
	URL, Username, Password string
	// CAFile, CertFile, KeyFile: PEM files for TLS, as in the centre config.
	CAFile, CertFile, KeyFile string
	// ClientPrefix starts the one-off client id (default "saqshy-listen").
	ClientPrefix string
	// Timeout bounds connecting and subscribing (default 10s).
	Timeout time.Duration
	// Handle is called once for every message, from paho's goroutines
	// (concurrently): it must be quick and safe for concurrent use. Retained
	// messages arrive first after a subscription, flagged.
	Handle func(Message)
}

// Message is one received message.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
	Received time.Time
}

// Errors a caller can tell apart with errors.Is.
var (
	// ErrRefused means the broker answered but refused the credentials (CONNACK 4 or 5).
	ErrRefused = errors.New("the broker refused the user name or password")
	// ErrUnreachable means no MQTT broker answered at the URL.
	ErrUnreachable = errors.New("no MQTT broker answered")
	// ErrSubscribe means the broker refused a subscription (an ACL, usually).
	ErrSubscribe = errors.New("the broker refused the subscription")
)

// Conn is a connected listener.
type Conn struct {
	c       mqtt.Client
	timeout time.Duration
}

// Dial connects to the broker. Errors wrap ErrRefused or ErrUnreachable when the
// cause is known.
func Dial(ctx context.Context, o Options) (*Conn, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.ClientPrefix == "" {
		o.ClientPrefix = "saqshy-listen"
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	opts := mqtt.NewClientOptions().AddBroker(o.URL).
		SetClientID(o.ClientPrefix + "-" + hex.EncodeToString(id[:])).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(o.Timeout).SetOrderMatters(false).SetKeepAlive(30 * time.Second)
	if o.Handle != nil {
		// One handler for every subscription: paho calls a subscription's own
		// callback once per matching filter, so overlapping filters would repeat a
		// message; the default handler sees each message once.
		handle := o.Handle
		opts.SetDefaultPublishHandler(func(_ mqtt.Client, msg mqtt.Message) {
			handle(Message{Topic: msg.Topic(), Payload: msg.Payload(), Retained: msg.Retained(), Received: time.Now()})
		})
	}
	if o.Username != "" {
		opts.SetUsername(o.Username)
		opts.SetPassword(o.Password)
	}
	if o.CAFile != "" || o.CertFile != "" {
		t, err := tlsConfig(o)
		if err != nil {
			return nil, err
		}
		opts.SetTLSConfig(t)
	}
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(o.Timeout + time.Second):
		return nil, fmt.Errorf("connect %s: %w within %s", o.URL, ErrUnreachable, o.Timeout)
	}
	if err := tok.Error(); err != nil {
		if errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) || errors.Is(err, packets.ErrorRefusedNotAuthorised) {
			return nil, fmt.Errorf("connect %s: %w (%w)", o.URL, ErrRefused, err)
		}
		return nil, fmt.Errorf("connect %s: %w: %w", o.URL, ErrUnreachable, err)
	}
	return &Conn{c: c, timeout: o.Timeout}, nil
}

func tlsConfig(o Options) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt.ca_file %s: no PEM certificates", o.CAFile)
		}
		t.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt.cert_file/key_file: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// Subscribe subscribes to filters at QoS 0; messages go to Options.Handle.
func (c *Conn) Subscribe(ctx context.Context, filters []string) error {
	if len(filters) == 0 {
		return nil
	}
	m := make(map[string]byte, len(filters))
	for _, f := range filters {
		m[f] = 0
	}
	tok := c.c.SubscribeMultiple(m, nil)
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(c.timeout):
		return fmt.Errorf("subscribe: no answer within %s", c.timeout)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code == 0x80 {
				return fmt.Errorf("%w to %q (check the broker's ACL for this user)", ErrSubscribe, f)
			}
		}
	}
	return nil
}

// Close disconnects.
func (c *Conn) Close() { c.c.Disconnect(100) }

// Publish sends payload to topic at QoS 1 and waits for the broker's acknowledgement.
func (c *Conn) Publish(ctx context.Context, topic string, payload []byte) error {
	tok := c.c.Publish(topic, 1, false, payload)
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(c.timeout):
		return fmt.Errorf("publish %s: no acknowledgement within %s", topic, c.timeout)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}
