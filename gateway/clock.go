package gateway

import (
	"sync"
	"time"
)

// Clock tells the time and whether it can be trusted. A Raspberry Pi has no RTC: it
// boots in the past and jumps when NTP answers.
type Clock interface {
	Now() time.Time
	// Synced reports whether the system clock is synchronised to a time source.
	Synced() bool
}

// SystemClock is the host clock; Synced asks the kernel (adjtimex) and caches the
// answer for a few seconds.
type SystemClock struct {
	mu      sync.Mutex
	checked time.Time
	synced  bool
}

// Now returns time.Now().
func (c *SystemClock) Now() time.Time { return time.Now() }

// Synced reports whether the kernel considers the clock synchronised and the time is
// plausibly after the build of this program (a Pi that booted at 1970 is not).
func (c *SystemClock) Synced() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if now.Sub(c.checked) < 5*time.Second && !c.checked.IsZero() {
		return c.synced
	}
	c.checked = now
	c.synced = now.Year() >= 2025 && kernelSynced()
	return c.synced
}

// FixedSync is a Clock whose Synced answer is fixed: for tests and for hosts where
// the kernel cannot tell (containers) but the operator knows the time is right.
type FixedSync bool

// Now returns time.Now().
func (FixedSync) Now() time.Time { return time.Now() }

// Synced returns the fixed answer.
func (f FixedSync) Synced() bool { return bool(f) }
