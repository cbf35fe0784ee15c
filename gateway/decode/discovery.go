package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Discovery is one Home Assistant MQTT discovery message
// (<prefix>/<component>/[<node_id>/]<object_id>/config), which Zigbee2MQTT, ESPHome,
// Tasmota, OpenMQTTGateway, Theengs Gateway and others publish, retained, for every
// entity they expose. It tells what a state topic carries and in which unit, from
// the device itself: discover uses it to name a device's readings and to warn when a
// unit is not the one the gateway assumes (an ESPHome sensor set to °F, a voltage in
// mV).
//
// Reference: https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery (the
// abbreviations: https://www.home-assistant.io/integrations/mqtt/#discovery-payload).
type Discovery struct {
	Component     string // sensor, binary_sensor, climate, ...
	NodeID        string // optional level of the topic
	ObjectID      string
	Name          string
	UniqueID      string
	DeviceClass   string // temperature, humidity, battery, voltage, ...
	Unit          string // unit_of_measurement: "°C", "°F", "%", "mV", "V", "lqi"
	StateTopic    string // with "~" expanded
	ValueTemplate string // e.g. "{{ value_json.temperature }}"
	Model         string // device.model
	Manufacturer  string // device.manufacturer
	Software      string // device.sw_version, or origin.sw
}

// Field returns the JSON field the value template reads ("temperature" for
// "{{ value_json.temperature }}", "tempc" for "{{ value_json.tempc | is_defined }}"),
// or "" when the state payload is the value itself or the template is more involved.
func (d Discovery) Field() string {
	t := strings.TrimSpace(d.ValueTemplate)
	t, ok := strings.CutPrefix(t, "{{")
	if !ok {
		return ""
	}
	t, _ = strings.CutSuffix(t, "}}")
	t = strings.TrimSpace(t)
	if i := strings.IndexByte(t, '|'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	f, ok := strings.CutPrefix(t, "value_json.")
	if !ok || f == "" || strings.ContainsAny(f, " .[]()'\"") {
		return ""
	}
	return f
}

// Celsius reports whether a temperature entity's unit is degrees Celsius (or not
// given, which Home Assistant reads as the system unit, °C here); false for °F and K.
func (d Discovery) Celsius() bool {
	switch d.Unit {
	case "°F", "F", "℉", "K":
		return false
	}
	return true
}

// ParseDiscovery parses a Home Assistant discovery message. An empty payload (the
// retained config being removed) is an "empty" *telemetry.RejectError; a topic that is not
// <prefix>/<component>/[<node_id>/]<object_id>/config is bad_topic; a payload that is
// not a JSON object is bad_json, a known field of the wrong type bad_value.
func ParseDiscovery(topic string, payload []byte) (Discovery, error) {
	d, err := parseDiscovery(topic, payload)
	if e, ok := err.(*telemetry.RejectError); ok {
		e.Source, e.Topic = "homeassistant", topic
	}
	return d, err
}

func parseDiscovery(topic string, payload []byte) (Discovery, error) {
	var d Discovery
	if len(payload) > telemetry.MaxPayload {
		return d, reject(reasonTooLarge, fmt.Errorf("%d bytes, limit %d", len(payload), telemetry.MaxPayload))
	}
	if err := checkTopic(topic); err != nil {
		return d, reject(reasonBadTopic, err)
	}
	levels := strings.Split(topic, "/")
	if len(levels) < 4 || len(levels) > 5 || levels[len(levels)-1] != "config" {
		return d, badTopic("want <prefix>/<component>/[<node_id>/]<object_id>/config")
	}
	d.Component, d.ObjectID = levels[1], levels[len(levels)-2]
	if len(levels) == 5 {
		d.NodeID = levels[2]
	}
	if err := checkObject(payload); err != nil {
		return d, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return d, reject(reasonBadJSON, err)
	}
	get := func(long, short string) (string, error) {
		v, ok := raw[long]
		if !ok {
			v, ok = raw[short]
		}
		if !ok || bytes.Equal(v, []byte("null")) {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", badValue("%s: want a string", long)
		}
		return s, nil
	}
	fields := []struct {
		long, short string
		dst         *string
	}{
		{"name", "name", &d.Name},
		{"unique_id", "uniq_id", &d.UniqueID},
		{"device_class", "dev_cla", &d.DeviceClass},
		{"unit_of_measurement", "unit_of_meas", &d.Unit},
		{"state_topic", "stat_t", &d.StateTopic},
		{"value_template", "val_tpl", &d.ValueTemplate},
	}
	var errs []error
	for _, f := range fields {
		s, err := get(f.long, f.short)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*f.dst = s
	}
	if len(errs) > 0 {
		return d, errs[0]
	}
	if base, _ := get("~", "~"); base != "" {
		switch {
		case strings.HasPrefix(d.StateTopic, "~"):
			d.StateTopic = base + d.StateTopic[1:]
		case strings.HasSuffix(d.StateTopic, "~"):
			d.StateTopic = d.StateTopic[:len(d.StateTopic)-1] + base
		}
	}
	dev := raw["device"]
	if dev == nil {
		dev = raw["dev"]
	}
	if len(dev) > 0 && dev[0] == '{' {
		var m map[string]any
		if json.Unmarshal(dev, &m) == nil {
			str := func(keys ...string) string {
				for _, k := range keys {
					if s, ok := m[k].(string); ok {
						return s
					}
				}
				return ""
			}
			d.Model = str("model", "mdl")
			d.Manufacturer = str("manufacturer", "mf")
			d.Software = str("sw_version", "sw")
		}
	}
	if d.Software == "" {
		var o struct {
			SW string `json:"sw"`
		}
		if v := raw["origin"]; v != nil && json.Unmarshal(v, &o) == nil {
			d.Software = o.SW
		}
	}
	if d.StateTopic == "" && d.Component != "device" {
		return d, reject(reasonBadValue, errors.New("no state_topic"))
	}
	return d, nil
}
