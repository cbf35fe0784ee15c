package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// zigbee2mqtt decodes Zigbee2MQTT messages.
//
//   - <base>/<friendly name> (the name may contain '/'): a JSON object. Device is the
//     whole topic, Key "". Fields: temperature (°C; a thermostatic valve's
//     local_temperature, the room it measures, when there is no temperature), humidity
//     (%), battery (%), linkquality, voltage and last_seen (ISO 8601 with an offset, or
//     epoch milliseconds) as the sample time. voltage is a battery's millivolts
//     (converted to V) from 1000 up; below that it is a mains device's volts (a plug's
//     230) and kept as volts. A device that switches mains (a "state" of ON/OFF with
//     power or energy) reports its own chip in temperature, which is therefore not
//     the room's and ignored. Numbers sent as strings ("21.5") are read. A last_seen in
//     Z2M's "relative" format ("5 minutes ago") is no time. Unknown fields are ignored,
//     null values skipped; a known field of the wrong type is a bad field (the others
//     are kept). No known field: telemetry.ErrIgnored.
//   - <base>/<friendly name>/<attribute> with a plain payload (output: attribute or
//     attribute_and_json): the attribute named by the last level, one of the fields
//     above; Device <base>/<friendly name>. Other attributes (a plain payload on a
//     topic below a device): telemetry.ErrIgnored.
//   - <base>/<friendly name>/availability: "online"/"offline" (Z2M 1.x) or
//     {"state":"online"} (2.x): Device <base>/<friendly name>, Online.
//   - <base>/bridge/...: telemetry.ErrIgnored.
//   - Topics with a "set" or "get" level after the base (commands to devices): telemetry.ErrIgnored.
func (d *decoder) zigbee2mqtt(topic string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
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
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		if p := bytes.TrimSpace(payload); len(p) > 0 && p[0] != '{' {
			// output: attribute, one topic per attribute with a plain payload.
			if attr := name[i+1:]; z2mAttribute(attr) {
				return z2mAttributeMessage(topic[:len(topic)-len(attr)-1], attr, payload)
			}
			return nil, telemetry.ErrIgnored // state, power, child_lock, ...
		}
	}

	if err := checkObject(payload); err != nil {
		return nil, err
	}
	var (
		vs                values
		t                 time.Time
		local             float64
		hasLocal, hasTemp bool
		switched, power   bool
		temp              float64
	)
	err := eachMember(payload, func(key, v []byte) error {
		switch string(key) {
		case "temperature":
			x, ok, err := number("temperature", v)
			if ok {
				temp, hasTemp = x, true
			}
			return bad.keep(err)
		case "local_temperature":
			x, ok, err := number("local_temperature", v)
			if ok {
				local, hasLocal = x, true
			}
			return bad.keep(err)
		case "state":
			if kindOf(v) == kindString {
				s, _ := unquote(v)
				switched = string(s) == "ON" || string(s) == "OFF"
			}
			return nil
		case "power", "energy", "current":
			power = true
			return nil
		case "last_seen":
			if kindOf(v) == kindString && bytes.HasSuffix(v, []byte(` ago"`)) {
				return nil // last_seen: relative
			}
			return bad.keep(setTime(&t, "last_seen", v, nil, millis))
		}
		return bad.keep(z2mField(&vs, string(key), v))
	})
	if err != nil {
		return nil, err
	}
	switch {
	case hasTemp && !(switched && power):
		vs.set(telemetry.Temperature, temp)
	case hasLocal:
		vs.set(telemetry.Temperature, local)
	}
	return one(topic, "", t, vs.slice()), nil
}

// z2mField decodes one of the plain numeric fields (humidity, battery, linkquality,
// voltage) into vs; other keys do nothing.
func z2mField(vs *values, key string, v []byte) error {
	switch key {
	case "humidity":
		return vs.setNumber(telemetry.Humidity, "humidity", v, 1)
	case "battery":
		return vs.setNumber(telemetry.Battery, "battery", v, 1)
	case "linkquality":
		return vs.setNumber(telemetry.LinkQuality, "linkquality", v, 1)
	case "voltage":
		x, ok, err := number("voltage", v)
		if err != nil || !ok {
			return err
		}
		if x >= 1000 { // a battery's millivolts
			x /= 1000
		}
		vs.set(telemetry.Voltage, x)
	}
	return nil
}

// z2mAttribute reports whether a topic's last level is an attribute the gateway reads
// in Z2M's attribute output.
func z2mAttribute(level string) bool {
	switch level {
	case "temperature", "local_temperature", "humidity", "battery", "linkquality", "voltage":
		return true
	}
	return false
}

// z2mAttributeMessage decodes one attribute published on its own topic.
func z2mAttributeMessage(dev, attr string, payload []byte) ([]telemetry.Sample, error) {
	if err := checkEmpty(payload); err != nil {
		return nil, err
	}
	p := bytes.TrimSpace(payload)
	if len(p) > 0 && p[0] == '"' { // attribute_and_json sends strings quoted
		if !json.Valid(p) {
			return nil, badJSON("attribute %s: malformed string", attr)
		}
		p, _ = unquote(p)
	}
	x, err := plainNumber(p)
	if err != nil {
		if e, ok := err.(*telemetry.RejectError); ok {
			e.Err = fmt.Errorf("%s: %w", attr, e.Err)
		}
		return nil, err
	}
	var vs values
	switch attr {
	case "temperature", "local_temperature":
		vs.set(telemetry.Temperature, x)
	default:
		if err := z2mField(&vs, attr, []byte(strconv.FormatFloat(x, 'g', -1, 64))); err != nil {
			return nil, err
		}
	}
	return one(dev, "", time.Time{}, vs.slice()), nil
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
