package rules

import (
	"time"

	"github.com/saqshy/saqshy/gateway/zonekind"
)

// Limit is one threshold on one metric of a sensor: the zone-kind table's.
type Limit = zonekind.Limit

// Condition kinds raised by this package besides the limits' own.
const (
	KindFreeze     = zonekind.KindFreeze      // a medicine fridge at or below 0 °C
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
	DefaultTempHysteresis  = zonekind.TempHysteresis
	DefaultHumidHysteresis = zonekind.HumidHysteresis
)
