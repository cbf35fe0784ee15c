package influxsink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// memQueue is an in-memory stand-in for the spool's reading side. The spool has its
// own tests; here it only has to follow the same contract.
type memQueue struct {
	mu     sync.Mutex
	recs   []telemetry.Record
	cursor uint64
	notify chan struct{}
}

func newMemQueue(n int) *memQueue {
	q := &memQueue{notify: make(chan struct{}, 1)}
	for i := range n {
		q.add(ev(i))
	}
	return q
}

func ev(i int) telemetry.Event {
	return telemetry.Event{
		Time:   time.Unix(1_700_000_000, int64(i)*int64(time.Millisecond)),
		Sensor: fmt.Sprintf("s-%d", i%7), Zone: "room-1", ZoneKind: "living", Source: "zigbee2mqtt",
		Values: []telemetry.Value{{Metric: telemetry.Temperature, V: float64(i)}},
	}
}

func (q *memQueue) add(e telemetry.Event) {
	q.mu.Lock()
	q.recs = append(q.recs, telemetry.Record{Seq: uint64(len(q.recs)), Event: e})
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *memQueue) Read(from uint64, max int) ([]telemetry.Record, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if from >= uint64(len(q.recs)) {
		return nil, nil
	}
	end := min(uint64(len(q.recs)), from+uint64(max))
	return append([]telemetry.Record(nil), q.recs[from:end]...), nil
}

func (q *memQueue) Wait(ctx context.Context, from uint64) error {
	for {
		q.mu.Lock()
		n := uint64(len(q.recs))
		q.mu.Unlock()
		if from < n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-q.notify:
		}
	}
}

func (q *memQueue) Commit(seq uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.cursor = max(q.cursor, seq)
	return nil
}

func (q *memQueue) Cursor() uint64 { q.mu.Lock(); defer q.mu.Unlock(); return q.cursor }
func (q *memQueue) Head() uint64   { q.mu.Lock(); defer q.mu.Unlock(); return uint64(len(q.recs)) }

// scriptWriter answers each POST with the next scripted error (nil = accept) and
// records what it accepted.
type scriptWriter struct {
	mu       sync.Mutex
	script   []func(lines []string) error
	accepted []string // line protocol, one point each, with its newline
	posts    int
}

// WriteRecord takes a POST body as the Writer sends it (lines joined by newlines).
func (s *scriptWriter) WriteRecord(_ context.Context, body ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts++
	var lines []string
	for _, b := range body {
		for l := range strings.Lines(b) {
			lines = append(lines, l)
		}
	}
	if len(s.script) > 0 {
		f := s.script[0]
		s.script = s.script[1:]
		if err := f(lines); err != nil {
			return err
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "poison") {
			return &http2.Error{StatusCode: 400, Code: "invalid", Message: "unable to parse poison"}
		}
	}
	s.accepted = append(s.accepted, lines...)
	return nil
}

func (s *scriptWriter) n() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.accepted) }

// distinct is the number of different points accepted (the writer writes a control
// point again to tell a malformed point from a server refusing everything).
func (s *scriptWriter) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, l := range s.accepted {
		seen[l] = true
	}
	return len(seen)
}

func runUntil(t *testing.T, w *Writer, q *memQueue, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("timed out; stats %+v, cursor %d", w.Stats(), q.Cursor())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func noSleep(w *Writer) *Writer {
	w.sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	return w
}

func TestWriterDeliversInOrderAndCommits(t *testing.T) {
	q := newMemQueue(1234)
	sw := &scriptWriter{}
	w := New(q, sw, Options{Centre: "c1", BatchSize: 100})
	runUntil(t, w, q, func() bool { return q.Cursor() == 1234 })
	if sw.n() != 1234 {
		t.Fatalf("accepted %d points, want 1234", sw.n())
	}
	if !strings.HasPrefix(sw.accepted[0], "climate,centre=c1,sensor=s-0,source=zigbee2mqtt,zone=room-1,zone_kind=living temperature_c=0 ") {
		t.Fatalf("first point %q", sw.accepted[0])
	}
	if st := w.Stats(); st.Batches != 13 || st.Points != 1234 {
		t.Fatalf("stats %+v", st)
	}
}

func TestWriterRetriesTransientErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"503", &http2.Error{StatusCode: 503, Message: "unavailable"}},
		{"429", &http2.Error{StatusCode: 429, RetryAfter: 1}},
		{"401 kept", &http2.Error{StatusCode: 401, Message: "unauthorized"}},
		{"network", errors.New("dial tcp 127.0.0.1:1: connect: connection refused")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newMemQueue(10)
			fail := func([]string) error { return tt.err }
			sw := &scriptWriter{script: []func([]string) error{fail, fail, fail}}
			w := noSleep(New(q, sw, Options{Centre: "c1", BatchSize: 100}))
			var slept []time.Duration
			w.sleep = func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }
			runUntil(t, w, q, func() bool { return q.Cursor() == 10 })
			if sw.n() != 10 || w.Stats().Retries != 3 || len(slept) != 3 {
				t.Fatalf("accepted %d, stats %+v, slept %v", sw.n(), w.Stats(), slept)
			}
			if tt.name == "429" && slept[0] < time.Second {
				t.Fatalf("Retry-After ignored: slept %v", slept[0])
			}
		})
	}
}

