package decode

import (
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// chirpstack decodes LoRaWAN uplinks as the ChirpStack network server publishes them
// (v3 and v4 JSON marshaler), with the device profile's codec output in "object".
//
//   - application/<application>/device/<DevEUI>/event/up: a JSON object. Device is
//     application/<application>/device/<DevEUI>, Key "". The sample time is "time"
//     (v4; RFC 3339) or, in v3, the first rxInfo's "time"; no time otherwise. The
//     readings come from "object", whose field names are the codec's: temperature,
//     Temperature, temp, TempC_SHT (Dragino LHT65/LHT52), TempC_DS (an external
//     probe, used when there is no other temperature) → temperature; humidity,
//     Humidity, hum, Hum_SHT, relative_humidity → humidity; battery, batteryLevel,
//     battery_level, Bat (% when ≤ 100) → battery; BatV, battery_voltage, vdd, Vbat (V;
//     mV converted from 100 up) → voltage. Codecs that wrap readings one level down
//     ({"data":{...}}) are not read. An uplink without object (no codec, or a
//     confirmation) is telemetry.ErrIgnored. A bad field is named and the others kept.
//   - application/<application>/device/<DevEUI>/event/status: batteryLevel (%) →
//     battery, unless batteryLevelUnavailable or externalPowerSource is true.
//   - Other events (join, ack, txack, log, location, integration) and topics:
//     telemetry.ErrIgnored.
func (d *decoder) chirpstack(topic string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
	const want = "want application/<application>/device/<DevEUI>/event/<type>"
	rest, ok := strings.CutPrefix(topic, "application/")
	if !ok {
		return nil, badTopic(want)
	}
	app, rest, ok1 := strings.Cut(rest, "/")
	kw, rest, ok2 := strings.Cut(rest, "/")
	eui, rest, ok3 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !ok3 || kw != "device" || app == "" || eui == "" {
		return nil, badTopic(want)
	}
	ev, ok := strings.CutPrefix(rest, "event/")
	if !ok {
		return nil, telemetry.ErrIgnored // commands (command/down) and the like
	}
	dev := topic[:len(topic)-len(rest)-1]
	switch ev {
	case "up":
		return chirpstackUp(dev, payload, bad)
	case "status":
		return chirpstackStatus(dev, payload, bad)
	}
	return nil, telemetry.ErrIgnored
}

func chirpstackUp(dev string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
	var (
		t, rxTime time.Time
		object    []byte
		timeBad   badFields // kept apart until the payload is known to be valid
	)
	err := walkObject(payload, "", func(_ bool, key, v []byte) {
		switch string(key) {
		case "time":
			_ = timeBad.keep(setTime(&t, "time", v, nil, seconds)) // bad fields only: nil
		case "object":
			object = v
		case "rxInfo":
			if kindOf(v) == kindArray && rxTime.IsZero() {
				// v3: the gateways' receive times; the first one is the time.
				if j := skipSpace(v, 1); j < len(v) && v[j] == '{' {
					if e := valueEnd(v, j); e > 0 {
						_ = eachMember(v[j:e], func(k, fv []byte) error {
							if string(k) == "time" && kindOf(fv) == kindString {
								if ts, ok, err := timeValue("rxInfo.time", fv, nil, seconds); err == nil && ok {
									rxTime = ts
								}
							}
							return nil
						})
					}
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	bad.errs = append(bad.errs, timeBad.errs...)
	if t.IsZero() {
		t = rxTime
	}
	switch kindOf(object) {
	case kindObject:
	case 0, kindNull:
		return nil, telemetry.ErrIgnored
	default:
		return nil, bad.keep(badValue("object: want an object, got %s", kindName(kindOf(object))))
	}
	var (
		vs       values
		probe    float64
		hasProbe bool
		hasTemp  bool
	)
	err = eachMember(object, func(key, v []byte) error {
		var err error
		switch string(key) {
		case "temperature", "Temperature", "temp", "TempC_SHT", "temperature_c":
			x, ok, e := number(string(key), v)
			if ok {
				vs.set(telemetry.Temperature, x)
				hasTemp = true
			}
			err = e
		case "TempC_DS":
			x, ok, e := number("TempC_DS", v)
			if ok {
				probe, hasProbe = x, true
			}
			err = e
		case "humidity", "Humidity", "hum", "Hum_SHT", "relative_humidity":
			err = vs.setNumber(telemetry.Humidity, string(key), v, 1)
		case "battery", "batteryLevel", "battery_level", "Bat":
			x, ok, e := number(string(key), v)
			switch {
			case e != nil:
				err = e
			case ok && x > 100 && x < 10000: // a codec's millivolts under "battery"
				vs.set(telemetry.Voltage, x/1000)
			case ok:
				vs.set(telemetry.Battery, x)
			}
		case "BatV", "battery_voltage", "vdd", "Vbat":
			x, ok, e := number(string(key), v)
			if ok {
				if x >= 100 {
					x /= 1000
				}
				vs.set(telemetry.Voltage, x)
			}
			err = e
		}
		return bad.keep(err)
	})
	if err != nil {
		return nil, err
	}
	if hasProbe && !hasTemp {
		vs.set(telemetry.Temperature, probe)
	}
	return one(dev, "", t, vs.slice()), nil
}

func chirpstackStatus(dev string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
	if err := checkObject(payload); err != nil {
		return nil, err
	}
	var (
		vs       values
		t        time.Time
		external bool
	)
	err := eachMember(payload, func(key, v []byte) error {
		switch string(key) {
		case "time":
			return bad.keep(setTime(&t, "time", v, nil, seconds))
		case "batteryLevel":
			return bad.keep(vs.setNumber(telemetry.Battery, "batteryLevel", v, 1))
		case "externalPowerSource", "batteryLevelUnavailable":
			if string(v) == "true" {
				external = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if external {
		return nil, telemetry.ErrIgnored
	}
	return one(dev, "", t, vs.slice()), nil
}
