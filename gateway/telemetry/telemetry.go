package telemetry

import (
	"fmt"
	"math"
	"time"
)

// Metric names one quantity a device reports. The zero Metric is invalid.
// The numeric values are stored in the spool: never renumber, only append.
type Metric uint8

// Metrics known to the gateway.
const (
	Temperature Metric = iota + 1 // degrees Celsius
	Humidity                      // relative humidity, percent
	Battery                       // battery charge, percent
	LinkQuality                   // radio link quality as the source reports it (Zigbee LQI 0..255)
	Voltage                       // supply or battery voltage, volts
	Online                        // availability: 1 online, 0 offline
	metricEnd
)

var metricNames = [...]string{
	Temperature: "temperature_c",
	Humidity:    "humidity_pct",
	Battery:     "battery_pct",
	LinkQuality: "link_quality",
	Voltage:     "voltage_v",
	Online:      "online",
}

// String returns the InfluxDB field name of m, e.g. "temperature_c".
func (m Metric) String() string {
	if m == 0 || m >= metricEnd {
		return fmt.Sprintf("metric(%d)", uint8(m))
	}
	return metricNames[m]
}

// Valid reports whether m is a known metric.
func (m Metric) Valid() bool { return m > 0 && m < metricEnd }

// Measurement returns the InfluxDB measurement a metric belongs to
// ("climate" or "device"), per the schema in DESIGN.md.
func (m Metric) Measurement() string {
	switch m {
	case Temperature, Humidity:
		return "climate"
	default:
		return "device"
	}
}

// Value is one measured quantity.
type Value struct {
	Metric Metric
	V      float64
}

// Flags qualify a sample or event. The bit values are stored in the spool: never
// renumber, only append.
type Flags uint8

const (
	// Retained: the broker delivered a retained message. It is the last known value,
	// not a fresh reading, and never counts as one.
	Retained Flags = 1 << iota
	// DeviceTime: the timestamp came from the payload.
	DeviceTime
	// ClockSkew: the payload had a time minutes away from the synchronised gateway
	// clock, so gateway time was used instead.
	ClockSkew
	// ClockUnsynced: the gateway's clock was not synchronised when the event was stamped.
	ClockUnsynced
	// Replayed: the event was delivered from a backlog (broker redelivery), not live.
	Replayed
	// TimeFallback: the payload's time was unreadable or implausible (outside
	// 2000..2100, before this program was built, or beyond the last known good time
	// while the clock was unsynchronised), so the arrival time was used instead.
	TimeFallback
)

// Has reports whether all bits of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Sample is what a decoder produces from one message: values from one device, named
// the way its firmware names it.
type Sample struct {
	// Device is the device's base topic as the config names it after normalisation,
	// e.g. "zigbee2mqtt/room-101", "tele/fridge-1", "room-101-node", "shellies/shellyht-AB12".
	Device string
	// Key names a sub-sensor of a device with several: a Tasmota DS18B20 Id ("000008BD38BF")
	// or sensor name ("AM2301"), an ESPHome component object id ("temperature"), a Shelly
	// component ("temperature:0", "ext_temperature:1"). Empty when the device has one.
	Key string
	// Time is the payload's own time; zero when the payload carries none.
	Time time.Time
	// Values carries the measured quantities; availability messages carry only Online.
	Values []Value
}

// Event is a sample resolved against the centre config: the unit the spool stores and
// the sinks write.
type Event struct {
	Time     time.Time // when it was measured; never zero
	Sensor   string    // configured sensor id
	Zone     string    // configured zone id
	ZoneKind string    // the zone's kind, e.g. "med-fridge"
	Source   string    // the sensor's source, e.g. "zigbee2mqtt"
	Values   []Value
	Flags    Flags
	// Point, when set, makes the event a point the gateway derived (a camera's state,
	// coverage, a night-round slot, an alert transition, a score) instead of a sensor
	// reading: Sensor, Zone, ZoneKind, Source and Values are then unused, and Time and
	// Flags belong to the point.
	Point *Point
}

// Limits of plausible readings. Anything outside is rejected by decoders as absurd.
const (
	MinTemperatureC = -60.0
	MaxTemperatureC = 125.0
)

// CheckValue reports why v is not a plausible reading, or nil.
func CheckValue(v Value) error {
	if !v.Metric.Valid() {
		return fmt.Errorf("unknown metric %d", uint8(v.Metric))
	}
	if math.IsNaN(v.V) || math.IsInf(v.V, 0) {
		return fmt.Errorf("%s: not a finite number", v.Metric)
	}
	switch v.Metric {
	case Temperature:
		if v.V < MinTemperatureC || v.V > MaxTemperatureC {
			return fmt.Errorf("%s: %g out of range [%g, %g]", v.Metric, v.V, MinTemperatureC, MaxTemperatureC)
		}
	case Humidity, Battery:
		if v.V < 0 || v.V > 100 {
			return fmt.Errorf("%s: %g out of range [0, 100]", v.Metric, v.V)
		}
	case LinkQuality:
		if v.V < 0 || v.V > 255 {
			return fmt.Errorf("%s: %g out of range [0, 255]", v.Metric, v.V)
		}
	case Voltage:
		if v.V < 0 || v.V > 400 {
			return fmt.Errorf("%s: %g out of range [0, 400]", v.Metric, v.V)
		}
	case Online:
		if v.V != 0 && v.V != 1 {
			return fmt.Errorf("%s: %g is neither 0 nor 1", v.Metric, v.V)
		}
	}
	return nil
}

// Record is an event with the sequence number the spool gave it. Sequence numbers
// increase by one per event and survive restarts.
type Record struct {
	Seq   uint64
	Event Event
}

// Severity ranks a condition. The numeric values may be stored: only append.
type Severity uint8

// Severities.
const (
	Warning  Severity = iota + 1 // notify duty staff
	Critical                     // escalate; counts against the score until resolved
)

// String returns "warning" or "critical".
func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Critical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// Condition is something wrong that the checks raise and clear: the common currency
// between the checks (temperature rules, staleness, cameras, night rounds, the
// gateway's own health) and alerting (DESIGN.md). One open condition per (Kind,
// Subject).
type Condition struct {
	Kind     string    // what is wrong, e.g. "probe_error"
	Subject  string    // the sensor, camera or checkpoint id it is about
	Zone     string    // the subject's zone, "" for the gateway itself
	Severity Severity  //
	Since    time.Time // when it was first raised
	Reason   string    // the latest detail, for people
	Resolved time.Time // zero while open
	// Value is the measured value behind the condition (a temperature, minutes out
	// of range), meaningful only when HasValue is set.
	Value    float64
	HasValue bool
}

// Conditions is where a check raises and clears its conditions: the gateway's
// condition registry, or one of the registry's listeners. Raise with an open
// (Kind, Subject) updates it, e.g. from warning to critical.
type Conditions interface {
	Raise(c Condition)
	Clear(kind, subject string, at time.Time)
}

// Message is one MQTT message as the gateway received it.
type Message struct {
	Topic     string
	Payload   []byte
	Retained  bool      // delivered from the broker's retained store: last known, not fresh
	Duplicate bool      // the broker's DUP flag: a redelivery
	Received  time.Time // when the gateway received it
}
