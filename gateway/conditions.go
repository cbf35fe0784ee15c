package gateway

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// conditions holds the open conditions, keyed by kind and subject. Raising an open
// condition again refreshes its reason and value, and changes its severity if the
// new one differs; clearing a condition that is not open does nothing, so a check
// may call Clear on every healthy observation.
//
// Every transition (opened, severity changed, resolved) is passed on to the
// listeners (the alert engine), in order, whoever raised it: sensor probes, the
// temperature rules, cameras, night rounds.
type conditions struct {
	log *slog.Logger

	mu        sync.Mutex
	open      map[condKey]telemetry.Condition
	listeners []condListener
	history   []telemetry.Condition // resolved, oldest first, the last keepResolved
}

// keepResolved bounds the resolved conditions kept for the safety score's caps.
const keepResolved = 2000

// condListener hears every transition of a condition. It is called with the
// registry's lock held, so transitions arrive in order; it must not call back into
// the registry and should return quickly.
type condListener interface {
	Raise(c telemetry.Condition)
	Clear(kind, subject string, at time.Time)
}

type condKey struct{ kind, subject string }

func newConditions(log *slog.Logger) *conditions {
	return &conditions{log: log, open: map[condKey]telemetry.Condition{}}
}

// listen adds a listener; call it before the gateway runs.
func (cs *conditions) listen(l condListener) {
	cs.mu.Lock()
	cs.listeners = append(cs.listeners, l)
	cs.mu.Unlock()
}

// Raise opens c (or refreshes the reason, value and severity of the same open
// condition).
func (cs *conditions) Raise(c telemetry.Condition) {
	k := condKey{c.Kind, c.Subject}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	old, ok := cs.open[k]
	if ok {
		changed := old.Severity != c.Severity
		old.Reason, old.Value, old.HasValue, old.Severity = c.Reason, c.Value, c.HasValue, c.Severity
		cs.open[k] = old
		if changed {
			cs.log.Warn("condition severity changed", "kind", c.Kind, "subject", c.Subject, "severity", c.Severity.String(), "reason", c.Reason)
			for _, l := range cs.listeners {
				l.Raise(old)
			}
		}
		return
	}
	cs.open[k] = c
	cs.log.Warn("condition raised", "kind", c.Kind, "subject", c.Subject, "zone", c.Zone,
		"severity", c.Severity.String(), "reason", c.Reason)
	for _, l := range cs.listeners {
		l.Raise(c)
	}
}

// Clear resolves the open condition (kind, subject) at t, if any.
func (cs *conditions) Clear(kind, subject string, t time.Time) {
	k := condKey{kind, subject}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.open[k]
	if !ok {
		return
	}
	delete(cs.open, k)
	c.Resolved = t
	if cs.history = append(cs.history, c); len(cs.history) > keepResolved {
		cs.history = slices.Delete(cs.history, 0, len(cs.history)-keepResolved)
	}
	cs.log.Info("condition resolved", "kind", kind, "subject", subject, "zone", c.Zone,
		"open_for", t.Sub(c.Since).Round(time.Second))
	for _, l := range cs.listeners {
		l.Clear(kind, subject, t)
	}
}

// restore opens c without telling the listeners: a condition the alert engine
// remembered across a restart, so that its raiser's Clear reaches the engine.
func (cs *conditions) restore(c telemetry.Condition) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	k := condKey{c.Kind, c.Subject}
	if _, ok := cs.open[k]; !ok {
		cs.open[k] = c
	}
}

// list returns the open conditions, oldest first.
func (cs *conditions) list() []telemetry.Condition {
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

// Conditions returns the open conditions, oldest first. Safe for concurrent use.
func (g *Gateway) Conditions() []telemetry.Condition { return g.conds.list() }

// between returns the conditions open at any time in [from, to): the open ones
// raised before to, and the resolved ones kept that were open in the period.
func (cs *conditions) between(from, to time.Time) []telemetry.Condition {
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