func TestWriterBackoffBounded(t *testing.T) {
	w := New(newMemQueue(0), &scriptWriter{}, Options{Centre: "c", MinBackoff: time.Second, MaxBackoff: 30 * time.Second})
	prev := time.Duration(0)
	for a := range 40 {
		d := w.backoff(a)
		if d > 36*time.Second || d < 800*time.Millisecond {
			t.Fatalf("attempt %d: backoff %v out of bounds", a, d)
		}
		if a < 4 && d < prev/2 {
			t.Fatalf("attempt %d: backoff %v not growing from %v", a, d, prev)
		}
		prev = d
	}
}

func TestWriterIsolatesMalformedPoints(t *testing.T) {
	q := newMemQueue(0)
	for i := range 100 {
		e := ev(i)
		if i == 37 || i == 80 {
			e.Sensor = "poison"
		}
		q.add(e)
	}
	sw := &scriptWriter{}
	dead := filepath.Join(t.TempDir(), "deadletter.lp")
	w := New(q, sw, Options{Centre: "c1", BatchSize: 64, DeadLetter: dead})
	runUntil(t, w, q, func() bool { return q.Cursor() == 100 })
	if sw.distinct() != 98 || w.Stats().DeadLettered != 2 {
		t.Fatalf("accepted %d dead %d", sw.distinct(), w.Stats().DeadLettered)
	}
	b, err := os.ReadFile(dead)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(b), "sensor=poison") != 2 || !strings.Contains(string(b), "# ") {
		t.Fatalf("dead-letter file:\n%s", b)
	}
}

func TestWriterSplitsTooLarge(t *testing.T) {
	q := newMemQueue(100)
	tooLarge := func(p []string) error {
		if len(p) > 30 {
			return &http2.Error{StatusCode: 413}
		}
		return nil
	}
	sw := &scriptWriter{script: []func([]string) error{tooLarge, tooLarge, tooLarge}}
	w := noSleep(New(q, sw, Options{Centre: "c1", BatchSize: 100}))
	runUntil(t, w, q, func() bool { return q.Cursor() == 100 })
	if sw.n() != 100 || w.Stats().DeadLettered != 0 {
		t.Fatalf("accepted %d dead %d", sw.n(), w.Stats().DeadLettered)
	}
}

// TestWriterLiveLaneDuringBacklog: with a large backlog, a new event is delivered
// after at most one backlog batch, and is not sent twice.
func TestWriterLiveLaneDuringBacklog(t *testing.T) {
	q := newMemQueue(10_000)
	var posts atomic.Int64
	gate := make(chan struct{})
	sw := &scriptWriter{}
	slow := &slowWriter{next: sw, posts: &posts, gate: gate}
	w := New(q, slow, Options{Centre: "c1", BatchSize: 100})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	// The live event arrives while the first backlog batch is being written (the
	// writer has read it and waits at the gate). Adding it after releasing that POST
	// would race with the writer reading the spool head for the live lane.
	live := ev(99_999)
	live.Sensor = "live"
	q.add(live)
	gate <- struct{}{} // first backlog batch
	// The writer takes the second lane after this batch: within two more POSTs the
	// live event must have landed.
	gate <- struct{}{}
	gate <- struct{}{}
	found := false
	for _, l := range snapshot(sw) {
		if strings.Contains(l, "sensor=live") {
			found = true
		}
	}
	if !found {
		t.Fatalf("live event not delivered within two POSTs after the first backlog batch")
	}
	close(gate)
	for q.Cursor() < q.Head() {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-errc
	n := 0
	for _, l := range snapshot(sw) {
		if strings.Contains(l, "sensor=live") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("live event delivered %d times, want 1", n)
	}
	if got := sw.n(); got != 10_001 {
		t.Fatalf("delivered %d points, want 10001", got)
	}
}

func snapshot(s *scriptWriter) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.accepted...)
}

