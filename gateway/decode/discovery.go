package decode

import (
	"bytes"
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
	levels := strings.Count(topic, "/") + 1
	if levels < 4 || levels > 5 || !strings.HasSuffix(topic, "/config") {
		return d, badTopic("want <prefix>/<component>/[<node_id>/]<object_id>/config")
	}
	rest := topic[strings.IndexByte(topic, '/')+1 : len(topic)-len("/config")]
	d.Component, rest, _ = strings.Cut(rest, "/")
	if levels == 5 {
		d.NodeID, rest, _ = strings.Cut(rest, "/")
	}
	d.ObjectID = rest
	var raw [nDiscoveryKeys][]byte // the last value of each key read; nil if absent
	err := walkObject(payload, "", func(_ bool, key, v []byte) {
		if k := discoveryKey(string(key)); k >= 0 {
			raw[k] = v
		}
	})
	if err != nil {
		return d, err
	}
	get := func(long, short int) (string, error) {
		v := raw[long]
		if v == nil {
			v = raw[short]
		}
		switch kindOf(v) {
		case 0, kindNull:
			return "", nil
		case kindString:
			return jsonString(v), nil
		}
		return "", badValue("%s: want a string", discoveryKeys[long])
	}
	fields := [...]struct {
		long, short int
		dst         *string
	}{
		{keyName, keyName, &d.Name},
		{keyUniqueID, keyUniqID, &d.UniqueID},
		{keyDeviceClass, keyDevCla, &d.DeviceClass},
		{keyUnit, keyUnitOfMeas, &d.Unit},
		{keyStateTopic, keyStatT, &d.StateTopic},
		{keyValueTemplate, keyValTpl, &d.ValueTemplate},
	}
	var first error
	for _, f := range fields {
		s, err := get(f.long, f.short)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		*f.dst = s
	}
	if first != nil {
		return d, first
	}
	if base, _ := get(keyBase, keyBase); base != "" {
		switch {
		case strings.HasPrefix(d.StateTopic, "~"):
			d.StateTopic = base + d.StateTopic[1:]
		case strings.HasSuffix(d.StateTopic, "~"):
			d.StateTopic = d.StateTopic[:len(d.StateTopic)-1] + base
		}
	}
	dev := raw[keyDevice]
	if dev == nil {
		dev = raw[keyDev]
	}
	if kindOf(dev) == kindObject {
		d.Model, d.Manufacturer, d.Software = discoveryDevice(dev)
	}
	if d.Software == "" && raw[keyOrigin] != nil {
		if sw, ok := originSoftware(raw[keyOrigin]); ok {
			d.Software = sw
		}
	}
	if d.StateTopic == "" && d.Component != "device" {
		return d, reject(reasonBadValue, errors.New("no state_topic"))
	}
	return d, nil
}

// The discovery message's members ParseDiscovery reads: long names and their
// abbreviations.
const (
	keyName = iota
	keyUniqueID
	keyUniqID
	keyDeviceClass
	keyDevCla
	keyUnit
	keyUnitOfMeas
	keyStateTopic
	keyStatT
	keyValueTemplate
	keyValTpl
	keyBase
	keyDevice
	keyDev
	keyOrigin
	nDiscoveryKeys
)

var discoveryKeys = [nDiscoveryKeys]string{
	keyName: "name", keyUniqueID: "unique_id", keyUniqID: "uniq_id",
	keyDeviceClass: "device_class", keyDevCla: "dev_cla",
	keyUnit: "unit_of_measurement", keyUnitOfMeas: "unit_of_meas",
	keyStateTopic: "state_topic", keyStatT: "stat_t",
	keyValueTemplate: "value_template", keyValTpl: "val_tpl",
	keyBase: "~", keyDevice: "device", keyDev: "dev", keyOrigin: "origin",
}

// discoveryKey returns the index of key in discoveryKeys, or -1.
func discoveryKey(key string) int {
	for i, k := range discoveryKeys {
		if k == key {
			return i
		}
	}
	return -1
}

// discoveryDevice reads the device object (valid JSON) of a discovery message: the
// model, manufacturer and software, each from the long name or else the
// abbreviation, whichever is a string.
func discoveryDevice(dev []byte) (model, manufacturer, software string) {
	var raw [6][]byte // model, mdl, manufacturer, mf, sw_version, sw
	_ = eachMember(dev, func(k, v []byte) error {
		i := -1
		switch string(k) {
		case "model":
			i = 0
		case "mdl":
			i = 1
		case "manufacturer":
			i = 2
		case "mf":
			i = 3
		case "sw_version":
			i = 4
		case "sw":
			i = 5
		}
		if i >= 0 {
			raw[i] = v
		}
		return nil
	})
	pick := func(long, short []byte) string {
		for _, v := range [2][]byte{long, short} {
			if kindOf(v) == kindString {
				return jsonString(v)
			}
		}
		return ""
	}
	return pick(raw[0], raw[1]), pick(raw[2], raw[3]), pick(raw[4], raw[5])
}

// originSoftware reads origin.sw (origin is valid JSON) as encoding/json decodes it
// into a struct with one field tagged "sw": any key equal to "sw" under Unicode case
// folding sets it, null leaves it, and a value of another type (or an origin that is
// neither an object nor null) makes the whole origin unreadable: ok false.
func originSoftware(origin []byte) (sw string, ok bool) {
	switch kindOf(origin) {
	case kindNull:
		return "", true
	case kindObject:
	default:
		return "", false
	}
	ok = true
	_ = eachMember(origin, func(k, v []byte) error {
		if !bytes.EqualFold(k, []byte("sw")) {
			return nil
		}
		switch kindOf(v) {
		case kindString:
			sw = jsonString(v)
		case kindNull:
		default:
			ok = false
		}
		return nil
	})
	return sw, ok
}
