package decode

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

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
		if err := checkEmpty(payload); err != nil {
			return nil, err
		}
		up, err := parseOnOff(payload, "online", "offline")
		if err != nil {
			return nil, err
		}
		return online(prefix, up), nil
	}
	rest, ok := strings.CutSuffix(topic, "/state")
	if !ok {
		return nil, ErrIgnored
	}
	i := strings.LastIndexByte(rest, '/')
	j := strings.LastIndexByte(rest[:max(i, 0)], '/')
	if i < 0 || j < 0 {
		return nil, badTopic("want <prefix>/<component>/<object_id>/state")
	}
	prefix, component, objectID := rest[:j], rest[j+1:i], rest[i+1:]
	if component != "sensor" {
		return nil, ErrIgnored
	}
	metric := esphomeMetric(objectID)
	if metric == 0 {
		return nil, ErrIgnored
	}
	if err := checkEmpty(payload); err != nil {
		return nil, err
	}
	x, err := plainNumber(payload)
	if err != nil {
		return nil, err
	}
	return one(prefix, objectID, time.Time{}, []telemetry.Value{{Metric: metric, V: x}}), nil
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

// plainNumber parses a payload that is one decimal number, as ESPHome and Shelly gen1
// publish. NaN and infinities ("nan", "inf", or too large for float64) are not_finite;
// anything else that is not a decimal number (hex floats included) is bad_value.
func plainNumber(payload []byte) (float64, error) {
	s := bytes.TrimSpace(payload)
	x, err := strconv.ParseFloat(string(s), 64)
	if errors.Is(err, strconv.ErrRange) {
		err = nil // x is ±Inf (overflow) or 0 (underflow)
	}
	switch {
	case err != nil:
		return 0, badValue("want a number, got %q", clip(s))
	case bytes.ContainsAny(s, "xX_pP"):
		return 0, badValue("want a decimal number, got %q", clip(s))
	case math.IsNaN(x) || math.IsInf(x, 0):
		return 0, reject(reasonNotFinite, fmt.Errorf("%q is not a finite number", clip(s)))
	}
	return x, nil
}
