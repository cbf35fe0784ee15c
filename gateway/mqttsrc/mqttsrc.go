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
	"github.com/eclipse/paho.mqtt.golang/packets"

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
	// ProbeTimeout: a heartbeat not back this long after it was published means the
	// broker does not deliver the subscriptions (Stats.Problem); default 20s.
	ProbeTimeout time.Duration
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
	// Problem says what keeps the source from receiving, with the fix, "" when
	// nothing is known to be wrong: the broker refuses the connection (bad
	// credentials, not authorised, client id rejected), another client keeps taking
	// the gateway's session (same client id), or the broker accepts the
	// subscriptions but delivers nothing (an ACL denying them).
	Problem string
}

// Problems the source detects.
const (
	// TakeoverWindow and TakeoverCount: this many connections lost within
	// TakeoverWindow, each soon after its connect, say another client uses our id.
	TakeoverCount  = 3
	TakeoverWindow = 2 * time.Minute
	// takeoverShort is how soon after a connect a loss counts towards a takeover.
	takeoverShort = 30 * time.Second
)

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

	pmu         sync.Mutex
	refusal     string      // the broker refused the last connection attempt; "" after a connect
	refusalLog  time.Time   // when the refusal was last logged
	connectedAt time.Time   // the last connect
	shortLosses []time.Time // losses soon after a connect, within TakeoverWindow
	takeover    string
	deaf        string // the probe did not come back
	probeSent   time.Time
	probeBack   bool
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
	if opt.ProbeTimeout <= 0 {
		opt.ProbeTimeout = 20 * time.Second
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
		Connected: s.connected.Load(), Problem: s.Problem(),
	}
	if n := s.lastMessage.Load(); n != 0 {
		st.LastMessage = time.Unix(0, n)
	}
	return st
}

// Problem returns what keeps the source from receiving ("" if nothing known); see
// Stats.Problem.
func (s *Source) Problem() string {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	switch {
	case s.refusal != "":
		return s.refusal
	case s.takeover != "":
		return s.takeover
	}
	return s.deaf
}

// connectFailed records why a connection attempt failed. A refusal by the broker is
// an ERROR naming the fix, logged when it starts or changes and every 10 minutes.
func (s *Source) connectFailed(err error) {
	var why string
	switch {
	case errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword), errors.Is(err, packets.ErrorRefusedNotAuthorised):
		why = fmt.Sprintf("the MQTT broker refuses the gateway's login (%v): check mqtt.username %q and the password in mqtt.password_file against the broker's password file (mosquitto_passwd) and its ACL", err, s.opt.Username)
	case errors.Is(err, packets.ErrorRefusedIDRejected):
		why = fmt.Sprintf("the MQTT broker rejects the gateway's client id %q (%v): check mqtt.client_id and the broker's clientid settings", s.opt.ClientID, err)
	case errors.Is(err, packets.ErrorRefusedBadProtocolVersion):
		why = fmt.Sprintf("the MQTT broker refuses MQTT 3.1.1 (%v): use a broker that speaks it (Mosquitto 1.4 or later)", err)
	default:
		return // network errors: the disconnected state and its condition say enough
	}
	now := time.Now()
	s.pmu.Lock()
	logIt := why != s.refusal || now.Sub(s.refusalLog) > 10*time.Minute
	s.refusal = why
	if logIt {
		s.refusalLog = now
	}
	s.pmu.Unlock()
	if logIt {
		s.log.Error("mqtt connection refused by the broker", "broker", s.opt.URL, "problem", why)
	}
}

// connectionLost counts a loss; repeated losses soon after connecting mean another
// client connects with the gateway's client id and the broker hands it the session.
func (s *Source) connectionLost(err error) {
	now := time.Now()
	s.pmu.Lock()
	short := !s.connectedAt.IsZero() && now.Sub(s.connectedAt) < takeoverShort
	if short {
		s.shortLosses = append(s.shortLosses, now)
	}
	i := 0
	for i < len(s.shortLosses) && now.Sub(s.shortLosses[i]) > TakeoverWindow {
		i++
	}
	s.shortLosses = s.shortLosses[i:]
	newly := false
	if len(s.shortLosses) >= TakeoverCount && s.takeover == "" {
		s.takeover = fmt.Sprintf("another MQTT client keeps connecting with the gateway's client id %q and takes its session (%d disconnects within %s, each right after connecting): readings go to it, not to the gateway; find that client, and bind client ids to users on the broker (use_username_as_clientid, see firmware-config/mosquitto/saqshy.conf)",
			s.opt.ClientID, len(s.shortLosses), TakeoverWindow)
		newly = true
	}
	takeover := s.takeover
	s.pmu.Unlock()
	if newly {
		s.log.Error("mqtt session taken over", "problem", takeover)
	} else {
		s.log.Warn("mqtt connection lost", "err", err)
	}
}

