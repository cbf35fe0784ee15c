// Package zonekind is the one table of zone kinds: for each kind of place in a
// centre its names, whether it is private, its camera coverage rule, its normal
// temperature band (by season where DOMAIN.md §6.1 has one), its default alert
// limits with their holds, and how the safety score weighs and caps it.
//
// Every consumer reads this table and nothing else: the alert rules (the limits),
// the safety score (the band the limits draw, the weight, the cap), config
// validation (the names, privacy, coverage), the status page's colours and the
// monitor's charts (the band the limits draw), and docs/ZONES.md, which is
// generated from it (go test ./gateway/zonekind -run Doc -update).
//
// A zone's own limits (config alerts.limits) change its bands the same way for
// every consumer: [Effective] is the one function that applies them.
//
// It imports only the standard library and gateway/telemetry.
package zonekind

import (
	"math"
	"slices"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Kind is one kind of zone: one row of the table.
type Kind struct {
	// Name is the value written in a zone's kind, e.g. "med-fridge".
	Name string
	// Description is one line for a technician.
	Description string
	// Names are what people call the kind, for pages and messages.
	Names Names
	// Private kinds (bathroom, toilet, changing) may never be covered by a camera,
	// whatever the config says; their Coverage is Prohibited.
	Private bool
	// Coverage is the default camera coverage rule; config may override it for
	// non-private kinds.
	Coverage Coverage
	// Normal is the target temperature band of DOMAIN.md §6.1, by season where it
	// has one. It is documentation: what is judged is the band the Limits draw
	// ([Zone.Bands]), which holds the normal band of every season.
	Normal []SeasonBand
	// Limits are the default alert limits (temperature and humidity).
	Limits []Limit
	// Weight is the zone's share of the score's temperature component relative to
	// other zones; 0: not scored for temperature (its sensors still count for
	// availability).
	Weight float64
	// Cap is the score cap a serious reading in the zone triggers; zero for none.
	Cap Cap
}

// Names are a kind's display names.
type Names struct{ RU, KK, EN string }

// In returns the name in lang (ru, kk or en; anything else is English).
func (n Names) In(lang string) string {
	switch lang {
	case "ru":
		return n.RU
	case "kk":
		return n.KK
	}
	return n.EN
}

// Coverage is a camera coverage rule.
type Coverage string

// Coverage rules.
const (
	Required   Coverage = "required"   // must be watched: counted in the coverage ratios
	Optional   Coverage = "optional"   // may be watched: not counted
	Prohibited Coverage = "prohibited" // must never be watched: a camera there is a config error
)

// Season is when a normal band applies.
type Season string

// Seasons. DOMAIN.md §6.1 splits only resident rooms by season.
const (
	AllYear Season = "all year"
	Cold    Season = "cold season"
	Warm    Season = "warm season"
)

// Band is a temperature range in °C, both ends included; an open end is ±Inf.
type Band struct{ Low, High float64 }

// In reports whether c is inside the band.
func (b Band) In(c float64) bool { return c >= b.Low && c <= b.High }

// Open is the band without ends.
var Open = Band{math.Inf(-1), math.Inf(1)}

// SeasonBand is a normal band and when it applies.
type SeasonBand struct {
	Season Season
	Band
}

// Limit is one threshold on one metric.
type Limit struct {
	Metric telemetry.Metric // Temperature or Humidity
	// Above: the limit is crossed by values greater than Value; otherwise by values
	// less than Value. OrEqual includes Value itself.
	Above   bool
	OrEqual bool
	Value   float64
	// Hold is how long the value must stay beyond the limit before it fires; 0
	// fires at once.
	Hold     time.Duration
	Severity telemetry.Severity
	// Kind overrides the condition kind (default <metric>_high or <metric>_low).
	Kind string
}

// KindFreeze is the condition a medicine fridge at or below 0 °C raises. Its
// limit stays when a zone overrides the temperature limits (see [Effective]).
const KindFreeze = "temperature_freeze"

// ConditionKind returns the kind of condition the limit raises.
func (l Limit) ConditionKind() string {
	if l.Kind != "" {
		return l.Kind
	}
	m := "temperature"
	if l.Metric == telemetry.Humidity {
		m = "humidity"
	}
	if l.Above {
		return m + "_high"
	}
	return m + "_low"
}

// Beyond reports whether v crosses the limit.
func (l Limit) Beyond(v float64) bool {
	switch {
	case l.Above && l.OrEqual:
		return v >= l.Value
	case l.Above:
		return v > l.Value
	case l.OrEqual:
		return v <= l.Value
	}
	return v < l.Value
}

// Back reports whether v is back past the limit by at least hyst.
func (l Limit) Back(v, hyst float64) bool {
	if l.Above {
		return v <= l.Value-hyst && !(l.OrEqual && v >= l.Value)
	}
	return v >= l.Value+hyst && !(l.OrEqual && v <= l.Value)
}

// Hysteresis is how far a value must come back past a limit to clear it (and to
// reset a running hold), per metric: the same for every kind.
const (
	TempHysteresis  = 0.5 // °C
	HumidHysteresis = 3.0 // % relative humidity
)

// Cap is a score cap a zone kind's serious readings trigger.
type Cap struct {
	// ID is the score's cap id, e.g. "scald"; "" for none.
	ID string
	// Serious is the temperature limit beyond which a reading is serious. Its Hold
	// is cumulative: the serious readings' slots must add up to it within the
	// scored period (0: one serious reading is enough).
	Serious Limit
}

// Lookup returns the kind called name.
func Lookup(name string) (Kind, bool) {
	i, ok := slices.BinarySearchFunc(table, name, func(k Kind, n string) int {
		switch {
		case k.Name < n:
			return -1
		case k.Name > n:
			return 1
		}
		return 0
	})
	if !ok {
		return Kind{}, false
	}
	return table[i], true
}

// All returns every kind, sorted by name. The slice is a copy (the kinds' slices
// are shared: do not modify them).
func All() []Kind { return slices.Clone(table) }

// KindNames returns the kinds' names, sorted.
func KindNames() []string {
	names := make([]string, len(table))
	for i, k := range table {
		names[i] = k.Name
	}
	return names
}

// DefaultLimits returns the default limits of a kind (nil for kinds without any,
// such as office or other, and for unknown kinds). The slice is a copy.
func DefaultLimits(kind string) []Limit {
	k, _ := Lookup(kind)
	return slices.Clone(k.Limits)
}
