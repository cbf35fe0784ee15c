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
//   - <prefix>/<topic>/SENSOR: a JSON object. One Sample per sensor object carrying
//     Temperature, Humidity or (BLE thermometers through MI32) Battery, whatever its
//     name: AM2301, SI7021, SHT3X-0x44, AHT2X, SHT4X, SHTC3, BME680, SCD40, MCP9808,
//     LYWSD03-52680f, a DS18Alias name... Objects of sensors that measure a chip, not
//     a room (ESP32, ESP8266, MPU6050 and the other motion units) are ignored, as are
//     members that are not sensors (ENERGY, Switch1, ...). Key is the sensor's JSON
//     key as given, except for objects with an "Id" (DS18x20 probes), keyed by their
//     Id since Tasmota renumbers DS18B20-N when probes change. A DS18x20 reading 85.0
//     °C (power-on value) or -127 °C or less (read error) is a bad field (out_of_range);
//     the other sensors are kept. TempUnit "F" converts temperatures to °C. Time is
//     device-local time without an offset, read in the decoder's time zone (a Time
//     with an offset, SetOption52, is honoured; a numeric Time is Unix seconds; the
//     "2018.02.01 21:29:40" of releases before 5.12 is read too); an "Epoch" field
//     (Unix seconds, Time format 2) wins over Time since it is not ambiguous at a DST
//     change. An unreadable time is a bad field: the readings are kept without a time.
//   - DS18x20 (releases before 6.x): {"DS18x20":{"DS1":{"Type":"DS18B20","Address":
//     "28FF...","Temperature":21.4},...}}: one Sample per probe, keyed by Address.
//   - ZbReceived (a Sonoff Zigbee bridge): {"ZbReceived":{"<addr or name>":{...}}}
//     gives one Sample per Zigbee device with Temperature, Humidity, Battery
//     (BatteryPercentage), Voltage (V) and LinkQuality; Key is its Name if it has one,
//     else the member key (the short address or friendly name).
//   - <prefix>/<topic>/LWT: "Online"/"Offline": Online, Key "".
//   - Any other last level (STATE, RESULT, INFO1, ...): telemetry.ErrIgnored, except RESULT
//     carrying ZbReceived.
func (d *decoder) tasmota(topic string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
	i := strings.LastIndexByte(topic, '/')
	if i < 0 {
		return nil, badTopic("want <prefix>/<topic>/SENSOR or .../LWT")
	}
	dev, leaf := topic[:i], topic[i+1:]
	switch leaf {
	case "SENSOR":
	case "RESULT":
		if !bytes.Contains(payload, []byte(`"ZbReceived"`)) {
			return nil, telemetry.ErrIgnored
		}
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
			return bad.keep(setTime(&t, "Time", tasmotaOldTime(v), d.loc, seconds))
		case "Epoch":
			x, ok, err := number("Epoch", v)
			if err != nil {
				return bad.keep(err)
			}
			if ok {
				if epochTime, err = epoch(x, 1); err != nil {
					return bad.keep(badTime(fmt.Errorf("field Epoch: %w", err)))
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
		case "DS18x20":
			// Releases before 6.x nested the probes: {"DS18x20":{"DS1":{"Type":
			// "DS18B20","Address":"28FF...","Temperature":21.4},...}}.
			if kindOf(v) != kindObject {
				return nil
			}
			return eachMember(v, func(name, obj []byte) error {
				if kindOf(obj) != kindObject {
					return nil
				}
				r, err := tasmotaSensorReading(name, obj, false, bad)
				if err != nil {
					return err
				}
				r.ds = true
				if r.hasT || r.vs.n > 0 {
					readings = append(readings, r)
				}
				return nil
			})
		case "ZbReceived":
			if kindOf(v) != kindObject {
				return bad.keep(badValue("ZbReceived: want an object, got %s", kindName(kindOf(v))))
			}
			return eachMember(v, func(name, obj []byte) error {
				if kindOf(obj) != kindObject {
					return nil
				}
				r, err := tasmotaSensorReading(name, obj, true, bad)
				if err != nil {
					return err
				}
				// A device announce, a plug or a remote carries only LinkQuality.
				if r.hasT || (r.vs.n > 0 && !(r.vs.n == 1 && r.vs.v[0].Metric == telemetry.LinkQuality)) {
					readings = append(readings, r)
				}
				return nil
			})
		default:
			if kindOf(v) != kindObject || tasmotaNotRoom(key) {
				return nil
			}
			r, err := tasmotaSensorReading(key, v, false, bad)
			if err != nil {
				return err
			}
			if r.hasT || r.vs.n > 0 {
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

	l := newSampleList(len(readings), len(readings)*3)
	for i := range readings {
		r := &readings[i]
		if r.hasT {
			temp := r.temp
			if fahrenheit {
				temp = fahrenheitToCelsius(temp)
			}
			switch {
			case r.ds && math.Abs(temp-85) < 0.005:
				bad.errs = append(bad.errs, reject(reasonOutOfRange, fmt.Errorf("%s: 85 °C is the DS18B20 power-on value, not a reading", r.key)))
			case r.ds && temp <= -127+0.005:
				bad.errs = append(bad.errs, reject(reasonOutOfRange, fmt.Errorf("%s: %g °C is a DS18B20 read error", r.key, temp)))
			default:
				r.vs.set(telemetry.Temperature, temp)
			}
		}
		l.add(dev, r.key, t, r.vs.slice())
	}
	return l.samples, nil
}

// tasmotaOldTime rewrites the "2018.02.01 21:29:40" of Tasmota before 5.12 to ISO
// 8601; other values are returned as they are.
func tasmotaOldTime(v []byte) []byte {
	if len(v) == 21 && v[0] == '"' && v[5] == '.' && v[8] == '.' && v[11] == ' ' {
		b := make([]byte, len(v))
		copy(b, v)
		b[5], b[8], b[11] = '-', '-', 'T'
		return b
	}
	return v
}

// tasmotaReading is one sensor object of a Tasmota SENSOR message.
type tasmotaReading struct {
	key  string // Sample.Key
	ds   bool   // a DS18x20 probe
	temp float64
	hasT bool
	vs   values // everything but the temperature, which needs TempUnit
}

// tasmotaNotRoom reports whether a SENSOR member names a sensor whose temperature is
// not a room's: the chip itself or a motion unit's die.
func tasmotaNotRoom(key []byte) bool {
	name := key
	if i := bytes.IndexByte(key, '-'); i > 0 {
		name = key[:i]
	}
	switch string(name) {
	case "ESP32", "ESP8266", "MPU6050", "MPU9250", "MPU6886", "BMI160", "BMI270", "LSM6DS3",
		"ENERGY", "Global", "Thermostat0", "Counter", "ANALOG":
		return true
	}
	return false
}

// tasmotaSensorReading decodes the sensor object obj found under key. zb says it is
// a Zigbee device of ZbReceived (Battery from BatteryPercentage, Voltage, LinkQuality,
// keyed by Name). Bad fields are recorded in bad.
func tasmotaSensorReading(key, obj []byte, zb bool, bad *badFields) (tasmotaReading, error) {
	r := tasmotaReading{ds: bytes.HasPrefix(key, []byte("DS18")) || bytes.HasPrefix(key, []byte("DS1822"))}
	var id, name []byte
	err := eachMember(obj, func(f, v []byte) error {
		var err error
		switch string(f) {
		case "Temperature":
			var x float64
			var ok bool
			x, ok, err = number("Temperature", v)
			if ok {
				r.temp, r.hasT = x, true
			}
		case "Humidity":
			err = r.vs.setNumber(telemetry.Humidity, "Humidity", v, 1)
		case "Battery", "BatteryPercentage":
			err = r.vs.setNumber(telemetry.Battery, string(f), v, 1)
		case "Voltage":
			if zb {
				err = r.vs.setNumber(telemetry.Voltage, "Voltage", v, 1)
			}
		case "LinkQuality":
			if zb {
				err = r.vs.setNumber(telemetry.LinkQuality, "LinkQuality", v, 1)
			}
		case "Name":
			if zb && kindOf(v) == kindString {
				name, _ = unquote(v)
			}
		case "Id", "Address":
			if s, ok, e := str(string(f), v); e == nil && ok {
				id = s
				r.ds = true
			}
		}
		if err != nil {
			return bad.keep(withKey(key, err))
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	k := key
	switch {
	case zb && len(name) > 0:
		k = name
	case !zb && len(id) > 0:
		k = id
	}
	if !validKey(k) {
		bad.errs = append(bad.errs, badValue("sensor key %q is not a printable UTF-8 name", clip(k)))
		r.vs.n, r.hasT = 0, false
		return r, nil
	}
	r.key = tasmotaKey(k)
	return r, nil
}

// tasmotaKey returns k as a string, without an allocation for the common sensor names.
func tasmotaKey(k []byte) string {
	switch string(k) {
	case "DS18B20":
		return "DS18B20"
	case "AM2301":
		return "AM2301"
	case "SI7021":
		return "SI7021"
	case "SHT3X":
		return "SHT3X"
	case "BME280":
		return "BME280"
	case "BME680":
		return "BME680"
	case "DHT11":
		return "DHT11"
	case "DHT22":
		return "DHT22"
	case "HTU21":
		return "HTU21"
	case "AHT2X":
		return "AHT2X"
	case "SHT4X":
		return "SHT4X"
	case "SCD40":
		return "SCD40"
	}
	return string(k)
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
