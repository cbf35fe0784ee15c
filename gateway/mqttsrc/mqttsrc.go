package mqttsrc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Message is one received MQTT message (defined in telemetry, where the checks that
// read MQTT topics meet it).
type Message = telemetry.Message

// Handler processes a batch of messages. It is called from one goroutine at a time.
// It returns nil once every message it wants kept is durable (or was deliberately
// rejected and counted); the batch is then acknowledged. An error means nothing in the
// batch is durable: the batch is not acknowledged and is offered again after a
// backoff. msgs is reused after the call returns.
type Handler func(ctx context.Context, msgs []Message) error

// Options configure a Source.
type Options struct {
	URL      string // tcp://host:1883, ssl://host:8883, ws://...
	ClientID string // stable across restarts: the persistent session is keyed on it
	Username string
	Password string
	TLS      *tls.Config
	// Topics to subscribe to at QoS 1 (filters may use + and #).
	Topics []string
	// MaxInflight bounds the messages queued for the handler (default 1000); when
	// the queue is full, paho stops reading. Received but unacknowledged messages are
	// at most MaxInflight queued plus the MaxBatch the handler holds.
	MaxInflight int
	// MaxBatch bounds messages per handler call (default MaxInflight).
	MaxBatch       int
	KeepAlive      time.Duration // default 30s
	ConnectTimeout time.Duration // default 10s
	MaxReconnect   time.Duration // reconnect backoff cap; default 30s
	// HeartbeatTopic is where the source publishes its heartbeat and listens for it;
	// "" disables the heartbeat (the watchdog then relies on sensor traffic).
	HeartbeatTopic string
	Heartbeat      time.Duration // heartbeat period; default 60s
	SilenceTimeout time.Duration // watchdog: reconnect after this long with nothing received; default 10m
	// StatusTopic, when set, gets a retained "online" on connect and "offline" as the
	// MQTT last will and on a clean stop.
	StatusTopic string
	Logger      *slog.Logger
	// Now stamps arrivals (default time.Now): the gateway passes its clock so a
	// test with an injected clock sees arrivals in that clock's time.
	Now func() time.Time
}

// Stats are the source's counters.
type Stats struct {
	Received       uint64 // messages received (including heartbeats)
	Acked          uint64
	HandlerErrors  uint64 // failed handler calls (batches offered again)
	Connects       uint64 // successful connections, the first one included
	ConnectionLost uint64
	WatchdogResets uint64 // reconnections forced by the silence watchdog
	Connected      bool
	LastMessage    time.Time
}

// client is the part of paho's mqtt.Client the source uses.
type client interface {
	Connect() mqtt.Token
	Disconnect(quiesce uint)
	IsConnectionOpen() bool
	Subscribe(topic string, qos byte, callback mqtt.MessageHandler) mqtt.Token
	Publish(topic string, qos byte, retained bool, payload any) mqtt.Token
}

// Source is an MQTT subscription feeding a Handler.
type Source struct {
	opt     Options
	handler Handler
	log     *slog.Logger
	queue   chan arrival

	mu     sync.Mutex
	client client

	received, acked, handlerErrors atomic.Uint64
	connects, lost, watchdogResets atomic.Uint64
	lastMessage                    atomic.Int64 // unix nanos
	lastStamp                      atomic.Int64 // unix nanos of the last arrival stamp
	connected                      atomic.Bool
	reconnectNow                   chan struct{}
	stopping                       chan struct{} // closed when Run is stopping
}

// New returns a Source; Run connects it.
func New(opt Options, h Handler) *Source {
	if opt.MaxInflight <= 0 {
		opt.MaxInflight = 1000
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = opt.MaxInflight
	}
	if opt.KeepAlive <= 0 {
		opt.KeepAlive = 30 * time.Second
	}
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = 10 * time.Second
	}
	if opt.MaxReconnect <= 0 {
		opt.MaxReconnect = 30 * time.Second
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = time.Minute
	}
	if opt.SilenceTimeout <= 0 {
		opt.SilenceTimeout = 10 * time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Source{
		opt: opt, handler: h,
		log:          opt.Logger.With("component", "mqttsrc"),
		queue:        make(chan arrival, opt.MaxInflight),
		reconnectNow: make(chan struct{}, 1),
		stopping:     make(chan struct{}),
	}
}

// Stats returns a snapshot of the counters. Safe for concurrent use.
func (s *Source) Stats() Stats {
	st := Stats{
		Received: s.received.Load(), Acked: s.acked.Load(), HandlerErrors: s.handlerErrors.Load(),
		Connects: s.connects.Load(), ConnectionLost: s.lost.Load(), WatchdogResets: s.watchdogResets.Load(),
		Connected: s.connected.Load(),
	}
	if n := s.lastMessage.Load(); n != 0 {
		st.LastMessage = time.Unix(0, n)
	}
	return st
}

// Connected reports whether the client is connected now.
func (s *Source) Connected() bool { return s.connected.Load() }

func (s *Source) clientOptions() *mqtt.ClientOptions {
	o := mqtt.NewClientOptions().
		AddBroker(s.opt.URL).
		SetClientID(s.opt.ClientID).
		SetUsername(s.opt.Username).
		SetPassword(s.opt.Password).
		SetCleanSession(false).
		// We subscribe on every connect ourselves; paho resuming its stored SUBSCRIBE as
		// well made the broker send the retained messages twice.
		SetResumeSubs(false).
		// Order matters: paho then calls onMessage from its one router goroutine, so
		// when the queue is full onMessage blocks paho's reader and the socket, and
		// the broker's TCP send buffer, not the gateway's memory, absorbs a backlog.
		// With false, paho starts a goroutine per message before onMessage runs, so
		// the queue bounds nothing: draining a 200,000-message session from Mosquitto
		// 2.0.11 (which stops enforcing max_inflight_messages once the acks of a
		// resumed session arrive in batches) left up to 57,000 goroutines blocked in
		// onMessage (340 MB RSS), and with more unacknowledged messages than there are
		// packet identifiers (65,535) the broker sends identifiers that are still in
		// flight. See docs/BENCHMARKS.md.
		SetOrderMatters(true).
		SetAutoAckDisabled(true).
		SetKeepAlive(s.opt.KeepAlive).
		SetPingTimeout(10 * time.Second).
		SetConnectTimeout(s.opt.ConnectTimeout).
		SetWriteTimeout(10 * time.Second).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(s.opt.MaxReconnect).
		SetConnectRetry(true).
		SetConnectRetryInterval(min(5*time.Second, s.opt.MaxReconnect)).
		SetMessageChannelDepth(uint(s.opt.MaxInflight)).
		SetDefaultPublishHandler(s.onMessage).
		SetOnConnectHandler(s.onConnect).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			s.connected.Store(false)
			s.lost.Add(1)
			s.log.Warn("mqtt connection lost", "err", err)
		})
	o.SetStore(newOwnStore(s.requestReconnect)) // never resumes our own publishes (store.go)
	if s.opt.TLS != nil {
		o.SetTLSConfig(s.opt.TLS)
	}
	if ownConn(s.opt.URL) {
		o.SetCustomOpenConnectionFn(openConn)
	}
	if s.opt.StatusTopic != "" {
		o.SetWill(s.opt.StatusTopic, "offline", 1, true)
	}
	return o
}

