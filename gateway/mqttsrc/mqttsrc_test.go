package mqttsrc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// collector is a Handler that records topics and payloads, optionally failing.
type collector struct {
	mu       sync.Mutex
	got      map[string]int
	retained int
	fail     bool
	calls    int
}

func (c *collector) handle(_ context.Context, msgs []Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail {
		return errors.New("disk full")
	}
	if c.got == nil {
		c.got = map[string]int{}
	}
	for _, m := range msgs {
		c.got[m.Topic+" "+string(m.Payload)]++
		if m.Retained {
			c.retained++
		}
	}
	return nil
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

func publish(t *testing.T, url string, n int, topic string, retained bool) {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("pub-%d", time.Now().UnixNano()))
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	var last mqtt.Token
	for i := range n {
		last = c.Publish(fmt.Sprintf("%s/%d", topic, i%10), 1, retained, fmt.Sprint(i))
	}
	if last != nil && (!last.WaitTimeout(10*time.Second) || last.Error() != nil) {
		t.Fatalf("publish: %v", last.Error())
	}
}

func start(t *testing.T, opt Options, h Handler) (*Source, func()) {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s := New(opt, h)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "connected", func() bool { return s.Connected() })
	return s, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPersistentSessionKeepsMessagesWhileDown(t *testing.T) {
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	c := &collector{}
	opt := Options{URL: m.URL(), ClientID: "gw-persist", Topics: []string{"sensors/#"}}
	_, stop := start(t, opt, c.handle)
	stop()
	publish(t, m.URL(), 500, "sensors", false) // gateway is down
	s, stop := start(t, opt, c.handle)
	waitFor(t, "500 messages", func() bool { return c.count() == 500 })
	stop()
	if st := s.Stats(); st.Acked < 500 {
		t.Fatalf("acked %d, want 500", st.Acked)
	}
}

func TestUnacknowledgedBatchIsRedelivered(t *testing.T) {
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	failing := &collector{fail: true}
	opt := Options{URL: m.URL(), ClientID: "gw-redeliver", Topics: []string{"sensors/#"}}
	s, stop := start(t, opt, failing.handle)
	publish(t, m.URL(), 50, "sensors", false)
	waitFor(t, "a failed handler call", func() bool { return s.Stats().HandlerErrors > 0 })
	stop() // nothing was acknowledged
	if s.Stats().Acked != 0 {
		t.Fatalf("acked %d with a failing handler", s.Stats().Acked)
	}
	ok := &collector{}
	_, stop = start(t, opt, ok.handle)
	waitFor(t, "50 redelivered messages", func() bool { return ok.count() == 50 })
	stop()
}

func TestBrokerRestartResumes(t *testing.T) {
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	c := &collector{}
	s, stop := start(t, Options{URL: m.URL(), ClientID: "gw-restart", Topics: []string{"sensors/#"}, MaxReconnect: time.Second}, c.handle)
	defer stop()
	publish(t, m.URL(), 10, "sensors", false)
	waitFor(t, "10 messages", func() bool { return c.count() == 10 })
	m.Stop()
	waitFor(t, "disconnect noticed", func() bool { return !s.Connected() })
	m.Start()
	waitFor(t, "reconnect", func() bool { return s.Connected() })
	publish(t, m.URL(), 20, "sensors-after", false) // other topic filter: must not arrive
	publish(t, m.URL(), 20, "sensors", false)
	waitFor(t, "messages after restart", func() bool { return c.count() == 20 })
}

func TestRetainedFlagPassedOn(t *testing.T) {
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	publish(t, m.URL(), 10, "esphome", true)
	c := &collector{}
	_, stop := start(t, Options{URL: m.URL(), ClientID: "gw-retained", Topics: []string{"esphome/#"}}, c.handle)
	waitFor(t, "10 retained", func() bool { return c.count() == 10 })
	stop()
	if c.retained != 10 {
		t.Fatalf("retained %d, want 10", c.retained)
	}
}

// TestWatchdogReconnectsSilentConnection: the broker's ACL silently denies the
// heartbeat subscription, so the connection is up but nothing ever arrives — the
// watchdog must notice and reconnect.
func TestWatchdogReconnectsSilentConnection(t *testing.T) {
	dir := t.TempDir()
	acl := filepath.Join(dir, "acl")
	if err := os.WriteFile(acl, []byte("topic write saqshy/#\ntopic read sensors/#\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{Extra: "acl_file " + acl})
	c := &collector{}
	s, stop := start(t, Options{
		URL: m.URL(), ClientID: "gw-watchdog", Topics: []string{"sensors/#"},
		HeartbeatTopic: "saqshy/c1/gateway/heartbeat", Heartbeat: 200 * time.Millisecond,
		SilenceTimeout: time.Second,
	}, c.handle)
	defer stop()
	waitFor(t, "a watchdog reset", func() bool { return s.Stats().WatchdogResets > 0 })
	waitFor(t, "reconnected", func() bool { return s.Connected() && s.Stats().Connects >= 2 })
}

// TestWatchdogQuietWithHeartbeat: with the heartbeat flowing, an idle broker never
// trips the watchdog.
func TestWatchdogQuietWithHeartbeat(t *testing.T) {
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	c := &collector{}
	s, stop := start(t, Options{
		URL: m.URL(), ClientID: "gw-quiet", Topics: []string{"sensors/#"},
		HeartbeatTopic: "saqshy/c1/gateway/heartbeat", Heartbeat: 100 * time.Millisecond,
		SilenceTimeout: 700 * time.Millisecond,
	}, c.handle)
	time.Sleep(2500 * time.Millisecond)
	stop()
	if st := s.Stats(); st.WatchdogResets != 0 || st.Received == 0 {
		t.Fatalf("stats %+v", st)
	}
	if c.count() != 0 {
		t.Fatalf("heartbeats reached the handler: %v", c.got)
	}
}

// TestInboundStoreKeepsOnlyQoS2Flows: the session store keeps a PUBREL of an
// inbound QoS 2 flow until it is deleted, and neither the QoS 1 publishes received
// (paho would store and delete each one) nor any outbound packet.
func TestInboundStoreKeepsOnlyQoS2Flows(t *testing.T) {
	s := newInboundStore()
	pub := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	pub.Qos, pub.MessageID = 1, 7
	s.Put("i.7", pub)
	s.Put("o.8", packets.NewControlPacket(packets.Publish))
	s.Put("o.9", packets.NewControlPacket(packets.Pubrel))
	rel := packets.NewControlPacket(packets.Pubrel)
	s.Put("i.10", rel)
	if got := s.All(); len(got) != 1 || got[0] != "i.10" || s.Get("i.10") != rel {
		t.Fatalf("kept %v", got)
	}
	s.Del("i.7") // acknowledged: was never kept, nothing to say
	s.Del("i.10")
	if got := s.All(); len(got) != 0 {
		t.Fatalf("after Del: %v", got)
	}
	s.Put("i.11", packets.NewControlPacket(packets.Pubrel))
	s.Reset()
	if got := s.All(); len(got) != 0 {
		t.Fatalf("after Reset: %v", got)
	}
}
