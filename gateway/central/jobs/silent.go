package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
)

// SeenSource answers when each centre's gateway last reported: the store's
// heartbeats in the bucket (Store.LastSeen), or the ingest's last verified link
// (IngestSeen) where a verifying ingest is the only writer.
type SeenSource interface {
	LastSeen(ctx context.Context, from time.Time) (map[string]time.Time, error)
}

// Incident states of a silent gateway.
type silentIncident struct {
	ID       string    `json:"id"`
	Since    time.Time `json:"since"`     // when the gateway was found silent
	LastSeen time.Time `json:"last_seen"` // its latest heartbeat then (zero: never)
	announcement
}

func (in *silentIncident) incidentID() string       { return in.ID }
func (in *silentIncident) announced() *announcement { return &in.announcement }

// silentState is what survives a restart.
type silentState struct {
	LastSeen map[string]time.Time `json:"last_seen"`
	alerts[*silentIncident]
	Started   time.Time `json:"started"`
	NextIDSeq int       `json:"next_id_seq"`
}

// Watcher finds silent gateways: a registered centre whose gateway has written no
// heartbeat for SilentAfter is flagged and a central alert is sent once per incident;
// when it reports again the incident is resolved and that is sent too. Its state
// (last seen per centre, open incidents, undelivered messages) is kept in a JSON
// file written atomically, so a restart neither repeats nor forgets an alert.
type Watcher struct {
	watch[*silentIncident]
	src         SeenSource
	centres     []store.CentreInfo
	silentAfter time.Duration
	now         func() time.Time

	// guarded by mu:
	st       silentState
	lastPoll time.Time
	lastErr  error
}

// NewWatcher loads the state file (if any) from dir.
func NewWatcher(src SeenSource, n Notifier, centres []store.CentreInfo, silentAfter time.Duration, dir string, log *slog.Logger, now func() time.Time) (*Watcher, error) {
	if now == nil {
		now = time.Now
	}
	w := &Watcher{watch: watch[*silentIncident]{notify: n, log: log, path: filepath.Join(dir, "silent.json")},
		src: src, centres: centres, silentAfter: silentAfter, now: now}
	found, err := loadState(w.path, "silent gateways", &w.st)
	if err != nil {
		return nil, err
	}
	if !found {
		w.st.Started = now()
	}
	if w.st.LastSeen == nil {
		w.st.LastSeen = map[string]time.Time{}
	}
	if w.st.Open == nil {
		w.st.Open = map[string]*silentIncident{}
	}
	return w, nil
}

// Poll asks InfluxDB for heartbeats since the last poll (a day back at the first),
// updates the incidents and delivers what is due. The state lock is not held while
// messages are delivered (a channel may take its timeout), so States answers
// meanwhile.
func (w *Watcher) Poll(ctx context.Context) error {
	w.pollMu.Lock()
	defer w.pollMu.Unlock()
	now := w.now()
	w.mu.Lock()
	from := now.Add(-24 * time.Hour)
	if !w.lastPoll.IsZero() {
		from = w.lastPoll.Add(-2 * w.silentAfter)
	}
	w.mu.Unlock()
	seen, err := w.src.LastSeen(ctx, from)
	dests := destinationsOf(w.notify)
	w.mu.Lock()
	w.lastErr = err
	if err != nil {
		// Without an answer no gateway can be judged: InfluxDB down is not every
		// gateway silent.
		w.mu.Unlock()
		return err
	}
	w.lastPoll = now
	for c, t := range seen {
		if t.After(w.st.LastSeen[c]) {
			w.st.LastSeen[c] = t
		}
	}
	var out []pendingMessage // firings due, each to the destinations that lack it
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
			w.st.Unsent = in.resolution(w.st.Unsent, Message{
				Type: "silent_gateway", State: "resolved", ID: in.ID,
				Centre: c.ID, Name: c.Name, Region: c.Region, LastSeen: last, Since: in.Since,
				Text: fmt.Sprintf("Gateway of %s (%s) reports again (last heartbeat %s)", c.Name, c.ID, last.UTC().Format(time.RFC3339))})
		}
		in = w.st.Open[c.ID]
		if in == nil {
			continue
		}
		to := in.due(dests)
		if len(to) == 0 {
			continue
		}
		seenText := "never"
		if !in.LastSeen.IsZero() {
			seenText = in.LastSeen.UTC().Format(time.RFC3339)
		}
		out = append(out, pendingMessage{To: to, Message: Message{Type: "silent_gateway", State: "firing", ID: in.ID, Centre: c.ID,
			Name: c.Name, Region: c.Region, LastSeen: in.LastSeen, Since: in.Since,
			Text: fmt.Sprintf("Gateway of %s (%s, %s) silent: no heartbeat for over %v (last: %s)", c.Name, c.ID, c.Region, w.silentAfter, seenText)}})
	}
	return w.finish(ctx, now, dests, &w.st.alerts, out, &w.st)
}

// States returns the gateway state of every centre seen or registered.
func (w *Watcher) States() map[string]store.GatewayState {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]store.GatewayState, len(w.st.LastSeen))
	for c, t := range w.st.LastSeen {
		out[c] = store.GatewayState{LastSeen: t}
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
	w.run(ctx, every, "silent-gateway poll", w.Poll)
}
