package notify

import (
	"context"
	"fmt"

	"github.com/saqshy/saqshy/gateway/alert/outbox"
)

// Publisher publishes on the gateway's MQTT connection.
type Publisher interface {
	Publish(ctx context.Context, topic string, retained bool, payload []byte) error
}

// MQTT publishes each notification's body on its topic (To); an empty body on a
// retained topic clears it.
type MQTT struct{ Pub Publisher }

// Send implements outbox.Sender.
func (m MQTT) Send(ctx context.Context, n *outbox.Notification) error {
	if err := m.Pub.Publish(ctx, n.To, n.Retained, n.Body); err != nil {
		return fmt.Errorf("mqtt %s: %w", n.To, err)
	}
	return nil
}

var _ outbox.Sender = MQTT{}
