package score

import (
	"math"
	"time"

	"github.com/saqshy/saqshy/gateway/zonekind"
)

// Band is what the temperature component scores a sensor against: the band of its
// zone (the range where no warning limit is crossed), the zone kind's weight and
// the cap a serious reading there triggers. It comes from the zone-kind table
// ([SensorBand]); the score keeps no table of its own.
type Band struct {
	Min, Max float64 // °C, inclusive; ±Inf when open
	// Weight is the zone kind's criticality: a zone's share of the temperature
	// component is proportional to it.
	Weight float64
	// Cap is the cap a serious reading in the zone triggers ("" for none); Serious
	// says which reading is serious, and CapFor how long the serious readings'
	// slots must add up to within the period (0: one is enough).
	Cap     string
	Serious func(c float64) bool
	CapFor  time.Duration
}

// In reports whether c is inside the band.
func (b Band) In(c float64) bool { return c >= b.Min && c <= b.Max }

var inf = math.Inf(1)

// SensorBand returns the band sensor s is scored against: the judged band of its
// zone with the zone's own limits applied (zonekind.Effective, as the alert rules
// and the status page apply them), its kind's weight and cap. ok is false when the
// zone is not scored for temperature (a kind without a weight or without
// temperature limits, DOMAIN.md §6.1); its sensors still count for availability.
func SensorBand(s Sensor) (b Band, ok bool) {
	z := zonekind.Effective(s.ZoneKind, s.Limits)
	band, ok := z.Scored()
	if !ok {
		return Band{}, false
	}
	b = Band{Min: band.Low, Max: band.High, Weight: z.Kind.Weight, Cap: z.Kind.Cap.ID}
	if b.Cap != "" {
		b.Serious, b.CapFor = z.Kind.Cap.Serious.Beyond, z.Kind.Cap.Serious.Hold
	}
	return b, true
}
