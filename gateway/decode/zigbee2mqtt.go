package decode

import (
	"bytes"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// zigbee2mqtt decodes Zigbee2MQTT messages.
//
//   - <base>/<friendly name> (the name may contain '/'): a JSON object. Device is the
//     whole topic, Key "". Fields: temperature (°C), humidity (%), battery (%),
//     linkquality, voltage (mV, converted to V) and last_seen (ISO 8601 with an offset,
//     or epoch milliseconds) as the sample time. A last_seen in Z2M's "relative" format
//     ("5 minutes ago") is no time. Unknown fields are ignored, null values skipped, a
//     known field of the wrong JSON type is bad_value. No known field: ErrIgnored.
//   - <base>/<friendly name>/availability: "online"/"offline" (Z2M 1.x) or
//     {"state":"online"} (2.x): Device <base>/<friendly name>, Online.
//   - <base>/bridge/...: ErrIgnored.
//   - Topics with a "set" or "get" level after the base (commands to devices): ErrIgnored.
func (d *decoder) zigbee2mqtt(topic string, payload []byte) ([]telemetry.Sample, error) {
	_, name, ok := strings.Cut(topic, "/")
	if !ok {
		return nil, badTopic("want <base>/<friendly name>")
	}
	if first, _, _ := strings.Cut(name, "/"); first == "bridge" {
		return nil, telemetry.ErrIgnored
	}
	if hasLevel(name, "set") || hasLevel(name, "get") {
		return nil, telemetry.ErrIgnored
	}
	if dev, ok := strings.CutSuffix(topic, "/availability"); ok && strings.Contains(name, "/") {
		if err := checkEmpty(payload); err != nil {
			return nil, err
		}
		up, err := z2mAvailability(payload)
		if err != nil {
			return nil, err
		}
		return online(dev, up), nil
	}

	if err := checkObject(payload); err != nil {
		return nil, err
	}
	var (
		vs values
		t  time.Time
	)
	err := eachMember(payload, func(key, v []byte) error {
		var (
			metric telemetry.Metric
			field  string
			scale  = 1.0
		)
		switch string(key) {
		case "temperature":
			metric, field = telemetry.Temperature, "temperature"
		case "humidity":
			metric, field = telemetry.Humidity, "humidity"
		case "battery":
			metric, field = telemetry.Battery, "battery"
		case "linkquality":
			metric, field = telemetry.LinkQuality, "linkquality"
		case "voltage":
			metric, field, scale = telemetry.Voltage, "voltage", 1000 // mV
		case "last_seen":
			if kindOf(v) == kindString && bytes.HasSuffix(v, []byte(` ago"`)) {
				return nil // last_seen: relative
			}
			return setTime(&t, "last_seen", v, nil, millis)
		default:
			return nil
		}
		return vs.setNumber(metric, field, v, scale)
	})
	if err != nil {
		return nil, err
	}
	return one(topic, "", t, vs.slice()), nil
}

// z2mAvailability parses a Zigbee2MQTT availability payload of either generation.
func z2mAvailability(payload []byte) (bool, error) {
	p := bytes.TrimSpace(payload)
	if len(p) == 0 || p[0] != '{' {
		return parseOnOff(p, "online", "offline") // 1.x legacy
	}
	if err := validObject(p); err != nil {
		return false, err
	}
	var (
		state       []byte
		seen, valid bool // the first "state" member; not null
	)
	err := eachMember(p, func(key, v []byte) error {
		if seen || string(key) != "state" {
			return nil
		}
		seen = true
		s, ok, err := str("state", v)
		state, valid = s, ok
		return err
	})
	if err != nil {
		return false, err
	}
	if !valid {
		return false, badValue("availability: no state")
	}
	return parseOnOff(state, "online", "offline")
}

// hasLevel reports whether the topic (or topic tail) t has a level equal to level.
func hasLevel(t, level string) bool {
	for t != "" {
		var l string
		l, t, _ = strings.Cut(t, "/")
		if l == level {
			return true
		}
	}
	return false
}
