package decode

import (
	"strings"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// esphome decodes ESPHome MQTT messages. Topics are parsed from the end, since the
// prefix (the node name by default) may contain '/'.
//
//   - <prefix>/sensor/<object_id>/state: a plain number ("21.5", white space allowed).
//     Device is the prefix, Key the object id. The metric comes from the object id
//     (compared in lower case): containing "temp" → temperature (°C); "humid" →
//     humidity; "batt" → battery (%), unless it also contains "volt"; "volt" →
//     voltage (V). Other object ids and other component types (binary_sensor, switch,
//     ...) are ErrIgnored. "nan" (a sensor without a reading) and "inf" are not_finite.
//     No payload time.
//   - <prefix>/status: "online"/"offline" (birth and last will): Online, Key "".
//   - Anything else (discovery, debug, commands): ErrIgnored.
func (d *decoder) esphome(topic string, payload []byte) ([]telemetry.Sample, error) {
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
	metric := esphomeMetric(objectID)
	if metric == 0 {
		return nil, telemetry.ErrIgnored
	}
	return plainReading(prefix, objectID, metric, payload)
}

// esphomeMetric guesses the metric of an ESPHome sensor from its object id; 0 if none.
func esphomeMetric(objectID string) telemetry.Metric {
	id := strings.ToLower(objectID)
	switch {
	case strings.Contains(id, "temp"):
		return telemetry.Temperature
	case strings.Contains(id, "humid"):
		return telemetry.Humidity
	case strings.Contains(id, "volt"):
		return telemetry.Voltage
	case strings.Contains(id, "batt"):
		return telemetry.Battery
	}
	return 0
}