// onMessage runs on paho's router goroutine, one message at a time: it only queues.
// When the queue (MaxInflight) is full it waits, and so does paho's reading of the
// connection: that is the gateway's flow control, whatever the broker's in-flight
// window.
func (s *Source) onMessage(_ mqtt.Client, m mqtt.Message) {
	s.received.Add(1)
	s.lastMessage.Store(time.Now().UnixNano())
	if s.opt.HeartbeatTopic != "" && m.Topic() == s.opt.HeartbeatTopic {
		m.Ack()
		s.acked.Add(1)
		return
	}
	select {
	case s.queue <- arrival{m, s.stamp()}:
	case <-s.stopping: // not acknowledged: the broker delivers it again next time
	}
}

// arrival is a message with the time it arrived.
type arrival struct {
	msg mqtt.Message
	at  time.Time
}

// stamp returns the arrival time: the wall clock, made strictly increasing so two
// messages of one sensor without a payload time never share a timestamp (InfluxDB
// would keep only one of them).
func (s *Source) stamp() time.Time {
	now := time.Now().UnixNano()
	if s.opt.Now != nil {
		now = s.opt.Now().UnixNano()
	}
	for {
		last := s.lastStamp.Load()
		if now <= last {
			now = last + 1
		}
		if s.lastStamp.CompareAndSwap(last, now) {
			return time.Unix(0, now)
		}
	}
}

func (s *Source) onConnect(c mqtt.Client) {
	s.connects.Add(1)
	s.lastMessage.Store(time.Now().UnixNano())
	topics := s.opt.Topics
	if s.opt.HeartbeatTopic != "" {
		topics = append(topics[:len(topics):len(topics)], s.opt.HeartbeatTopic)
	}
	// One SUBSCRIBE for every filter. nil: the default handler, which also takes the
	// session's messages queued before this.
	filters := make(map[string]byte, len(topics))
	for _, t := range topics {
		filters[t] = 1
	}
	tok := c.SubscribeMultiple(filters, nil)
	if !s.waitSubscribed(tok) {
		s.log.Error("mqtt subscribe failed; reconnecting", "topics", len(filters), "err", tok.Error())
		s.requestReconnect()
		return
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for topic, code := range st.Result() {
			if code == 0x80 {
				s.log.Error("broker refused subscription (check the ACL)", "topic", topic)
			}
		}
	}
	if s.opt.StatusTopic != "" {
		c.Publish(s.opt.StatusTopic, 1, true, "online")
	}
	s.connected.Store(true)
	s.log.Info("mqtt connected", "broker", s.opt.URL, "client_id", s.opt.ClientID, "topics", len(topics))
}

