package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// The watches (silent gateways, registry versions) share one way of announcing an
// incident: a firing goes to every destination that lacks it, a resolution only to
// the destinations that heard of the incident, and what a destination did not
// accept stays queued in the state file for the next poll.

// allDests is the one destination of a Notifier that is not a multiNotifier.
const allDests = "all"

// pendingMessage is a message still to deliver, to To (nil: every destination).
type pendingMessage struct {
	Message
	To []string `json:"to,omitempty"`
}

// announcement is the part of an incident that records its firing's delivery.
type announcement struct {
	Notified bool `json:"notified"` // the firing message reached at least one destination
	// NotifiedTo names the destinations that accepted the firing message; the
	// resolution goes to these. Nil with Notified: a state file from before it was
	// kept (every destination).
	NotifiedTo []string `json:"notified_to,omitempty"`
}

// due returns the destinations among dests still lacking the firing message.
func (a *announcement) due(dests []string) []string {
	switch {
	case !a.Notified:
		return dests
	case a.NotifiedTo != nil: // some destinations may have failed: retry those
		return minus(dests, a.NotifiedTo)
	}
	return nil
}

// resolution queues the resolution m to the destinations that heard of the
// incident; a never-announced incident needs no resolution either.
func (a *announcement) resolution(unsent []pendingMessage, m Message) []pendingMessage {
	if !a.Notified {
		return unsent
	}
	return append(unsent, pendingMessage{To: slices.Clone(a.NotifiedTo), Message: m})
}

// delivered records that the destinations in got accepted the firing.
func (a *announcement) delivered(got []string) {
	if len(got) == 0 {
		return
	}
	a.Notified = true
	a.NotifiedTo = append(a.NotifiedTo, minus(got, a.NotifiedTo)...)
}

// incident is an open incident of a watch, keyed by centre in its state.
type incident interface {
	incidentID() string
	announced() *announcement
}

// alerts is the part of a watch's state that announcing keeps: the open
// incidents by centre and the resolutions not yet delivered everywhere.
type alerts[I incident] struct {
	Open   map[string]I     `json:"open"`
	Unsent []pendingMessage `json:"unsent"`
}

// watch is what the silent-gateway and the registry watches share: the channels,
// one Poll at a time, a state lock never held while delivering, the state file.
type watch[I incident] struct {
	notify Notifier
	log    *slog.Logger
	path   string // the state file

	pollMu sync.Mutex // one Poll at a time; held while delivering
	mu     sync.Mutex // guards the watch's state; never held while delivering
}

// finish ends a poll: called with w.mu held, it delivers (w.mu released) the
// resolutions queued in a, then the firings; holding w.mu again, it keeps queued
// what a destination did not accept, records who got each firing and saves st,
// the state that holds a. Only Poll changes a, and pollMu keeps Polls apart.
func (w *watch[I]) finish(ctx context.Context, now time.Time, dests []string, a *alerts[I], firings []pendingMessage, st any) error {
	unsent := slices.Clone(a.Unsent)
	w.mu.Unlock()
	keep, got := w.send(ctx, now, dests, unsent, firings)
	w.mu.Lock()
	defer w.mu.Unlock()
	a.Unsent = keep
	for i, p := range firings {
		if in, ok := a.Open[p.Centre]; ok && in.incidentID() == p.ID {
			in.announced().delivered(got[i])
		}
	}
	return saveState(w.path, st)
}

// send delivers the resolutions unsent (a destination no longer configured is
// dropped), then the firings. It returns what of unsent stays queued and, per
// firing, the destinations that accepted it.
func (w *watch[I]) send(ctx context.Context, now time.Time, dests []string, unsent, firings []pendingMessage) (keep []pendingMessage, got [][]string) {
	for _, p := range unsent {
		to := p.To
		if to == nil {
			to = dests
		} else {
			to = minus(to, minus(to, dests))
		}
		if len(to) == 0 {
			continue
		}
		p.At = now
		ok, err := deliverTo(ctx, w.notify, p.Message, to)
		if err != nil {
			w.log.Error("central alert not delivered", "id", p.ID, "err", err)
		}
		if rest := minus(to, ok); len(rest) > 0 {
			p.To = rest
			keep = append(keep, p)
		}
	}
	got = make([][]string, len(firings))
	for i, p := range firings {
		p.At = now
		ok, err := deliverTo(ctx, w.notify, p.Message, p.To)
		if err != nil {
			w.log.Error("central alert not delivered", "id", p.ID, "err", err)
		}
		got[i] = ok
	}
	return keep, got
}

// run calls poll every interval until ctx ends, logging its errors as what.
func (w *watch[I]) run(ctx context.Context, every time.Duration, what string, poll func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := poll(ctx); err != nil && ctx.Err() == nil {
			w.log.Error(what, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// destinationsOf names n's destinations.
func destinationsOf(n Notifier) []string {
	if mn, ok := n.(multiNotifier); ok {
		return mn.Destinations()
	}
	return []string{allDests}
}

// deliverTo sends m to the destinations to and returns those that accepted it.
func deliverTo(ctx context.Context, n Notifier, m Message, to []string) ([]string, error) {
	if mn, ok := n.(multiNotifier); ok {
		return mn.NotifyTo(ctx, m, to)
	}
	if err := n.Notify(ctx, m); err != nil {
		return nil, err
	}
	return to, nil
}

// minus returns the names in a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// loadState reads a watch's JSON state file into st; found is false when there is
// none yet. what names the watch in errors.
func loadState(path, what string, st any) (found bool, err error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%s: %w", what, err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return false, fmt.Errorf("%s: state file %s: %w", what, path, err)
	}
	return true, nil
}

// saveState writes a watch's state atomically (temp file, fsync, rename).
func saveState(path string, st any) error {
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}
