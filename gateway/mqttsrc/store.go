package mqttsrc

import (
	"strings"
	"sync"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// inboundStore is the session store the source gives paho: a map that keeps only
// the inbound packets of QoS 2 flows (PUBREL; the gateway subscribes at QoS 1).
//
// Outbound packets are not kept. paho's resume re-sends stored publishes on every
// reconnect of a persistent session: it sets the stored packet's DUP flag while the
// previous connection's writer may still be writing that same packet (a data race),
// and claims its id again, completing the old token while another goroutine may
// complete it too ("close of closed channel" in messageIds.claimID, which takes the
// gateway down). Reproduced by TestPublishAcrossReconnects. Without outbound entries
// there is nothing to resume: a publish cut by a disconnect is not acknowledged, and
// its caller (which waits for the acknowledgement, bounded by its context) tries
// again. Its token is never completed and its packet id stays claimed until the
// client is replaced; at most the publishes in flight at each disconnect.
//
// Inbound PUBLISH packets are not kept either: paho stores each one received and
// deletes it when it is acknowledged, and its resume discards any left, so the copy
// served nothing — the broker sends an unacknowledged QoS 1 message again — and cost
// a map entry, a lock and two log calls per message (paho's memory store). Nothing is
// logged here: a missing key is the normal case.
type inboundStore struct {
	mu sync.Mutex
	m  map[string]packets.ControlPacket
}

func newInboundStore() *inboundStore {
	return &inboundStore{m: map[string]packets.ControlPacket{}}
}

const outboundKeyPrefix = "o." // paho's store key prefix for outbound packets

// keeps reports whether the store keeps packet p under key.
func keeps(key string, p packets.ControlPacket) bool {
	if strings.HasPrefix(key, outboundKeyPrefix) {
		return false
	}
	_, publish := p.(*packets.PublishPacket)
	return !publish
}

// Open implements mqtt.Store.
func (s *inboundStore) Open() {}

// Close implements mqtt.Store.
func (s *inboundStore) Close() {}

// Put implements mqtt.Store.
func (s *inboundStore) Put(key string, p packets.ControlPacket) {
	if !keeps(key, p) {
		return
	}
	s.mu.Lock()
	s.m[key] = p
	s.mu.Unlock()
}

// Get implements mqtt.Store.
func (s *inboundStore) Get(key string) packets.ControlPacket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}

// All implements mqtt.Store.
func (s *inboundStore) All() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	return keys
}

// Del implements mqtt.Store.
func (s *inboundStore) Del(key string) {
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
}

// Reset implements mqtt.Store.
func (s *inboundStore) Reset() {
	s.mu.Lock()
	clear(s.m)
	s.mu.Unlock()
}

var _ mqtt.Store = (*inboundStore)(nil)
