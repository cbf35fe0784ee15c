package mqttsrc

import (
	"strings"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// inboundStore is paho's memory store without its outbound half: the source's own
// QoS 1 publishes (heartbeat, status, and Publish for alerts, scores and rounds) are
// never kept for paho to send again after a reconnect.
//
// paho's resume re-sends stored publishes on every reconnect of a persistent session:
// it sets the stored packet's DUP flag while the previous connection's writer may
// still be writing that same packet (a data race), and claims its id again,
// completing the old token while another goroutine may complete it too ("close of
// closed channel" in messageIds.claimID, which takes the gateway down). Reproduced by
// TestPublishAcrossReconnects. Without outbound entries there is nothing to resume: a
// publish cut by a disconnect is not acknowledged, and its caller (which waits for the
// acknowledgement, bounded by its context) tries again. Its token is never completed
// and its packet id stays claimed until the client is replaced; at most the publishes
// in flight at each disconnect.
//
// Inbound entries (QoS 2 flows; the gateway subscribes at QoS 1) are kept as before.
type inboundStore struct{ mqtt.Store }

func newInboundStore() inboundStore { return inboundStore{mqtt.NewMemoryStore()} }

const outboundKeyPrefix = "o." // paho's store key prefix for outbound packets

// Put implements mqtt.Store: outbound packets are dropped.
func (s inboundStore) Put(key string, m packets.ControlPacket) {
	if strings.HasPrefix(key, outboundKeyPrefix) {
		return
	}
	s.Store.Put(key, m)
}

// Del implements mqtt.Store; deleting an outbound key is a no-op (the memory store
// would warn that it is missing).
func (s inboundStore) Del(key string) {
	if strings.HasPrefix(key, outboundKeyPrefix) {
		return
	}
	s.Store.Del(key)
}

var _ mqtt.Store = inboundStore{}