// connectedNow records a connect: a refusal is over; a takeover is over once the
// session stayed ours for TakeoverWindow (see checkStable).
func (s *Source) connectedNow() {
	s.pmu.Lock()
	s.refusal = ""
	s.connectedAt = time.Now()
	s.probeSent, s.probeBack = time.Time{}, false
	s.pmu.Unlock()
}

// checkProblems clears a takeover once the session stayed ours for TakeoverWindow,
// and reports a probe that did not come back within probeTimeout.
func (s *Source) checkProblems(probeTimeout time.Duration) {
	now := time.Now()
	s.pmu.Lock()
	if s.takeover != "" && s.connected.Load() && now.Sub(s.connectedAt) > TakeoverWindow {
		s.takeover, s.shortLosses = "", nil
		s.pmu.Unlock()
		s.log.Info("mqtt session ours again")
		s.pmu.Lock()
	}
	newly := false
	if !s.probeSent.IsZero() && !s.probeBack && s.deaf == "" && now.Sub(s.probeSent) > probeTimeout && s.connected.Load() {
		s.deaf = fmt.Sprintf("the MQTT broker accepted the gateway's subscriptions but does not deliver its own probe on %s back, and nothing else arrives: an ACL denies the gateway's reads (or its writes to its own topics); give user %q `topic read #` and `topic readwrite saqshy/#` in the broker's ACL (firmware-config/mosquitto/saqshy.acl)",
			s.opt.HeartbeatTopic, s.opt.Username)
		newly = true
	}
	deaf := s.deaf
	s.pmu.Unlock()
	if newly {
		s.log.Error("mqtt subscriptions deliver nothing", "problem", deaf)
	}
}

// probe publishes a heartbeat that the source expects back on its subscription.
func (s *Source) probe(c client) {
	if s.opt.HeartbeatTopic == "" {
		return
	}
	s.pmu.Lock()
	if s.probeSent.IsZero() || s.probeBack {
		s.probeSent, s.probeBack = time.Now(), false
	}
	s.pmu.Unlock()
	c.Publish(s.opt.HeartbeatTopic, 1, false, time.Now().UTC().Format(time.RFC3339Nano))
}

// probeReturned notes that a message arrived: subscriptions deliver.
func (s *Source) probeReturned() {
	s.pmu.Lock()
	if s.probeBack && s.deaf == "" {
		s.pmu.Unlock()
		return
	}
	s.probeBack = true
	wasDeaf := s.deaf != ""
	s.deaf = ""
	s.pmu.Unlock()
	if wasDeaf {
		s.log.Info("mqtt subscriptions deliver again")
	}
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
		// Own publishes are not kept for paho to resume after a reconnect: see
		// inboundStore.
		SetStore(newInboundStore()).
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
			s.connectionLost(err)
		}).
		SetConnectionNotificationHandler(func(_ mqtt.Client, n mqtt.ConnectionNotification) {
			if f, ok := n.(mqtt.ConnectionNotificationFailed); ok {
				s.connectFailed(f.Reason)
			}
		})
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
	s.probeReturned() // anything delivered shows the subscriptions work
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
	s.connectedNow()
	s.connected.Store(true)
	s.probe(c)
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
	problems := time.NewTicker(min(s.opt.ProbeTimeout/4, time.Second))
	defer problems.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hb.C:
			if s.opt.HeartbeatTopic != "" && s.connected.Load() {
				s.mu.Lock()
				c := s.client
				s.mu.Unlock()
				s.probe(c)
			}
		case <-problems.C:
			s.checkProblems(s.opt.ProbeTimeout)
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
			if ctx.Err() != nil {
				return // stopping: unacknowledged, the broker delivers them again
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
