package decode

import (
	"fmt"
	"runtime/debug"
	"time"
)

// TimeBounds bound the payload times a caller accepts while the gateway's clock is
// not synchronised, when the arrival time cannot judge them: a device whose clock
// jumped (a Tasmota set by a wrong NTP server, a Shelly after a battery change) can
// stamp a reading 2036, and such a reading would sit in every "latest" query for ten
// years.
type TimeBounds struct {
	// Floor is the earliest plausible time: when this program was built.
	Floor time.Time
	// LastGood is the last time the gateway's clock was known to be right (zero if
	// never): a payload time more than MaxAhead past it is refused.
	LastGood time.Time
}

// MaxAhead is how far past the later of Floor and LastGood a payload time may lie
// while the clock is unsynchronised: long enough for a gateway that was switched off
// for a season, short enough that a stamp years ahead is refused.
const MaxAhead = 400 * 24 * time.Hour

// DefaultFloor is the floor used when the build carries no VCS time: this code's
// own date, since no reading it decodes can be older than the program decoding it.
var DefaultFloor = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// BuildFloor returns the time this program's source was committed (the vcs.time of
// its build info), or DefaultFloor when the build has none (go run, tests).
func BuildFloor() time.Time {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil && t.After(DefaultFloor) {
					return t.UTC()
				}
			}
		}
	}
	return DefaultFloor
}

// Check returns a bad_time *telemetry.RejectError if t lies before Floor or more than MaxAhead past
// the later of Floor and LastGood; nil otherwise, and for a zero t.
func (b TimeBounds) Check(t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if !b.Floor.IsZero() && t.Before(b.Floor) {
		return badTime(fmt.Errorf("%s is before this program was built (%s)",
			t.UTC().Format(time.RFC3339), b.Floor.UTC().Format(time.DateOnly)))
	}
	ref := b.Floor
	if b.LastGood.After(ref) {
		ref = b.LastGood
	}
	if !ref.IsZero() && t.After(ref.Add(MaxAhead)) {
		return badTime(fmt.Errorf("%s is more than %d days past the last known good time %s",
			t.UTC().Format(time.RFC3339), int(MaxAhead/(24*time.Hour)), ref.UTC().Format(time.RFC3339)))
	}
	return nil
}
