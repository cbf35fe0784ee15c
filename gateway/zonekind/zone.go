package zonekind

import (
	"math"
	"slices"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Zone is one zone's effective settings: its kind's row with the zone's own limits
// applied. Build it with [Effective]; the alert rules, the score, the status page
// and the monitor's charts all judge a zone by it.
type Zone struct {
	Kind Kind
	// Limits are the zone's alert limits: its own limits for a metric where it has
	// any, else its kind's defaults.
	Limits []Limit
}

// Effective returns the settings of a zone of kind with the zone's own limits
// (config alerts.limits; nil for none). The limits given for a metric replace all
// the kind's defaults of that metric, except the freeze limit of a medicine fridge
// ([KindFreeze]), which no zone may drop. An unknown kind has no defaults.
//
// The score's cap ([Kind.Cap]) is not changed by a zone's limits: the caps are the
// ministry's rating rules (DOMAIN.md §6.4), not a centre's to loosen.
func Effective(kind string, overrides []Limit) Zone {
	k, ok := Lookup(kind)
	if !ok {
		k = Kind{Name: kind}
	}
	if len(overrides) == 0 {
		return Zone{Kind: k, Limits: slices.Clone(k.Limits)}
	}
	overridden := map[telemetry.Metric]bool{}
	for _, o := range overrides {
		overridden[o.Metric] = true
	}
	var lims []Limit
	for _, d := range k.Limits {
		if !overridden[d.Metric] || d.Kind == KindFreeze {
			lims = append(lims, d)
		}
	}
	return Zone{Kind: k, Limits: append(lims, overrides...)}
}

// Bands returns the temperature bands the zone's limits draw. Inside warn no
// limit is crossed; outside crit a critical one is (whatever its hold), so a band
// says which alert a reading leads to if it stays. A critical limit inside the
// warning band narrows warn too. ok is false when the zone has no temperature
// limits.
//
// warn is the band the score counts as in band, the status page colours green and
// the monitor's chart shades.
func (z Zone) Bands() (warn, crit Band, ok bool) {
	warn, crit = Open, Open
	for _, l := range z.Limits {
		if l.Metric != telemetry.Temperature {
			continue
		}
		ok = true
		switch {
		case l.Above && l.Severity == telemetry.Critical:
			crit.High = min(crit.High, l.Value)
		case l.Above:
			warn.High = min(warn.High, l.Value)
		case l.Severity == telemetry.Critical:
			crit.Low = max(crit.Low, l.Value)
		default:
			warn.Low = max(warn.Low, l.Value)
		}
	}
	warn.Low, warn.High = max(warn.Low, crit.Low), min(warn.High, crit.High)
	return warn, crit, ok
}

// Scored returns the band the score's temperature component counts a zone's
// readings against, and whether the zone is scored for temperature at all: only
// a kind with a weight and temperature limits is.
func (z Zone) Scored() (Band, bool) {
	warn, _, ok := z.Bands()
	if !ok || z.Kind.Weight <= 0 {
		return Band{}, false
	}
	return warn, true
}

// ChartBand is the band the monitor's chart of a zone of kind shades as normal:
// the warning band of the kind's default limits (the monitor knows no zone's own
// limits). ok is false for kinds without temperature limits.
func ChartBand(kind string) (lo, hi float64, ok bool) {
	warn, _, ok := Effective(kind, nil).Bands()
	return warn.Low, warn.High, ok
}

// inf is +Inf, for the table.
var inf = math.Inf(1)
