package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// seenSource answers when each centre's gateway last reported (Store.LastSeen).
type seenSource interface {
	LastSeen(ctx context.Context, from time.Time) (map[string]time.Time, error)
}

// Incident states of a silent gateway.
type silentIncident struct {
	ID       string    `json:"id"`
	Since    time.Time `json:"since"`     // when the gateway was found silent
	LastSeen time.Time `json:"last_seen"` // its latest heartbeat then (zero: never)
	Notified bool      `json:"notified"`  // the firing message was delivered
}

// silentState is what survives a restart.
type silentState struct {
	LastSeen  map[string]time.Time       `json:"last_seen"`
	Open      map[string]*silentIncident `json:"open"`
	Unsent    []Message                  `json:"unsent"` // resolutions not yet delivered
	Started   time.Time                  `json:"started"`
	NextIDSeq int                        `json:"next_id_seq"`
}

// Watcher finds silent gateways: a registered centre whose gateway has written no
// heartbeat for SilentAfter is flagged and a central alert is sent once per incident;
// when it reports again the incident is resolved and that is sent too. Its state
// (last seen per centre, open incidents, undelivered messages) is kept in a JSON
// file written atomically, so a restart neither repeats nor forgets an alert.
type Watcher struct {
	src         seenSource
	notify      Notifier
	centres     []CentreInfo
	silentAfter time.Duration
	path        string
	log         *slog.Logger
	now         func() time.Time

	mu       sync.Mutex
	st       silentState
	lastPoll time.Time
	lastErr  error
}

// NewWatcher loads the state file (if any) from dir.
func NewWatcher(src seenSource, n Notifier, centres []CentreInfo, silentAfter time.Duration, dir string, log *slog.Logger, now func() time.Time) (*Watcher, error) {
	if now == nil {
		now = time.Now
	}
	w := &Watcher{src: src, notify: n, centres: centres, silentAfter: silentAfter,
		path: filepath.Join(dir, "silent.json"), log: log, now: now}
	w.st = silentState{LastSeen: map[string]time.Time{}, Open: map[string]*silentIncident{}}
	b, err := os.ReadFile(w.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		w.st.Started = now()
	case err != nil:
		return nil, fmt.Errorf("silent gateways: %w", err)
	default:
		if err := json.Unmarshal(b, &w.st); err != nil {
			return nil, fmt.Errorf("silent gateways: state file %s: %w", w.path, err)
		}
		if w.st.LastSeen == nil {
			w.st.LastSeen = map[string]time.Time{}
		}
		if w.st.Open == nil {
			w.st.Open = map[string]*silentIncident{}
		}
	}
	return w, nil
}

// Poll asks InfluxDB for heartbeats since the last poll (a day back at the first),
// updates the incidents and delivers what is due.
func (w *Watcher) Poll(ctx context.Context) error {
	now := w.now()
	w.mu.Lock()
	from := now.Add(-24 * time.Hour)
	if !w.lastPoll.IsZero() {
		from = w.lastPoll.Add(-2 * w.silentAfter)
	}
	w.mu.Unlock()
	seen, err := w.src.LastSeen(ctx, from)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastErr = err
	if err != nil {
		// Without an answer no gateway can be judged: InfluxDB down is not every
		// gateway silent.
		return err
	}
	w.lastPoll = now
	for c, t := range seen {
		if t.After(w.st.LastSeen[c]) {
			w.st.LastSeen[c] = t
		}
	}
	var out []Message
	for _, c := range w.centres {
		last := w.st.LastSeen[c.ID]
		ref := last
		if ref.IsZero() {
			ref = w.st.Started // never seen: silent once the monitor has waited long enough
		}
		silent := now.Sub(ref) > w.silentAfter
		in := w.st.Open[c.ID]
		switch {
		case silent && in == nil:
			w.st.NextIDSeq++
			in = &silentIncident{ID: fmt.Sprintf("silent-%s-%d", c.ID, now.Unix()), Since: now, LastSeen: last}
			w.st.Open[c.ID] = in
			w.log.Warn("gateway silent", "centre", c.ID, "last_seen", last)
		case !silent && in != nil:
			delete(w.st.Open, c.ID)
			w.log.Info("gateway reporting again", "centre", c.ID, "last_seen", last)
			if in.Notified { // a never-announced incident needs no resolution either
				w.st.Unsent = append(w.st.Unsent, Message{Type: "silent_gateway", State: "resolved", ID: in.ID,
					Centre: c.ID, Name: c.Name, Region: c.Region, LastSeen: last, Since: in.Since,
					Text: fmt.Sprintf("Gateway of %s (%s) reports again (last heartbeat %s)", c.Name, c.ID, last.UTC().Format(time.RFC3339))})
			}
		}
		if in := w.st.Open[c.ID]; in != nil && !in.Notified {
			seenText := "never"
			if !in.LastSeen.IsZero() {
				seenText = in.LastSeen.UTC().Format(time.RFC3339)
			}
			out = append(out, Message{Type: "silent_gateway", State: "firing", ID: in.ID, Centre: c.ID,
				Name: c.Name, Region: c.Region, LastSeen: in.LastSeen, Since: in.Since,
				Text: fmt.Sprintf("Gateway of %s (%s, %s) silent: no heartbeat for over %v (last: %s)", c.Name, c.ID, c.Region, w.silentAfter, seenText)})
		}
	}
	// Deliver: resolutions queued earlier first, then new firings. A failed delivery
	// stays queued for the next poll.
	var keep []Message
	for _, m := range w.st.Unsent {
		m.At = now
		if err := w.notify.Notify(ctx, m); err != nil {
			w.log.Error("central alert not delivered", "id", m.ID, "err", err)
			keep = append(keep, m)
		}
	}
	w.st.Unsent = keep
	for _, m := range out {
		m.At = now
		if err := w.notify.Notify(ctx, m); err != nil {
			w.log.Error("central alert not delivered", "id", m.ID, "err", err)
			continue
		}
		w.st.Open[m.Centre].Notified = true
	}
	return w.save()
}

// save writes the state atomically (temp file, fsync, rename).
func (w *Watcher) save() error {
	b, err := json.MarshalIndent(w.st, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.Write(w.path, b)
}

// GatewayState is what the overview shows of a centre's gateway.
type GatewayState struct {
	LastSeen    time.Time
	Silent      bool
	SilentSince time.Time
}

// States returns the gateway state of every centre seen or registered.
func (w *Watcher) States() map[string]GatewayState {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]GatewayState, len(w.st.LastSeen))
	for c, t := range w.st.LastSeen {
		out[c] = GatewayState{LastSeen: t}
	}
	for c, in := range w.st.Open {
		s := out[c]
		s.Silent, s.SilentSince = true, in.Since
		out[c] = s
	}
	return out
}

// Healthy reports the last poll's error (nil when fine) and its time.
func (w *Watcher) Healthy() (time.Time, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastPoll, w.lastErr
}

// Run polls every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := w.Poll(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("silent-gateway poll", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
