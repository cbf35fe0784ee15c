package decode

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// shelly decodes Shelly messages of both API generations. Device is the topic prefix:
// "shellies/<id>" for gen1, the configured topic_prefix for gen2/gen3.
//
// Gen2/gen3 (RPC):
//   - <prefix>/events/rpc: a JSON frame. NotifyStatus and NotifyFullStatus are read;
//     other methods (NotifyEvent, ...) are telemetry.ErrIgnored. params.ts (UTC Unix seconds) is
//     the sample time. Each params member "temperature:N" gives a Sample with Key
//     "temperature:N" and the temperature from tC (from tF if there is no tC);
//     "humidity:N" gives Key "humidity:N" with humidity from rh; "devicepower:N" gives
//     Key "" with battery from battery.percent and voltage from battery.V, unless
//     external.present is true (USB power: the battery reads 0 and means nothing).
//     Other components are ignored. A bad field (a string tC) is recorded and the
//     others kept; an unreadable ts leaves the samples without a time.
//   - <prefix>/status/<component> (status_ntf on): the same component object as in
//     params, without a time. Other components: telemetry.ErrIgnored.
//
// Gen1 (the prefix is always "shellies/<id>"):
//   - shellies/<id>/sensor/temperature|humidity|battery: a plain number, Key "". The
//     temperature is taken as °C: gen1 publishes in the unit set on the device, which
//     must therefore be °C. A battery of 0 is telemetry.ErrIgnored: a USB-powered H&T reports
//     it, and a battery that flat could not wake the device.
//   - shellies/<id>/ext_temperature/N and ext_humidity/N (add-on probes): Key
//     "ext_temperature:N", "ext_humidity:N".
//
// Both: <prefix>/online "true"/"false": Online, Key "". Any other topic: telemetry.ErrIgnored.
func (d *decoder) shelly(topic string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
	if prefix, ok := strings.CutSuffix(topic, "/events/rpc"); ok {
		return d.shellyRPC(prefix, payload, bad)
	}
	if i := strings.LastIndex(topic, "/status/"); i >= 0 {
		prefix, comp := topic[:i], topic[i+len("/status/"):]
		kind, ok := shellyComponent(comp)
		if !ok {
			return nil, telemetry.ErrIgnored
		}
		if err := checkObject(payload); err != nil {
			return nil, err
		}
		var vs values
		if err := d.shellyComponentValues(prefix, comp, kind, payload, &vs, bad); err != nil {
			return nil, err
		}
		return one(prefix, shellyKey(kind, comp), time.Time{}, vs.slice()), nil
	}
	if prefix, ok := strings.CutSuffix(topic, "/online"); ok {
		return availability(prefix, payload, "true", "false")
	}
	if rest, ok := strings.CutPrefix(topic, "shellies/"); ok {
		return shellyGen1(topic, rest, payload)
	}
	return nil, telemetry.ErrIgnored
}

// shellyGen1 decodes topic shellies/<id>/<kind>/<sub>; rest is topic after "shellies/".
func shellyGen1(topic, rest string, payload []byte) ([]telemetry.Sample, error) {
	id, tail, ok := strings.Cut(rest, "/")
	if !ok {
		return nil, telemetry.ErrIgnored // shellies/announce, shellies/command
	}
	kind, sub, ok := strings.Cut(tail, "/")
	if !ok || strings.Contains(sub, "/") {
		return nil, telemetry.ErrIgnored // shellies/<id>/announce, .../relay/0/power, ...
	}
	device := topic[:len(topic)-len(rest)+len(id)]
	var (
		metric telemetry.Metric
		key    string
	)
	switch kind {
	case "sensor":
		switch sub {
		case "temperature":
			metric = telemetry.Temperature
		case "humidity":
			metric = telemetry.Humidity
		case "battery":
			metric = telemetry.Battery
		default:
			return nil, telemetry.ErrIgnored // sensor/error, sensor/act_reasons, ...
		}
	case "ext_temperature", "ext_humidity":
		if !allDigits(sub) || len(sub) > 3 {
			return nil, badTopic("%s index %q is not a number", kind, sub)
		}
		metric, key = telemetry.Temperature, kind+":"+sub
		if kind == "ext_humidity" {
			metric = telemetry.Humidity
		}
	default:
		return nil, telemetry.ErrIgnored
	}
	samples, err := plainReading(device, key, metric, payload)
	if err == nil && metric == telemetry.Battery && samples[0].Values[0].V == 0 {
		// An H&T on USB power reports battery 0 (with sensor/ext_power true); a
		// battery that flat could not wake the device to publish.
		return nil, telemetry.ErrIgnored
	}
	return samples, err
}

