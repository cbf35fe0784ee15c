package decode

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// saqshy decodes the sensor topics of Saqshy's own firmware (see DESIGN.md).
//
//   - saqshy/<centre>/sensor/<sensor>/state: a JSON object with temperature_c,
//     humidity_pct, battery_pct, voltage_v, link_quality and ts, the sample time:
//     RFC 3339 with an offset, or a Unix time number (seconds below 1e11, else
//     milliseconds). Device "saqshy/<centre>/sensor/<sensor>", Key "". Unknown fields
//     are ignored, null values skipped, a known field of the wrong type is a bad field
//     (bad_value; the others are kept). temperature_c 85.0 (a DS18B20's power-on
//     value) and -127 or less (its read error) are out_of_range bad fields.
//   - saqshy/<centre>/sensor/<sensor>/status: "online"/"offline": Online.
//   - Other saqshy/<centre>/... topics (cameras, rounds, the gateway's own
//     publications): telemetry.ErrIgnored. Topics outside saqshy/: bad_topic.
func (d *decoder) saqshy(topic string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
	const want = "want saqshy/<centre>/sensor/<sensor>/state"
	root, rest, ok := strings.Cut(topic, "/")
	if root != "saqshy" || !ok {
		return nil, badTopic(want)
	}
	_, rest, ok = strings.Cut(rest, "/") // centre
	if !ok {
		return nil, badTopic(want)
	}
	kind, rest, _ := strings.Cut(rest, "/")
	if kind != "sensor" {
		return nil, telemetry.ErrIgnored
	}
	_, leaf, ok := strings.Cut(rest, "/") // sensor
	if !ok || strings.Contains(leaf, "/") {
		return nil, badTopic(want)
	}
	dev := topic[:len(topic)-len(leaf)-1]
	switch leaf {
	case "state":
	case "status":
		return availability(dev, payload, "online", "offline")
	default:
		return nil, telemetry.ErrIgnored
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
		)
		switch string(key) {
		case "temperature_c":
			metric, field = telemetry.Temperature, "temperature_c"
		case "humidity_pct":
			metric, field = telemetry.Humidity, "humidity_pct"
		case "battery_pct":
			metric, field = telemetry.Battery, "battery_pct"
		case "voltage_v":
			metric, field = telemetry.Voltage, "voltage_v"
		case "link_quality":
			metric, field = telemetry.LinkQuality, "link_quality"
		case "ts":
			return bad.keep(setTime(&t, "ts", v, nil, autoUnit))
		default:
			return nil
		}
		if metric == telemetry.Temperature {
			x, ok, err := number(field, v)
			switch {
			case err != nil:
				return bad.keep(err)
			case ok && math.Abs(x-85) < 0.005:
				// The firmware's DS18B20 probes read 85.0 °C before their first
				// conversion: a power-on value, not a reading.
				return bad.keep(reject(reasonOutOfRange, fmt.Errorf("%s: 85 °C is the DS18B20 power-on value, not a reading", field)))
			case ok && x <= -127+0.005:
				return bad.keep(reject(reasonOutOfRange, fmt.Errorf("%s: %g °C is a DS18B20 read error", field, x)))
			case ok:
				vs.set(metric, x)
			}
			return nil
		}
		return bad.keep(vs.setNumber(metric, field, v, 1))
	})
	if err != nil {
		return nil, err
	}
	return one(dev, "", t, vs.slice()), nil
}
