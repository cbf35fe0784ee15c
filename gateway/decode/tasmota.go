package decode

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// tasmota decodes Tasmota messages. Device is the topic without its last level
// ("tele/fridge-1").
//
//   - <prefix>/<topic>/SENSOR: a JSON object. One Sample per sensor object whose key is
//     DS18B20, AM2301, SI7021, SHT3X, BME280, DHT11, DHT22 or HTU21, alone or with a
//     "-suffix" (DS18B20-1, SHT3X-0x44, AM2301-12), carrying Temperature and Humidity
//     (Pressure, DewPoint and the rest are ignored, null values skipped). Key is the
//     sensor's JSON key as given, except for DS18B20 sensors, keyed by their "Id" when
//     they have one (Tasmota renumbers DS18B20-N when probes change). A DS18B20 reading
//     85.0 °C (power-on value) or -127 °C or less (read error) rejects the whole
//     message as out_of_range. TempUnit "F" converts temperatures to °C. Time is
//     device-local time without an offset, read in the decoder's time zone (a Time
//     with an offset, SetOption52, is honoured; a numeric Time is Unix seconds); an
//     "Epoch" field (Unix seconds, Time format 2) wins over Time since it is not
//     ambiguous at a DST change. A known sensor key whose value is neither an object
//     nor null is bad_value; other keys are ignored. No known sensor: ErrIgnored.
//   - <prefix>/<topic>/LWT: "Online"/"Offline": Online, Key "".
//   - Any other last level (STATE, RESULT, INFO1, ...): ErrIgnored.
func (d *decoder) tasmota(topic string, payload []byte) ([]telemetry.Sample, error) {
	i := strings.LastIndexByte(topic, '/')
	if i < 0 {
		return nil, badTopic("want <prefix>/<topic>/SENSOR or .../LWT")
	}
	dev, leaf := topic[:i], topic[i+1:]
	switch leaf {
	case "SENSOR":
	case "LWT":
		return availability(dev, payload, "Online", "Offline")
	default:
		return nil, telemetry.ErrIgnored
	}

	if err := checkObject(payload); err != nil {
		return nil, err
	}
	var (
		t, epochTime time.Time
		fahrenheit   bool
		readings     = make([]tasmotaReading, 0, 8)
	)
	err := eachMember(payload, func(key, v []byte) error {
		switch string(key) {
		case "Time":
			return setTime(&t, "Time", v, d.loc, seconds)
		case "Epoch":
			x, ok, err := number("Epoch", v)
			if err != nil {
				return err
			}
			if ok {
				if epochTime, err = epoch(x, 1); err != nil {
					return badTime(fmt.Errorf("Epoch: %w", err))
				}
			}
		case "TempUnit":
			s, ok, err := str("TempUnit", v)
			if err != nil {
				return err
			}
			switch {
			case !ok || string(s) == "C":
				fahrenheit = false
			case string(s) == "F":
				fahrenheit = true
			default:
				return badValue("TempUnit %q is neither C nor F", clip(s))
			}
		default:
			base, ok := tasmotaSensor(key)
			if !ok {
				return nil
			}
			switch kindOf(v) {
			case kindNull:
				return nil
			case kindObject:
			default:
				return badValue("%s: want an object, got %s", clip(key), kindName(kindOf(v)))
			}
			r, err := tasmotaSensorReading(key, base, v)
			if err != nil {
				return err
			}
			if r.hasT || r.hasH {
				readings = append(readings, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(readings) == 0 {
		return nil, telemetry.ErrIgnored
	}
	if !epochTime.IsZero() {
		t = epochTime
	}

	n := 0
	for i := range readings {
		r := &readings[i]
		if r.hasT && fahrenheit {
			r.temp = fahrenheitToCelsius(r.temp)
		}
		if r.hasT && r.ds {
			if math.Abs(r.temp-85) < 0.005 {
				return nil, reject(reasonOutOfRange, fmt.Errorf("%s: 85 °C is the DS18B20 power-on value, not a reading", r.key))
			}
			if r.temp <= -127+0.005 {
				return nil, reject(reasonOutOfRange, fmt.Errorf("%s: %g °C is a DS18B20 read error", r.key, r.temp))
			}
		}
		if r.hasT {
			n++
		}
		if r.hasH {
			n++
		}
	}
	if len(readings) == 1 { // the common case, in one allocation
		vs := readings[0].values()
		return one(dev, readings[0].key, t, vs.slice()), nil
	}
	l := newSampleList(len(readings), n)
	for i := range readings {
		vs := readings[i].values()
		l.add(dev, readings[i].key, t, vs.slice())
	}
	return l.samples, nil
}

// tasmotaReading is one sensor object of a Tasmota SENSOR message.
type tasmotaReading struct {
	key        string // Sample.Key
	ds         bool   // a DS18B20
	temp, hum  float64
	hasT, hasH bool
}

func (r *tasmotaReading) values() values {
	var vs values
	if r.hasT {
		vs.set(telemetry.Temperature, r.temp)
	}
	if r.hasH {
		vs.set(telemetry.Humidity, r.hum)
	}
	return vs
}

// tasmotaSensor returns the sensor name of a SENSOR key ("SHT3X" for "SHT3X-0x44"), or
// ok false if the key is not a sensor the gateway reads.
func tasmotaSensor(key []byte) (base string, ok bool) {
	name := key
	if i := bytes.IndexByte(key, '-'); i >= 0 {
		if i == len(key)-1 {
			return "", false
		}
		name = key[:i]
	}
	switch string(name) {
	case "DS18B20":
		return "DS18B20", true
	case "AM2301":
		return "AM2301", true
	case "SI7021":
		return "SI7021", true
	case "SHT3X":
		return "SHT3X", true
	case "BME280":
		return "BME280", true
	case "DHT11":
		return "DHT11", true
	case "DHT22":
		return "DHT22", true
	case "HTU21":
		return "HTU21", true
	}
	return "", false
}

// tasmotaSensorReading decodes the sensor object obj found under key.
func tasmotaSensorReading(key []byte, base string, obj []byte) (tasmotaReading, error) {
	r := tasmotaReading{ds: base == "DS18B20"}
	if kindOf(obj) != kindObject {
		return r, badJSON("%s: not an object", clip(key))
	}
	var id []byte
	err := eachMember(obj, func(f, v []byte) error {
		switch string(f) {
		case "Temperature":
			x, ok, err := number("Temperature", v)
			if err != nil {
				return withKey(key, err)
			}
			if ok {
				r.temp, r.hasT = x, true
			}
		case "Humidity":
			x, ok, err := number("Humidity", v)
			if err != nil {
				return withKey(key, err)
			}
			if ok {
				r.hum, r.hasH = x, true
			}
		case "Id":
			if !r.ds {
				return nil
			}
			s, ok, err := str("Id", v)
			if err != nil {
				return withKey(key, err)
			}
			if ok {
				id = s
			}
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	switch {
	case len(id) > 0:
		if !validKey(id) {
			return r, badValue("%s: Id %q is not a printable UTF-8 name", clip(key), clip(id))
		}
		r.key = string(id)
	case len(key) == len(base):
		r.key = base // no allocation for the common unsuffixed key
	default:
		if !validKey(key) {
			return r, badValue("sensor key %q is not a printable UTF-8 name", clip(key))
		}
		r.key = string(key)
	}
	return r, nil
}

// withKey prefixes an *telemetry.RejectError's detail with the sensor key.
func withKey(key []byte, err error) error {
	if e, ok := err.(*telemetry.RejectError); ok {
		e.Err = fmt.Errorf("%s: %w", clip(key), e.Err)
	}
	return err
}

// validKey reports whether b is valid UTF-8 without control characters, so that it
// can name a sub-sensor in config, logs and InfluxDB tags.
func validKey(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return utf8.Valid(b)
}