// shellyRPC decodes a gen2 frame from <dev>/events/rpc. The frame is checked and its
// params read in one pass; what was read is dropped if the frame turns out not to be
// a status notification.
func (d *decoder) shellyRPC(dev string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
	var (
		method, params []byte
		methodErr      error
		// the params object being read and the last one read, their readings
		// apart so that they stay on the stack
		cur, last         rpcParams
		curRead, lastRead = make([]shellyReading, 0, 4), []shellyReading(nil)
	)
	err := walkObject(payload, "params", func(nested bool, key, v []byte) {
		if nested {
			if cur.err != nil {
				return
			}
			r, err := d.shellyParam(dev, key, v, &cur.t, &cur.bad)
			if cur.err = err; r.vs.n > 0 {
				cur.n += r.vs.n
				curRead = append(curRead, r)
			}
			return
		}
		switch string(key) {
		case "method":
			if methodErr != nil {
				return // the first bad method is the error
			}
			s, ok, err := str("method", v)
			if err != nil {
				methodErr = err
			} else if ok {
				method = s
			}
		case "params": // the last one counts
			params = v
			last, cur = cur, rpcParams{}
			lastRead, curRead = curRead, nil
		}
	})
	if err == nil {
		err = methodErr
	}
	if err != nil {
		return nil, err
	}
	switch string(method) {
	case "NotifyStatus", "NotifyFullStatus":
	default:
		return nil, telemetry.ErrIgnored // NotifyEvent and anything else
	}
	switch kindOf(params) {
	case 0, kindNull:
		return nil, telemetry.ErrIgnored
	case kindObject:
	default:
		return nil, badValue("params: want an object, got %s", kindName(kindOf(params)))
	}
	bad.errs = append(bad.errs, last.bad.errs...)
	if last.err != nil {
		return nil, last.err
	}
	if len(lastRead) == 0 {
		return nil, telemetry.ErrIgnored
	}
	l := newSampleList(len(lastRead), last.n)
	for i := range lastRead {
		l.add(dev, lastRead[i].key, last.t, lastRead[i].vs.slice())
	}
	return l.samples, nil
}

// rpcParams is what shellyRPC read from a params object, but its readings.
type rpcParams struct {
	t   time.Time
	n   int // values in the readings
	bad badFields
	err error // the first error that is not a bad field: it ends the reading
}

// shellyReading is the values of one component.
type shellyReading struct {
	key string
	vs  values
}

// shellyParam reads the params member key of device dev, valid JSON v: the time ts
// into t, or a component's status as a reading (none if it has no values).
func (d *decoder) shellyParam(dev string, key, v []byte, t *time.Time, bad *badFields) (shellyReading, error) {
	var r shellyReading
	if string(key) == "ts" {
		return r, bad.keep(setTime(t, "params.ts", v, nil, seconds))
	}
	kind, ok := shellyComponent(string(key))
	if !ok {
		return r, nil
	}
	comp := string(key)
	if err := d.shellyComponentValues(dev, comp, kind, v, &r.vs, bad); err != nil || r.vs.n == 0 {
		return shellyReading{}, err
	}
	r.key = shellyKey(kind, comp)
	return r, nil
}

// Kinds of the gen2 components the gateway reads.
const (
	compTemperature = "temperature"
	compHumidity    = "humidity"
	compDevicePower = "devicepower"
	// compBTHomeSensor is one quantity of a Shelly BLU device (see bthome.go).
	compBTHomeSensor = "bthomesensor"
)

