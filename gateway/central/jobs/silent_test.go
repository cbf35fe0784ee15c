package jobs

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/alert/notify"
	"github.com/saqshy/saqshy/gateway/central/store"
)

// fakeSeen answers LastSeen from a map.
type fakeSeen struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (f *fakeSeen) LastSeen(context.Context, time.Time) (map[string]time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]time.Time{}
	for k, v := range f.seen {
		out[k] = v
	}
	return out, nil
}

func (f *fakeSeen) set(c string, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen[c] = t
}

// TestSilentPartialDeliveryResolved: a firing that reached only some destinations
// counts as notified; the failed ones are retried for the firing without resending to
// the others, and the resolution goes to exactly the destinations that got the
// firing (also across a restart), a failed resolution retried only where it failed.
func TestSilentPartialDeliveryResolved(t *testing.T) {
	var mu sync.Mutex
	var hook []string // "state"
	hookFail := 0     // fail the next n webhook calls
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m Message
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		defer mu.Unlock()
		if hookFail > 0 {
			hookFail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		hook = append(hook, m.State)
	}))
	defer recv.Close()
	tg := map[string][]string{} // chat -> texts
	failA := 1                  // chat A fails once; chat B always
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			ChatID string `json:"chat_id"`
			Text   string `json:"text"`
		}
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		defer mu.Unlock()
		if m.ChatID == "B" || m.ChatID == "A" && failA > 0 {
			if m.ChatID == "A" {
				failA--
			}
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`)
			return
		}
		tg[m.ChatID] = append(tg[m.ChatID], m.Text)
		io.WriteString(w, `{"ok":true,"result":{"message_id":1}}`)
	}))
	defer bot.Close()
	ch := &Channels{Webhook: &Webhook{URL: recv.URL, Secret: []byte("x")},
		Telegram: &notify.Telegram{BaseURL: bot.URL, Token: "7:T"}, ChatIDs: []string{"A", "B"}}

	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := start
	now := func() time.Time { return clock }
	src := &fakeSeen{seen: map[string]time.Time{"q": start.Add(-time.Minute)}}
	centres := []store.CentreInfo{{ID: "q", Name: "Q centre", Region: "R"}}
	dir := t.TempDir()
	w, err := NewWatcher(src, ch, centres, 10*time.Minute, dir, slog.New(slog.DiscardHandler), now)
	if err != nil {
		t.Fatal(err)
	}
	poll := func() {
		t.Helper()
		if err := w.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	snap := func() ([]string, []string, []string) {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), hook...), append([]string(nil), tg["A"]...), append([]string(nil), tg["B"]...)
	}
	poll()
	clock = start.Add(15 * time.Minute) // silent: webhook gets it, both chats fail
	poll()
	if h, a, b := snap(); len(h) != 1 || len(a) != 0 || len(b) != 0 {
		t.Fatalf("first firing: webhook %v, A %v, B %v", h, a, b)
	}
	clock = clock.Add(time.Minute) // retry: chat A now, the webhook not again
	poll()
	if h, a, b := snap(); len(h) != 1 || len(a) != 1 || len(b) != 0 {
		t.Fatalf("firing retry: webhook %v, A %v, B %v", h, a, b)
	}
	// A restart: who got the firing survives.
	w, err = NewWatcher(src, ch, centres, 10*time.Minute, dir, slog.New(slog.DiscardHandler), now)
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	poll()
	// The gateway reports again; the webhook fails the resolution once.
	src.set("q", clock)
	clock = clock.Add(time.Minute)
	mu.Lock()
	hookFail = 1
	mu.Unlock()
	poll()
	if h, a, _ := snap(); len(h) != 1 || len(a) != 2 {
		t.Fatalf("resolution: webhook %v (its delivery failed), A %v (want firing+resolution)", h, a)
	}
	clock = clock.Add(time.Minute)
	poll()
	poll()
	h, a, b := snap()
	if len(h) != 2 || h[0] != "firing" || h[1] != "resolved" {
		t.Errorf("webhook got %v, want [firing resolved]", h)
	}
	if len(a) != 2 {
		t.Errorf("chat A got %d messages, want firing and resolution once each: %q", len(a), a)
	}
	if len(b) != 0 {
		t.Errorf("chat B, which never got the firing, got %q", b)
	}
	if len(w.st.Unsent) != 0 || len(w.st.Open) != 0 {
		t.Errorf("left over: unsent %+v, open %+v", w.st.Unsent, w.st.Open)
	}
}

// TestStatesAnswerWhileDeliveryStuck: while a notification hangs (a webhook receiver
// that does not answer), States and so every page answer at once.
func TestStatesAnswerWhileDeliveryStuck(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
	}))
	defer recv.Close()
	defer close(release)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	src := &fakeSeen{seen: map[string]time.Time{"q": start.Add(-time.Hour)}}
	w, err := NewWatcher(src, &Webhook{URL: recv.URL, Secret: []byte("x")}, []store.CentreInfo{{ID: "q"}}, 10*time.Minute,
		t.TempDir(), slog.New(slog.DiscardHandler), func() time.Time { return start })
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Poll(context.Background()) }()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook was not called")
	}
	got := make(chan map[string]store.GatewayState, 1)
	go func() { got <- w.States() }()
	select {
	case st := <-got:
		if !st["q"].Silent {
			t.Errorf("States while delivering: %+v, want q silent", st)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("States blocked while a notification was being delivered")
	}
	release <- struct{}{} // let the receiver answer (the deferred close ends the rest)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
