package score

import (
	"errors"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Settings are what a centre's score is computed with: the centre config's (on
// the gateway) or the registry entry's (at the ministry).
type Settings struct {
	Location *time.Location // the centre's time zone; required
	Sensors  []Sensor       // the sensors, their zones' kinds and intervals
	// Weights and WeightsVersion; zero Weights mean DefaultWeights (and version).
	Weights        Weights
	WeightsVersion string
	NoCaps         bool // caps off: none applied or listed
}

// Others are the parts of a period that come from the other checks (or, at the
// ministry, from their points), and the serious conditions open in it. A part
// whose Applicable is false is left out (nothing configured for it).
type Others struct {
	Coverage, Rounds, Response Part
	Serious                    []telemetry.Condition // only kinds in EventCaps matter
}

// DayData are a centre-day's raw points.
type DayData struct {
	// Readings are the sensor events: those that do not count (retained, clock not
	// synchronised, no climate value, an unknown sensor) are ignored. Readings up
	// to an interval (plus HoldSlack) beyond either end of the day are used to hold
	// or confirm the day's first and last readings; pass them when there are.
	Readings []telemetry.Event
	// Alive are the times the gateway ran with a synchronised clock (its
	// once-a-minute heartbeats): each marks its minute. Times up to 24 hours before
	// the day are used to trace a gateway silence into it.
	Alive []time.Time
	// Installed is when the centre's gateway was installed, zero when unknown: the
	// time before it is no silence, and a day holding it is scored from it (an
	// earlier reading moves it back, as on the gateway).
	Installed time.Time
	// Plausibility, when set, keeps an implausible sensor's time out of band, as
	// the gateway's check does.
	Plausibility Plausibility
	Others
}

// ErrNoLocation is returned for settings without a time zone.
var ErrNoLocation = errors.New("score: no time zone")

// ComputeDay scores the local calendar day holding day from its raw points, as
// known at now: the day point the gateway's [Check] writes for the same points
// (both run [Settings.period]).
func ComputeDay(set Settings, day time.Time, data DayData, now time.Time) (Result, error) {
	if set.Location == nil {
		return Result{}, ErrNoLocation
	}
	set = set.withDefaults()
	l := newLedger(set.Location, set.Sensors)
	l.installed = data.Installed.Truncate(time.Minute)
	if data.Plausibility != nil {
		l.implausible = data.Plausibility.Implausible
	}
	start, end, _ := l.bounds(day)
	l.day(start)
	for i := range data.Readings {
		l.observe(&data.Readings[i])
	}
	for _, t := range data.Alive {
		if !t.After(now) {
			l.markAlive(t)
		}
	}
	return set.period(l, start, end, now, data.Others), nil
}

// DayBounds returns the start and end of the local day holding t in loc.
func DayBounds(t time.Time, loc *time.Location) (start, end time.Time) {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

func (set Settings) withDefaults() Settings {
	if set.Weights == (Weights{}) {
		set.Weights = DefaultWeights
		if set.WeightsVersion == "" {
			set.WeightsVersion = DefaultWeightsVersion
		}
	}
	return set
}

// period scores [from, to) from the ledger and the other checks' parts, as known
// at now: the one computation behind the gateway's live and day points and
// [ComputeDay].
func (set Settings) period(l *ledger, from, to, now time.Time, o Others) Result {
	ev := l.evaluate(from, to, now)
	end := minTime(to, now)
	var parts [NumComponents]Part
	parts[CompTemperature] = ev.temperature
	parts[CompAvailability] = ev.availability
	parts[CompCoverage] = o.Coverage
	parts[CompRounds] = o.Rounds
	parts[CompResponse] = o.Response
	caps := ev.caps
	for _, cd := range o.Serious {
		ec, ok := EventCaps[cd.Kind]
		if !ok {
			continue
		}
		stop := end
		if !cd.Resolved.IsZero() && cd.Resolved.Before(stop) {
			stop = cd.Resolved
		}
		if stop.Sub(cd.Since) >= ec.Min && cd.Since.Before(end) {
			caps = append(caps, ec.Cap)
		}
	}
	return Compute(set.Weights, parts, caps, !set.NoCaps)
}
