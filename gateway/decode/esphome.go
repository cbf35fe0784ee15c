package decode

import (
	"strings"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// esphome decodes ESPHome MQTT messages. Topics are parsed from the end, since the
// prefix (the node name by default) may contain '/'.
//
//   - <prefix>/sensor/<object_id>/state: a plain number ("21.5", white space allowed).
//     Device is the prefix, Key the object id. The metric comes from the words of the
//     object id (split at '_' and '-', compared in lower case; see esphomeMetric):
//     "temperature"/"temp" → temperature, in °F when a word is "f" or "fahrenheit"
//     (converted to °C), else °C; "humidity"/"humid"/"rh" → humidity; "battery"/"batt"
//     → battery (%), or voltage with a "voltage"/"volt"/"v" word; "voltage" → voltage.
//     Object ids that name something else than a room's climate are ignored: a
//     difference, offset, set point or target ("temperature_difference"), or the chip's
//     own temperature ("internal_temperature", "esp_temperature", "cpu_temp").
//     Other object ids and other component types (binary_sensor, switch, ...) are
//     telemetry.ErrIgnored. "nan" (a sensor without a reading) and "inf" are not_finite. No
//     payload time.
//   - <prefix>/status: "online"/"offline" (birth and last will): Online, Key "".
//   - Anything else (discovery, debug, commands): telemetry.ErrIgnored.
func (d *decoder) esphome(topic string, payload []byte, _ *badFields) ([]telemetry.Sample, error) {
	if prefix, ok := strings.CutSuffix(topic, "/status"); ok {
		return availability(prefix, payload, "online", "offline")
	}
	rest, ok := strings.CutSuffix(topic, "/state")
	if !ok {
		return nil, telemetry.ErrIgnored
	}
	i := strings.LastIndexByte(rest, '/')
	j := strings.LastIndexByte(rest[:max(i, 0)], '/')
	if i < 0 || j < 0 {
		return nil, badTopic("want <prefix>/<component>/<object_id>/state")
	}
	prefix, component, objectID := rest[:j], rest[j+1:i], rest[i+1:]
	if component != "sensor" {
		return nil, telemetry.ErrIgnored
	}
	metric, fahrenheit := esphomeMetric(objectID)
	if metric == 0 {
		return nil, telemetry.ErrIgnored
	}
	samples, err := plainReading(prefix, objectID, metric, payload)
	if err == nil && fahrenheit {
		samples[0].Values[0].V = fahrenheitToCelsius(samples[0].Values[0].V)
	}
	return samples, err
}

// esphomeMetric guesses the metric of an ESPHome sensor from the words of its object
// id; 0 if none. fahrenheit says the temperature is in °F.
func esphomeMetric(objectID string) (m telemetry.Metric, fahrenheit bool) {
	var temp, hum, batt, volt bool
	for w := range strings.FieldsFuncSeq(strings.ToLower(objectID), func(r rune) bool { return r == '_' || r == '-' || r == ' ' }) {
		switch w {
		case "temperature", "temp":
			temp = true
		case "humidity", "humid", "rh":
			hum = true
		case "battery", "batt", "bat":
			batt = true
		case "voltage", "volt", "volts", "v", "vcc":
			volt = true
		case "f", "fahrenheit":
			fahrenheit = true
		case "difference", "diff", "delta", "offset", "setpoint", "set", "target", "max", "min",
			"internal", "esp", "esp32", "esp8266", "cpu", "chip", "core", "soc", "die", "rate", "dew", "dewpoint", "feels":
			return 0, false
		}
	}
	if !temp && !hum && !batt && !volt { // words run together: "bme280temperature"
		id := strings.ToLower(objectID)
		temp, hum = strings.Contains(id, "temperature"), strings.Contains(id, "humidity")
	}
	switch {
	case temp:
		return telemetry.Temperature, fahrenheit
	case hum:
		return telemetry.Humidity, false
	case batt && volt, volt:
		return telemetry.Voltage, false
	case batt:
		return telemetry.Battery, false
	}
	return 0, false
}

// ESPHomeFahrenheitByName reports whether an ESPHome state topic's object id says
// its temperature is in °F ("temperature_f"), which the decoder then converts itself:
// a caller that learns units elsewhere (Home Assistant discovery) must not convert
// such a reading again.
func ESPHomeFahrenheitByName(topic string) bool {
	rest, ok := strings.CutSuffix(topic, "/state")
	if !ok {
		return false
	}
	m, f := esphomeMetric(rest[strings.LastIndexByte(rest, '/')+1:])
	return m == telemetry.Temperature && f
}