type slowWriter struct {
	next  lineWriter
	posts *atomic.Int64
	gate  chan struct{}
}

func (s *slowWriter) WriteRecord(ctx context.Context, lines ...string) error {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.posts.Add(1)
	return s.next.WriteRecord(ctx, lines...)
}

// TestClientRetryAfterFromServer checks the error classification against the real
// client library's error type: a server answering 429 with Retry-After.
func TestClientRetryAfterFromServer(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "", "", "db/autogen", 5*time.Second)
	defer c.Close()
	q := newMemQueue(5)
	w := New(q, c, Options{Centre: "c1"})
	var slept []time.Duration
	w.sleep = func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	runUntil(t, w, q, func() bool { return q.Cursor() == 5 })
	if len(slept) != 1 || slept[0] < 2*time.Second {
		t.Fatalf("slept %v, want one wait of at least the server's Retry-After 2s", slept)
	}
}

// FlushEvery gathers a trickle (batches under 1 % of BatchSize) into fewer POSTs
// and does not delay a backlog.
func TestFlushEvery(t *testing.T) {
	q := newMemQueue(0)
	sw := &scriptWriter{}
	w := New(q, sw, Options{Centre: "c1", BatchSize: 1000, FlushEvery: 200 * time.Millisecond})
	stop := start(t, w)
	defer stop()
	posts := func() int { sw.mu.Lock(); defer sw.mu.Unlock(); return sw.posts }
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (posts %d, points %d)", what, posts(), w.Stats().Points)
			}
		}
	}
	q.add(ev(0)) // the first event of a trickle goes at once
	waitFor("the first POST", func() bool { return posts() == 1 })
	start := time.Now()
	for i := 1; i <= 5; i++ { // a trickle: 5 events within the flush period
		q.add(ev(i))
		time.Sleep(10 * time.Millisecond)
	}
	waitFor("the trickle's points", func() bool { return w.Stats().Points == 6 })
	if p := posts(); p != 2 {
		t.Errorf("5 events within the flush period took %d POSTs after the first, want 1", p-1)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("the trickle went out %v after the first POST, want about the flush period (200 ms)", d)
	}
	// A backlog of full batches goes without waiting, right after a trickle's POST.
	q.add(ev(6))
	waitFor("a trickle's POST", func() bool { return w.Stats().Points == 7 })
	start = time.Now()
	for i := 7; i < 7+2000; i++ {
		q.add(ev(i))
	}
	waitFor("the backlog", func() bool { return w.Stats().Points == 2007 })
	if d := time.Since(start); d >= 150*time.Millisecond {
		t.Errorf("a backlog of full batches waited %v after a trickle's POST, want no wait", d)
	}
}

// start runs w until the returned stop, which fails the test if Run failed.
func start(t *testing.T, w *Writer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// In a burst (a drain after an outage: events arriving faster than one POST takes),
// the writer gathers full batches for up to gatherBurst after a POST instead of
// POSTing what each moment brought; the burst's tail still goes within gatherBurst.
func TestBurstGathersFullBatches(t *testing.T) {
	q := newMemQueue(0)
	sw := &scriptWriter{}
	w := New(q, sw, Options{Centre: "c1", BatchSize: 1000, FlushEvery: 10 * time.Second})
	stop := start(t, w)
	defer stop()
	const n = 3000
	for i := range n { // 3000 events in about 300 ms, 50 every 5 ms
		q.add(ev(i))
		if i%50 == 49 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	last := time.Now()
	for q.Cursor() < n {
		if time.Since(last) > 5*time.Second {
			t.Fatalf("the burst's tail waited more than 5 s (cursor %d)", q.Cursor())
		}
		time.Sleep(time.Millisecond)
	}
	if d := time.Since(last); d > gatherBurst+time.Second {
		t.Errorf("the burst's tail went %v after its last event, want within gatherBurst (%v)", d, gatherBurst)
	}
	sw.mu.Lock()
	posts := sw.posts
	sw.mu.Unlock()
	if posts > 8 {
		t.Errorf("a burst of %d events in batches of up to 1000 took %d POSTs, want a few", n, posts)
	}
}
