package mqttsrc

import (
	"strings"
	"sync"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// maxOrphans bounds the own publishes left unacknowledged by lost connections
// before the client is replaced (see ownStore).
const maxOrphans = 1024

// ownStore is the paho client's store. It keeps what paho keeps except the
// gateway's own outgoing PUBLISH packets, so that paho never resumes them.
//
// Why (issue 18, item 6): on a persistent session paho v1.5.1 marks the connection
// up and starts its comms workers before resume snapshots the store. A QoS 1 publish
// of the gateway's own (heartbeat, status, alerts, score) issued in that window is
// both written by the caller's Publish and resumed from the store: resume sets DUP
// on the very packet the writer is encoding (a data race) and claims its id,
// completing the caller's token while the PUBACK completes it too ("close of closed
// channel" in messageIds.claimID). v1.5.1 is the newest version the module proxy
// serves. The gateway needs no resume of its own publishes: the heartbeat and status
// are sent again on every connect and every minute, the score every minute, and the
// alert outbox retries a publish that did not complete.
//
// What paho then cannot do: a publish unacknowledged when the connection drops keeps
// its packet identifier and its token forever (paho frees them only on a clean
// session or when it resends). The store counts those orphans (own publishes put and
// not deleted by their PUBACK) and, once more than maxOrphans are outstanding when a
// connection resumes, calls replace: the source then starts a new client, with all
// identifiers free. Incoming packets (the readings) are stored as paho stores them.
type ownStore struct {
	mqtt.Store
	replace func()

	mu  sync.Mutex
	own map[string]struct{} // outbound PUBLISH keys put and not yet deleted
}

func newOwnStore(replace func()) *ownStore {
	return &ownStore{Store: mqtt.NewMemoryStore(), replace: replace, own: map[string]struct{}{}}
}

// Put keeps every packet but the gateway's own outgoing publishes.
func (s *ownStore) Put(key string, m packets.ControlPacket) {
	if _, ok := m.(*packets.PublishPacket); ok && strings.HasPrefix(key, "o.") {
		s.mu.Lock()
		s.own[key] = struct{}{}
		s.mu.Unlock()
		return
	}
	s.Store.Put(key, m)
}

// Del forgets the key: a PUBACK for an own publish, or a stored packet.
func (s *ownStore) Del(key string) {
	s.mu.Lock()
	delete(s.own, key)
	s.mu.Unlock()
	s.Store.Del(key)
}

// All is called by paho when a connection comes up (resume): it lists the stored
// packets, none of them an own publish, and counts the orphans.
func (s *ownStore) All() []string {
	s.mu.Lock()
	orphans := len(s.own)
	if orphans > maxOrphans {
		clear(s.own)
	}
	s.mu.Unlock()
	if orphans > maxOrphans && s.replace != nil {
		s.replace()
	}
	return s.Store.All()
}

// Reset clears the store.
func (s *ownStore) Reset() {
	s.mu.Lock()
	clear(s.own)
	s.mu.Unlock()
	s.Store.Reset()
}
