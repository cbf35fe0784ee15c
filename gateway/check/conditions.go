package check

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Conditions holds the open conditions, keyed by kind and subject. Raising an open
// condition again refreshes its reason and value, and changes its severity if the
// new one differs; clearing a condition that is not open does nothing, so a check
// may call Clear on every healthy observation.
//
// Every transition (opened, severity changed, resolved) is passed on to the
// listeners (the alert engine), in order, whoever raised it: sensor probes, the
// temperature rules, cameras, night rounds. The listeners are called after the
// registry's lock is released, one transition at a time: a listener that is slow
// (saving the alert state, writing the outbox) holds up nobody's Raise or Clear but
// the one that delivers, and never the readers of the registry.
type Conditions struct {
	log *slog.Logger

	mu         sync.Mutex
	open       map[condKey]telemetry.Condition
	listeners  []telemetry.Conditions
	history    []telemetry.Condition // resolved, oldest first, the last keepResolved
	queue      []transition          // not yet delivered, in order
	delivering bool                  // a goroutine is delivering the queue
}

// keepResolved bounds the resolved conditions kept for the safety score's caps.
const keepResolved = 2000

type condKey struct{ kind, subject string }

// transition is one change for the listeners: a raise (or severity change) of c, or
// a clear of (c.Kind, c.Subject) at c.Resolved.
type transition struct {
	c     telemetry.Condition
	clear bool
}

// NewConditions returns an empty registry.
func NewConditions(log *slog.Logger) *Conditions {
	return &Conditions{log: log, open: map[condKey]telemetry.Condition{}}
}

// Listen adds a listener; call it before the gateway runs. A listener hears every
// transition of a condition, in the order of the transitions, never two at once.
// It may be called on the goroutine of a later Raise or Clear than the
// transition's own; it may call back into the registry (the transitions it causes
// are delivered after it returns).
func (cs *Conditions) Listen(l telemetry.Conditions) {
	cs.mu.Lock()
	cs.listeners = append(cs.listeners, l)
	cs.mu.Unlock()
}

// Raise opens c (or refreshes the reason, value and severity of the same open
// condition).
func (cs *Conditions) Raise(c telemetry.Condition) {
	k := condKey{c.Kind, c.Subject}
	cs.mu.Lock()
	old, ok := cs.open[k]
	if ok {
		changed := old.Severity != c.Severity
		old.Reason, old.Value, old.HasValue, old.Severity = c.Reason, c.Value, c.HasValue, c.Severity
		cs.open[k] = old
		if changed {
			cs.log.Warn("condition severity changed", "kind", c.Kind, "subject", c.Subject, "severity", c.Severity.String(), "reason", c.Reason)
			cs.queue = append(cs.queue, transition{c: old})
		}
	} else {
		cs.open[k] = c
		cs.log.Warn("condition raised", "kind", c.Kind, "subject", c.Subject, "zone", c.Zone,
			"severity", c.Severity.String(), "reason", c.Reason)
		cs.queue = append(cs.queue, transition{c: c})
	}
	cs.mu.Unlock()
	cs.deliver()
}

// Clear resolves the open condition (kind, subject) at t, if any.
func (cs *Conditions) Clear(kind, subject string, t time.Time) {
	k := condKey{kind, subject}
	cs.mu.Lock()
	c, ok := cs.open[k]
	if !ok {
		cs.mu.Unlock()
		return
	}
	delete(cs.open, k)
	c.Resolved = t
	if cs.history = append(cs.history, c); len(cs.history) > keepResolved {
		cs.history = slices.Delete(cs.history, 0, len(cs.history)-keepResolved)
	}
	cs.log.Info("condition resolved", "kind", kind, "subject", subject, "zone", c.Zone,
		"open_for", t.Sub(c.Since).Round(time.Second))
	cs.queue = append(cs.queue, transition{c: c, clear: true})
	cs.mu.Unlock()
	cs.deliver()
}

// deliver passes the queued transitions to the listeners, outside the lock, unless
// another goroutine is already doing so: that one then delivers these too, after
// the ones before them.
func (cs *Conditions) deliver() {
	for {
		cs.mu.Lock()
		if cs.delivering || len(cs.queue) == 0 {
			cs.mu.Unlock()
			return
		}
		cs.delivering = true
		q, ls := cs.queue, cs.listeners
		cs.queue = nil
		cs.mu.Unlock()
		for _, tr := range q {
			for _, l := range ls {
				if tr.clear {
					l.Clear(tr.c.Kind, tr.c.Subject, tr.c.Resolved)
				} else {
					l.Raise(tr.c)
				}
			}
		}
		cs.mu.Lock()
		cs.delivering = false
		cs.mu.Unlock()
	}
}

// Restore opens c without telling the listeners: a condition the alert engine
// remembered across a restart, so that its raiser's Clear reaches the engine.
func (cs *Conditions) Restore(c telemetry.Condition) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	k := condKey{c.Kind, c.Subject}
	if _, ok := cs.open[k]; !ok {
		cs.open[k] = c
	}
}

// List returns the open conditions, oldest first.
func (cs *Conditions) List() []telemetry.Condition {
	cs.mu.Lock()
	out := make([]telemetry.Condition, 0, len(cs.open))
	for _, c := range cs.open {
		out = append(out, c)
	}
	cs.mu.Unlock()
	slices.SortFunc(out, func(a, b telemetry.Condition) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.Kind+a.Subject, b.Kind+b.Subject)
	})
	return out
}

// Between returns the conditions open at any time in [from, to): the open ones
// raised before to, and the resolved ones kept that were open in the period.
func (cs *Conditions) Between(from, to time.Time) []telemetry.Condition {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []telemetry.Condition
	for _, c := range cs.open {
		if c.Since.Before(to) {
			out = append(out, c)
		}
	}
	for _, c := range cs.history {
		if c.Since.Before(to) && c.Resolved.After(from) {
			out = append(out, c)
		}
	}
	return out
}