// shellyComponent returns the kind of a gen2 component key such as "temperature:0",
// or ok false for components the gateway does not read.
func shellyComponent(key string) (kind string, ok bool) {
	name, id, ok := strings.Cut(key, ":")
	if !ok || !allDigits(id) || len(id) > 5 {
		return "", false
	}
	switch name {
	case compTemperature:
		return compTemperature, true
	case compHumidity:
		return compHumidity, true
	case compDevicePower:
		return compDevicePower, true
	case compBTHomeSensor:
		return compBTHomeSensor, true
	}
	return "", false
}

// shellyKey is the Sample.Key of component comp: its key, but "" for device power,
// a property of the whole device.
func shellyKey(kind, comp string) string {
	if kind == compDevicePower {
		return ""
	}
	return comp
}

// shellyComponentValues decodes the status object of component comp of kind of
// device dev into vs. A null status is no values.
func (d *decoder) shellyComponentValues(dev, comp, kind string, obj []byte, vs *values, bad *badFields) error {
	switch kindOf(obj) {
	case kindNull:
		return nil
	case kindObject:
	default:
		return bad.keep(badValue("%s: want an object, got %s", comp, kindName(kindOf(obj))))
	}
	var external bool
	var (
		tF    float64
		hasTF bool
	)
	err := eachMember(obj, func(f, v []byte) error {
		var (
			x   float64
			set bool
			err error
		)
		switch kind {
		case compTemperature:
			switch string(f) {
			case "tC":
				err = vs.setNumber(telemetry.Temperature, "tC", v, 1)
			case "tF":
				if x, set, err = number("tF", v); set {
					tF, hasTF = x, true
				}
			}
		case compHumidity:
			if string(f) == "rh" {
				err = vs.setNumber(telemetry.Humidity, "rh", v, 1)
			}
		case compDevicePower:
			switch string(f) {
			case "battery":
				err = shellyBattery(v, vs, bad)
			case "external":
				external = bytes.Contains(v, []byte(`"present":true`))
			}
		case compBTHomeSensor:
			if string(f) == "value" {
				err = d.bthomeValue(dev, comp, v, vs)
			}
		}
		if err != nil {
			return bad.keep(withKey([]byte(comp), err))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if external { // powered by USB: the battery reads 0 % and means nothing
		vs.drop(telemetry.Battery)
		vs.drop(telemetry.Voltage)
	}
	if hasTF && kind == compTemperature && !hasMetric(vs, telemetry.Temperature) {
		vs.set(telemetry.Temperature, fahrenheitToCelsius(tF))
	}
	return nil
}

// bthomeValue decodes the value of bthomesensor comp of dev as the quantity the
// device's config gives it (d.bthome). A boolean or string value (a button, a
// window contact) is no reading; a number of unknown quantity is the bad field
// unknown_quantity, never guessed.
func (d *decoder) bthomeValue(dev, comp string, v []byte, vs *values) error {
	switch kindOf(v) {
	case kindNumber:
	case kindNull, kindBool, kindString:
		return nil
	default:
		return badValue("value: want a number, got %s", kindName(kindOf(v)))
	}
	var (
		m  telemetry.Metric
		ok bool
	)
	if d.bthome != nil {
		m, ok = d.bthome.BTHomeQuantity(dev, comp)
	}
	if !ok {
		return reject(ReasonUnknownQuantity, fmt.Errorf("value %s: quantity unknown (set quantity: on the sensor, or let the gateway ask the device with Shelly.GetComponents)", clip(v)))
	}
	return vs.setNumber(m, "value", v, 1)
}

// shellyBattery decodes devicepower's {"V":3.1,"percent":90}.
func shellyBattery(obj []byte, vs *values, bad *badFields) error {
	switch kindOf(obj) {
	case kindNull:
		return nil
	case kindObject:
	default:
		return badValue("battery: want an object, got %s", kindName(kindOf(obj)))
	}
	return eachMember(obj, func(f, v []byte) error {
		switch string(f) {
		case "percent":
			return bad.keep(vs.setNumber(telemetry.Battery, "battery.percent", v, 1))
		case "V":
			return bad.keep(vs.setNumber(telemetry.Voltage, "battery.V", v, 1))
		}
		return nil
	})
}

func hasMetric(vs *values, m telemetry.Metric) bool {
	for _, v := range vs.slice() {
		if v.Metric == m {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
