package outbox

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink is a Sender that records what it was given and fails while down.
type sink struct {
	mu   sync.Mutex
	got  []string
	down bool
}

func (s *sink) Send(_ context.Context, n *Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("connection refused")
	}
	s.got = append(s.got, n.ID+"="+string(n.Body))
	return nil
}

func (s *sink) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

var t0 = time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)

func openAt(t *testing.T, dir string, s Sender, now time.Time) *Outbox {
	t.Helper()
	o, err := Open(dir, map[string]Sender{"mqtt": s}, Options{Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func TestOutboxSurvivesRestartInOrderOnce(t *testing.T) {
	dir := t.TempDir()
	s := &sink{down: true}
	o := openAt(t, dir, s, t0)
	for _, id := range []string{"a", "b", "c"} {
		if err := o.Enqueue(Notification{ID: id, Channel: "mqtt", To: "t", Body: []byte(`"` + id + `"`)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := o.Flush(context.Background(), "mqtt", t0); n != 0 {
		t.Fatal("delivered while down")
	}
	st := o.Stats()
	if st.Failures["mqtt"] != 1 || st.Pending["mqtt"] != 3 {
		t.Fatalf("a failure holds back the rest for the same address: %+v", st)
	}
	o.Close()
	s.down = false
	o2 := openAt(t, dir, s, t0)
	if n := o2.Flush(context.Background(), "mqtt", t0); n != 3 {
		t.Fatalf("after restart delivered %d", n)
	}
	if got := strings.Join(s.list(), " "); got != `a="a" b="b" c="c"` {
		t.Errorf("order: %s", got)
	}
	o2.Close()
	o3 := openAt(t, dir, s, t0.Add(time.Hour))
	if err := o3.Enqueue(Notification{ID: "b", Channel: "mqtt"}); err != nil {
		t.Fatal(err)
	}
	o3.Flush(context.Background(), "mqtt", t0.Add(time.Hour))
	if len(s.list()) != 3 || o3.Stats().Duplicates["mqtt"] != 1 {
		t.Errorf("a delivered id was sent again: %v", s.list())
	}
}

func TestOutboxBackoff(t *testing.T) {
	s := &sink{down: true}
	o := openAt(t, t.TempDir(), s, t0)
	_ = o.Enqueue(Notification{ID: "x", Channel: "mqtt"})
	var tries []time.Duration
	for at := t0; at.Before(t0.Add(30 * time.Minute)); at = at.Add(time.Second) {
		before := o.Stats().Failures["mqtt"]
		o.Flush(context.Background(), "mqtt", at)
		if o.Stats().Failures["mqtt"] > before {
			tries = append(tries, at.Sub(t0))
		}
	}
	want := []time.Duration{0, 5 * time.Second, 15 * time.Second, 35 * time.Second, 75 * time.Second, 155 * time.Second, 315 * time.Second, 615 * time.Second}
	for i, w := range want {
		if i >= len(tries) || tries[i] != w {
			t.Fatalf("attempts at %v, want %v…", tries, want)
		}
	}
}

func TestOutboxSupersede(t *testing.T) {
	s := &sink{down: true}
	o := openAt(t, t.TempDir(), s, t0)
	_ = o.Enqueue(Notification{ID: "1/firing", Channel: "mqtt", Supersede: "mqtt/1", Body: []byte(`{"state":"firing"}`)})
	_ = o.Enqueue(Notification{ID: "1/resolved", Channel: "mqtt", Supersede: "mqtt/1"})
	_ = o.Enqueue(Notification{ID: "2/firing", Channel: "mqtt", Supersede: "mqtt/2", Body: []byte(`{}`)})
	s.down = false
	o.Flush(context.Background(), "mqtt", t0)
	if got := strings.Join(s.list(), " "); got != "1/resolved= 2/firing={}" {
		t.Errorf("a stale firing state was published after its resolution: %s", got)
	}
}

func TestOutboxBadInput(t *testing.T) {
	dir := t.TempDir()
	s := &sink{}
	o := openAt(t, dir, s, t0)
	if err := o.Enqueue(Notification{Channel: "mqtt"}); err == nil {
		t.Error("no id accepted")
	}
	if err := o.Enqueue(Notification{ID: "x", Channel: "fax"}); err == nil || !strings.Contains(err.Error(), "fax") {
		t.Errorf("unknown channel: %v", err)
	}
	o.Close()
	pend := filepath.Join(dir, "pending")
	for name, content := range map[string]string{
		"000000000001-aaaa.json": "{torn",
		"000000000002-bbbb.json": `{"id":"","channel":"mqtt"}`,
		"garbage-cccc.json":      `{"id":"z","channel":"mqtt"}`,
		"000000000004-dddd.json": `{"id":"ok","channel":"mqtt","body":"1"}`,
		"000000000005-eeee.tmp":  `half`,
	} {
		if err := os.WriteFile(filepath.Join(pend, name), []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "delivered.log"), []byte("old 1\nbad line\nx notanumber\nlast 17000000"), 0o640); err != nil {
		t.Fatal(err)
	}
	o2 := openAt(t, dir, s, t0)
	if st := o2.Stats(); st.Corrupt != 3 || st.Pending["mqtt"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if aside, _ := os.ReadDir(filepath.Join(dir, "corrupt")); len(aside) != 3 {
		t.Errorf("moved aside: %d", len(aside))
	}
	o2.Flush(context.Background(), "mqtt", t0)
	if got := s.list(); len(got) != 1 || got[0] != `ok="1"` {
		t.Errorf("delivered %v", got)
	}
}

// flaky fails the IDs in failOnce on their first attempt and runs onSend (if
// set) before answering.
type flaky struct {
	sink
	failOnce map[string]bool
	onSend   func(n *Notification)
}

func (f *flaky) Send(ctx context.Context, n *Notification) error {
	if f.onSend != nil {
		f.onSend(n)
	}
	f.mu.Lock()
	fail := f.failOnce[n.ID]
	delete(f.failOnce, n.ID)
	f.mu.Unlock()
	if fail {
		return errors.New("timeout")
	}
	return f.sink.Send(ctx, n)
}

func TestOutboxOrderPerAddressAfterFailure(t *testing.T) {
	s := &flaky{failOnce: map[string]bool{"1/firing": true}}
	o := openAt(t, t.TempDir(), s, t0)
	_ = o.Enqueue(Notification{ID: "1/firing", Channel: "mqtt", To: "chat", Body: []byte(`"f"`)})
	_ = o.Enqueue(Notification{ID: "1/resolved", Channel: "mqtt", To: "chat", Body: []byte(`"r"`)})
	_ = o.Enqueue(Notification{ID: "2/firing", Channel: "mqtt", To: "other", Body: []byte(`"o"`)})
	o.Flush(context.Background(), "mqtt", t0)
	o.Flush(context.Background(), "mqtt", t0.Add(time.Second))
	if got := strings.Join(s.list(), " "); got != `2/firing="o"` {
		t.Fatalf("before the retry of the failed entry: %s", got)
	}
	o.Flush(context.Background(), "mqtt", t0.Add(5*time.Second))
	if got := strings.Join(s.list(), " "); got != `2/firing="o" 1/firing="f" 1/resolved="r"` {
		t.Errorf("order per address: %s", got)
	}
}

func TestOutboxSupersedeInFlight(t *testing.T) {
	s := &flaky{failOnce: map[string]bool{"1/firing": true}}
	o := openAt(t, t.TempDir(), s, t0)
	s.onSend = func(n *Notification) {
		if n.ID == "1/firing" {
			// The clear arrives while the firing state is on the wire.
			if err := o.Enqueue(Notification{ID: "1/resolved", Channel: "mqtt", To: "topic", Supersede: "mqtt/1"}); err != nil {
				t.Error(err)
			}
		}
	}
	_ = o.Enqueue(Notification{ID: "1/firing", Channel: "mqtt", To: "topic", Supersede: "mqtt/1", Body: []byte(`{"state":"firing"}`)})
	for at := t0; at.Before(t0.Add(time.Minute)); at = at.Add(time.Second) {
		o.Flush(context.Background(), "mqtt", at)
	}
	if got := strings.Join(s.list(), " "); got != "1/resolved=" {
		t.Errorf("a superseded in-flight state was retried: %s", got)
	}
	if st := o.Stats(); st.Pending["mqtt"] != 0 {
		t.Errorf("pending %d", st.Pending["mqtt"])
	}
}

// refuser refuses some IDs for good and is down for the others while down.
type refuser struct {
	sink
	refuse map[string]bool
}

func (r *refuser) Send(ctx context.Context, n *Notification) error {
	if r.refuse[n.ID] {
		return Permanent(errors.New("telegram sendMessage: 403 Forbidden: bot was blocked by the user"))
	}
	return r.sink.Send(ctx, n)
}

func openOpts(t *testing.T, dir string, s Sender, opt Options) *Outbox {
	t.Helper()
	opt.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	o, err := Open(dir, map[string]Sender{"mqtt": s}, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func TestOutboxPrunesDeliveredWhileRunning(t *testing.T) {
	dir := t.TempDir()
	now := t0
	o := openOpts(t, dir, &sink{}, Options{Now: func() time.Time { return now }, KeepDelivered: time.Hour})
	_ = o.Enqueue(Notification{ID: "old", Channel: "mqtt"})
	o.Flush(context.Background(), "mqtt", t0)
	_ = o.Enqueue(Notification{ID: "new", Channel: "mqtt"})
	o.Flush(context.Background(), "mqtt", t0.Add(50*time.Minute))
	o.Flush(context.Background(), "mqtt", t0.Add(61*time.Minute)) // an hour since Open: prune
	data, err := os.ReadFile(filepath.Join(dir, "delivered.log"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "old ") || !strings.Contains(string(data), "new ") {
		t.Errorf("delivered log after pruning:\n%s", data)
	}
	o.mu.Lock()
	_, hasOld := o.delivered["old"]
	o.mu.Unlock()
	if hasOld {
		t.Error("an expired delivered id is still remembered")
	}
	// The log still takes new deliveries after its rewrite.
	_ = o.Enqueue(Notification{ID: "later", Channel: "mqtt"})
	o.Flush(context.Background(), "mqtt", t0.Add(62*time.Minute))
	if data, _ := os.ReadFile(filepath.Join(dir, "delivered.log")); !strings.Contains(string(data), "later ") {
		t.Errorf("delivery after pruning not logged:\n%s", data)
	}
}

func TestOutboxDeadLetterPermanent(t *testing.T) {
	dir := t.TempDir()
	s := &refuser{refuse: map[string]bool{"blocked": true}}
	o := openAt(t, dir, s, t0)
	_ = o.Enqueue(Notification{ID: "blocked", Channel: "mqtt", To: "chat"})
	_ = o.Enqueue(Notification{ID: "next", Channel: "mqtt", To: "chat"})
	o.Flush(context.Background(), "mqtt", t0)
	st := o.Stats()
	if st.Dead["mqtt"] != 1 || st.Pending["mqtt"] != 0 || st.Failures["mqtt"] != 1 {
		t.Errorf("stats %+v", st)
	}
	if got := strings.Join(s.list(), " "); got != "next=" {
		t.Errorf("a refused entry held back the next one: %q", got)
	}
	if dead, _ := os.ReadDir(filepath.Join(dir, "dead")); len(dead) != 1 {
		t.Errorf("dead-letter directory holds %d entries", len(dead))
	}
	if pend, _ := os.ReadDir(filepath.Join(dir, "pending")); len(pend) != 0 {
		t.Errorf("pending directory holds %d entries", len(pend))
	}
}

func TestOutboxDeadLetterMaxAge(t *testing.T) {
	dir := t.TempDir()
	s := &sink{down: true}
	o := openOpts(t, dir, s, Options{Now: func() time.Time { return t0 }, MaxAge: 24 * time.Hour})
	_ = o.Enqueue(Notification{ID: "x", Channel: "mqtt"})
	at := t0
	for ; at.Before(t0.Add(48*time.Hour)) && o.Stats().Dead["mqtt"] == 0; at = at.Add(time.Minute) {
		o.Flush(context.Background(), "mqtt", at)
	}
	st := o.Stats()
	if st.Dead["mqtt"] != 1 || st.Pending["mqtt"] != 0 {
		t.Fatalf("never given up: %+v", st)
	}
	if gaveUp := at.Sub(t0); gaveUp < 24*time.Hour || gaveUp > 24*time.Hour+6*time.Minute {
		t.Errorf("given up after %v, want MaxAge (24h) plus at most a backoff", gaveUp)
	}
	if err := o.Enqueue(Notification{ID: "y", Channel: "mqtt"}); err != nil {
		t.Fatal(err)
	}
	if dead, _ := os.ReadDir(filepath.Join(dir, "dead")); len(dead) != 1 {
		t.Errorf("dead-letter directory holds %d entries", len(dead))
	}
}
