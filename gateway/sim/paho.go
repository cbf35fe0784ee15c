package sim

import (
	"context"
	"fmt"
	neturl "net/url"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// PahoPublisher publishes through a paho client at QoS 1.
type PahoPublisher struct{ Client mqtt.Client }

// Connect returns a publisher connected to url with the given client id.
func Connect(url, clientID string) (*PahoPublisher, error) {
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(clientID).
		SetAutoReconnect(true).SetConnectRetry(false).SetConnectTimeout(5 * time.Second)
	c := mqtt.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		err := tok.Error()
		if err == nil {
			err = fmt.Errorf("timed out")
		}
		return nil, fmt.Errorf("sim: connect %s: %w", RedactURL(url), err)
	}
	return &PahoPublisher{Client: c}, nil
}

// Publish sends m at QoS 1 and waits for the broker's acknowledgement.
func (p *PahoPublisher) Publish(ctx context.Context, m Message) error {
	tok := p.Client.Publish(m.Topic, 1, m.Retained, m.Payload)
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close disconnects.
func (p *PahoPublisher) Close() { p.Client.Disconnect(250) }

// RedactURL hides the password of a broker URL (tcp://user:secret@host becomes
// tcp://user:xxxxx@host), for banners, logs and errors.
func RedactURL(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			return "xxxxx" + raw[i:]
		}
		return raw
	}
	return u.Redacted()
}
