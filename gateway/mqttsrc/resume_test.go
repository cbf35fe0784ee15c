package mqttsrc

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// cutProxy forwards loopback TCP connections to a real broker and can cut them all
// at once: a connection lost under the client's feet, as a flaky Wi-Fi or a broker
// restart does, many times a second if need be.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(b, c); b.Close() }()
			go func() { _, _ = io.Copy(c, b); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) url() string { return "tcp://" + p.ln.Addr().String() }

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestOwnPublishesAcrossReconnects is issue 18 item 6: paho v1.5.1 panicked with
// "close of closed channel" in messageIds.claimID called from client.resume, with a
// data race beside it. The trigger: on a persistent session paho sets the status to
// connected and starts the comms workers before resume snapshots its store; a QoS 1
// publish of the gateway's own (heartbeat, status, alerts, score) issued in that
// window is both written by the caller's Publish and resumed — resume marks the same
// packet DUP while the writer encodes it (the race) and claims its id, completing the
// caller's token while the PUBACK completes it too (the double close). Run with
// -race: publishers hammer the source while the connection is cut again and again.
func TestOwnPublishesAcrossReconnects(t *testing.T) {
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	brokerAddr := m.URL()[len("tcp://"):]
	p := startCutProxy(t, brokerAddr)
	c := &collector{}
	s, stop := start(t, Options{URL: p.url(), ClientID: "gw-resume", Topics: []string{"sensors/#"},
		MaxReconnect: 50 * time.Millisecond, ConnectTimeout: 2 * time.Second,
		HeartbeatTopic: "saqshy/c1/gateway/heartbeat", Heartbeat: 5 * time.Millisecond,
		StatusTopic: "saqshy/c1/gateway/status"}, c.handle)
	defer stop()

	ctx, cancel := context.WithCancel(t.Context())
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
				err := s.Publish(pctx, fmt.Sprintf("saqshy/c1/test/%d", g), false, []byte(fmt.Sprint(i)))
				pcancel()
				if err == nil {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	cuts := 0
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline); cuts++ {
		time.Sleep(40 * time.Millisecond)
		p.cut()
	}
	cancel()
	wg.Wait()
	// Once the connection holds, the gateway's publishes go through again (a try
	// can meet a reconnection in progress: those fail at once or time out).
	waitFor(t, "a publish acknowledged after the last cut", func() bool {
		pctx, pcancel := context.WithTimeout(t.Context(), time.Second)
		defer pcancel()
		return s.Publish(pctx, "saqshy/c1/test/final", false, []byte("x")) == nil
	})
	st := s.Stats()
	t.Logf("%d cuts, %d connects, %d publishes acknowledged, %d failed or timed out", cuts, st.Connects, ok.Load(), failed.Load())
	if ok.Load() == 0 || st.Connects < 10 {
		t.Errorf("the test did not exercise reconnects under publishing: %d connects, %d publishes", st.Connects, ok.Load())
	}
}

// The store keeps no own publish for paho to resume, keeps everything else, and asks
// for a new client once more than maxOrphans own publishes were left unacknowledged.
func TestOwnStore(t *testing.T) {
	replaced := 0
	s := newOwnStore(func() { replaced++ })
	s.Open()
	pub := func(id uint16) *packets.PublishPacket {
		p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
		p.Qos, p.MessageID, p.TopicName = 1, id, "saqshy/c1/gateway/heartbeat"
		return p
	}
	in := pub(7)
	s.Put("i.7", in) // an incoming reading: kept
	for id := uint16(1); id <= maxOrphans; id++ {
		s.Put(fmt.Sprintf("o.%d", id), pub(id))
	}
	if keys := s.All(); len(keys) != 1 || keys[0] != "i.7" || replaced != 0 {
		t.Fatalf("All = %v (replaced %d), want only the incoming packet", keys, replaced)
	}
	s.Del("o.1") // its PUBACK
	s.Put("o.2000", pub(2000))
	s.Put("o.2001", pub(2001))
	s.All()
	if replaced != 1 {
		t.Fatalf("%d orphans: replaced %d times, want once", maxOrphans+1, replaced)
	}
	s.All()
	if replaced != 1 {
		t.Fatalf("after the replacement the count starts afresh: replaced %d", replaced)
	}
}
