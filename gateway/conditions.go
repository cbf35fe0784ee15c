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
// condition again refreshes its reason and can raise its severity (a coverage gap
// going from warning to critical), never lower it; clearing a condition that is
// not open does nothing.
type conditions struct {
	log *slog.Logger

	mu   sync.Mutex
	open map[condKey]telemetry.Condition
}

type condKey struct{ kind, subject string }

func newConditions(log *slog.Logger) *conditions {
	return &conditions{log: log, open: map[condKey]telemetry.Condition{}}
}

// Raise opens c (or refreshes the reason of the same open condition).
func (cs *conditions) Raise(c telemetry.Condition) {
	k := condKey{c.Kind, c.Subject}
	cs.mu.Lock()
	old, ok := cs.open[k]
	escalated := ok && c.Severity > old.Severity
	if ok {
		old.Reason = c.Reason
		old.Severity = max(old.Severity, c.Severity)
		cs.open[k] = old
	} else {
		cs.open[k] = c
	}
	cs.mu.Unlock()
	if !ok || escalated {
		cs.log.Warn("condition raised", "kind", c.Kind, "subject", c.Subject, "zone", c.Zone,
			"severity", c.Severity.String(), "reason", c.Reason)
	}
}

// Clear resolves the open condition (kind, subject) at t, if any.
func (cs *conditions) Clear(kind, subject string, t time.Time) {
	k := condKey{kind, subject}
	cs.mu.Lock()
	c, ok := cs.open[k]
	delete(cs.open, k)
	cs.mu.Unlock()
	if ok {
		cs.log.Info("condition resolved", "kind", kind, "subject", subject, "zone", c.Zone,
			"open_for", t.Sub(c.Since).Round(time.Second))
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