// waitSubscribed waits for the SUBACK. On a resumed session the broker may send a
// backlog first, and the SUBACK is read only after the messages ahead of it have been
// queued, so the wait is bounded by silence (ConnectTimeout without any message), not
// by a fixed time: a long backlog draining steadily is not a failure.
func (s *Source) waitSubscribed(tok mqtt.Token) bool {
	for !tok.WaitTimeout(min(time.Second, s.opt.ConnectTimeout)) {
		select {
		case <-s.stopping:
			return false
		default:
		}
		if time.Since(time.Unix(0, s.lastMessage.Load())) > s.opt.ConnectTimeout {
			return false
		}
	}
	return tok.Error() == nil
}

func (s *Source) requestReconnect() {
	select {
	case s.reconnectNow <- struct{}{}:
	default:
	}
}

// Run connects and delivers messages to the handler until ctx is cancelled. It
// returns nil on cancellation, after a clean disconnect; messages not yet handled stay
// unacknowledged and the broker delivers them again on the next start.
func (s *Source) Run(ctx context.Context) error {
	if s.opt.URL == "" || s.opt.ClientID == "" {
		return errors.New("mqttsrc: URL and ClientID are required")
	}
	s.connect()
	var wg sync.WaitGroup
	procCtx, stopProc := context.WithCancel(context.WithoutCancel(ctx))
	wg.Go(func() { s.process(procCtx) })
	s.watch(ctx)
	// Stop: disconnect first so no new messages arrive, then let the processor finish
	// the batch it holds (its handler call is bounded by the spool).
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	if s.opt.StatusTopic != "" && c.IsConnectionOpen() {
		c.Publish(s.opt.StatusTopic, 1, true, "offline").WaitTimeout(2 * time.Second)
	}
	close(s.stopping)
	stopProc()
	wg.Wait()
	c.Disconnect(250)
	s.connected.Store(false)
	return nil
}

func (s *Source) connect() {
	c := mqtt.NewClient(s.clientOptions())
	s.mu.Lock()
	s.client = c
	s.mu.Unlock()
	c.Connect() // with ConnectRetry, paho keeps trying in the background
}

// watch runs the heartbeat and the silence watchdog until ctx ends.
func (s *Source) watch(ctx context.Context) {
	hb := time.NewTicker(s.opt.Heartbeat)
	defer hb.Stop()
	check := time.NewTicker(min(s.opt.SilenceTimeout/4, 15*time.Second))
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hb.C:
			if s.opt.HeartbeatTopic != "" && s.connected.Load() {
				s.mu.Lock()
				c := s.client
				s.mu.Unlock()
				c.Publish(s.opt.HeartbeatTopic, 1, false, time.Now().UTC().Format(time.RFC3339Nano))
			}
		case <-check.C:
			last := time.Unix(0, s.lastMessage.Load())
			if s.connected.Load() && time.Since(last) > s.opt.SilenceTimeout {
				s.watchdogResets.Add(1)
				s.log.Warn("mqtt connection silent; reconnecting", "silent_for", time.Since(last).Round(time.Second))
				s.reconnect()
			}
		case <-s.reconnectNow:
			s.reconnect()
		}
	}
}

func (s *Source) reconnect() {
	s.mu.Lock()
	old := s.client
	s.mu.Unlock()
	s.connected.Store(false)
	old.Disconnect(250)
	s.connect()
}

// process takes queued messages in batches, hands them to the handler and acks.
func (s *Source) process(ctx context.Context) {
	batch := make([]arrival, 0, s.opt.MaxBatch)
	msgs := make([]Message, 0, s.opt.MaxBatch)
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-s.queue:
			batch = append(batch[:0], m)
		}
	fill:
		for len(batch) < s.opt.MaxBatch {
			select {
			case m := <-s.queue:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		msgs = msgs[:0]
		for _, a := range batch {
			m := a.msg
			msgs = append(msgs, Message{Topic: m.Topic(), Payload: m.Payload(), Retained: m.Retained(), Duplicate: m.Duplicate(), Received: a.at})
		}
		for {
			err := s.handler(ctx, msgs)
			if err == nil {
				break
			}
			s.handlerErrors.Add(1)
			s.log.Error("could not make messages durable; not acknowledged, retrying", "err", err, "messages", len(msgs), "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return // unacknowledged: the broker delivers them again
			case <-t.C:
			}
			backoff = min(2*backoff, 30*time.Second)
		}
		backoff = 100 * time.Millisecond
		for _, a := range batch {
			a.msg.Ack()
		}
		s.acked.Add(uint64(len(batch)))
		clear(batch)
	}
}

// Publish sends payload to topic at QoS 1 and waits for the broker's acknowledgement.
func (s *Source) Publish(ctx context.Context, topic string, retained bool, payload []byte) error {
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	if c == nil {
		return errors.New("mqttsrc: not started")
	}
	if !c.IsConnectionOpen() {
		// paho would take it into its store, but the gateway's own publishes are not
		// resumed (store.go): say so now, the caller retries.
		return fmt.Errorf("mqttsrc: publish %s: %w", topic, mqtt.ErrNotConnected)
	}
	tok := c.Publish(topic, 1, retained, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("mqttsrc: publish %s: %w", topic, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
