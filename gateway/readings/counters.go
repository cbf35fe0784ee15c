package readings

import (
	"log/slog"
	"maps"
	"sync"
	"time"
)

// Counters counts messages per source and outcome ("decoded", "ignored", a decoder's
// reject reason such as "bad_json", or "retained_stale", "unmapped_topic", "unmapped_key") and logs rejects
// rate-limited: the first of each (source, reason) at once, then at most one a
// minute with the number suppressed.
type Counters struct {
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	counts map[Key]uint64
	logged map[Key]logState
}

// Key names one counter.
type Key struct{ Source, Outcome string }

type logState struct {
	at         time.Time
	suppressed uint64
}

func newCounters(log *slog.Logger, now func() time.Time) *Counters {
	return &Counters{log: log, now: now, counts: map[Key]uint64{}, logged: map[Key]logState{}}
}

func (c *Counters) count(source, outcome string) {
	c.mu.Lock()
	c.counts[Key{source, outcome}]++
	c.mu.Unlock()
}

func (c *Counters) reject(source, reason, topic string, err error) {
	k := Key{source, reason}
	now := c.now()
	c.mu.Lock()
	c.counts[k]++
	st := c.logged[k]
	logIt := st.at.IsZero() || now.Sub(st.at) >= time.Minute
	var suppressed uint64
	if logIt {
		suppressed = st.suppressed
		c.logged[k] = logState{at: now}
	} else {
		st.suppressed++
		c.logged[k] = st
	}
	c.mu.Unlock()
	if logIt {
		c.log.Warn("message rejected", "source", source, "reason", reason, "topic", topic, "err", err, "suppressed_since_last", suppressed)
	}
}

// Snapshot returns a copy of every counter.
func (c *Counters) Snapshot() map[Key]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Rejected returns the number of rejected messages and samples: every outcome but
// "decoded" and "ignored".
func (c *Counters) Rejected() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n uint64
	for k, v := range c.counts {
		if k.Outcome != "decoded" && k.Outcome != "ignored" {
			n += v
		}
	}
	return n
}
