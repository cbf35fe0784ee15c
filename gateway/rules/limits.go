package rules

import (
	"math"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Limit is one threshold on one metric of a sensor.
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

// beyond reports whether v crosses the limit.
func (l Limit) beyond(v float64) bool {
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

// back reports whether v is back past the limit by at least hyst.
func (l Limit) back(v, hyst float64) bool {
	if l.Above {
		return v <= l.Value-hyst && !(l.OrEqual && v >= l.Value)
	}
	return v >= l.Value+hyst && !(l.OrEqual && v <= l.Value)
}

// Condition kinds raised by this package besides the limits' own.
const (
	KindFreeze     = "temperature_freeze"     // a medicine fridge at or below 0 °C
	KindCumulative = "temperature_cumulative" // a medicine fridge out of range > 60 min in 24 h
	KindStale      = "sensor_stale"
	KindOffline    = "device_offline"
	KindBattery    = "battery_low"
	KindSpool      = "gateway_spool"
	KindUplink     = "gateway_uplink"
	KindClock      = "gateway_clock"
	KindMQTT       = "gateway_mqtt"
)

// GatewaySubject is the subject of the gateway-health conditions.
const GatewaySubject = "gateway"

func tl(above bool, v float64, hold time.Duration, sev telemetry.Severity) Limit {
	return Limit{Metric: telemetry.Temperature, Above: above, Value: v, Hold: hold, Severity: sev}
}

func hl(above bool, v float64, hold time.Duration) Limit {
	return Limit{Metric: telemetry.Humidity, Above: above, Value: v, Hold: hold, Severity: telemetry.Warning}
}

const (
	above = true
	below = false
	W     = telemetry.Warning
	C     = telemetry.Critical
	mn    = time.Minute
)

// residentHumidity is the advisory humidity band of zones where people live: a
// warning only, after a day outside 25–65 %.
var residentHumidity = []Limit{hl(below, 25, 24*time.Hour), hl(above, 65, 24*time.Hour)}

// defaults per zone kind, from DOMAIN.md §6.1 (the cold- and warm-season rows of
// resident rooms merged: the lower limits of the cold season, the upper of both).
var defaults = map[string][]Limit{
	"living": append([]Limit{
		tl(below, 20, 60*mn, W), tl(above, 25, 60*mn, W),
		tl(below, 18, 30*mn, C), tl(above, 26, 120*mn, C), tl(above, 28, 30*mn, C),
	}, residentHumidity...),
	"children-bedroom": append([]Limit{
		tl(below, 19, 60*mn, W), tl(above, 25, 60*mn, W),
		tl(below, 18, 30*mn, C), tl(above, 26, 120*mn, C),
	}, residentHumidity...),
	"cool-room": {tl(above, 26, 30*mn, W), tl(above, 26, 120*mn, C)},
	"bathroom":  {tl(below, 23, 30*mn, W)},
	"corridor":  {tl(below, 18, 60*mn, W), tl(below, 16, 60*mn, C)},
	"activity":  append([]Limit{tl(below, 18, 60*mn, W), tl(below, 16, 60*mn, C)}, residentHumidity...),
	"stairs":    {tl(below, 16, 60*mn, W)},
	"medical": append([]Limit{
		tl(below, 20, 60*mn, W), tl(above, 26, 60*mn, W),
		tl(below, 18, 60*mn, C), tl(above, 28, 60*mn, C),
	}, residentHumidity...),
	"med-fridge": {
		tl(above, 8, 15*mn, W), tl(below, 2, 5*mn, W),
		tl(above, 8, 60*mn, C), tl(above, 12, 0, C),
		{Metric: telemetry.Temperature, OrEqual: true, Value: 0, Severity: C, Kind: KindFreeze},
	},
	"food-fridge": {tl(above, 5, 30*mn, W), tl(above, 8, 60*mn, C)},
	"freezer":     {tl(above, -18, 60*mn, W), tl(above, -12, 120*mn, C)},
	"boiler":      {tl(below, 60, 60*mn, W), tl(below, 55, 120*mn, C)},
	"hot-water":   {{Metric: telemetry.Temperature, Above: true, Value: 44, Hold: 30 * time.Second, Severity: W}, tl(above, 46, 0, C)},
}

// DefaultLimits returns the default limits of a zone kind (nil for kinds without
// any, such as office or other). The slice is a copy.
func DefaultLimits(zoneKind string) []Limit {
	d := defaults[zoneKind]
	if d == nil {
		return nil
	}
	return append([]Limit(nil), d...)
}

// Cumulative rule of a medicine fridge (DOMAIN.md §6.1): more than an hour out of
// range within 24 h is critical.
const (
	CumulativeWindow = 24 * time.Hour
	CumulativeMax    = 60 * time.Minute
)

// Default tuning.
const (
	DefaultStaleFactor     = 3
	DefaultStaleCritical   = 60 * time.Minute
	DefaultBatteryLow      = 20.0
	DefaultTempHysteresis  = 0.5
	DefaultHumidHysteresis = 3.0
)

// TemperatureBand is the band a zone's temperature limits draw, for showing a
// reading in colour: within [low, high] no warning limit is crossed, and outside
// [critLow, critHigh] a critical one is (whatever its hold), so a colour says which
// alert the reading leads to if it stays. Bounds without a limit are ±Inf; ok is
// false when there are no temperature limits.
func TemperatureBand(limits []Limit) (low, high, critLow, critHigh float64, ok bool) {
	low, critLow = math.Inf(-1), math.Inf(-1)
	high, critHigh = math.Inf(1), math.Inf(1)
	for _, l := range limits {
		if l.Metric != telemetry.Temperature {
			continue
		}
		ok = true
		switch {
		case l.Above && l.Severity == telemetry.Critical:
			critHigh = min(critHigh, l.Value)
		case l.Above:
			high = min(high, l.Value)
		case l.Severity == telemetry.Critical:
			critLow = max(critLow, l.Value)
		default:
			low = max(low, l.Value)
		}
	}
	// A critical limit inside the warning band narrows it too.
	return max(low, critLow), min(high, critHigh), critLow, critHigh, ok
}
