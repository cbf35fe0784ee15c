package decode

import (
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
//     are ignored, null values skipped, known fields of the wrong type are bad_value.
//   - saqshy/<centre>/sensor/<sensor>/status: "online"/"offline": Online.
//   - Other saqshy/<centre>/... topics (cameras, rounds, the gateway's own
//     publications): ErrIgnored. Topics outside saqshy/: bad_topic.
func (d *decoder) saqshy(topic string, payload []byte) ([]telemetry.Sample, error) {
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
			return setTime(&t, "ts", v, nil, autoUnit)
		default:
			return nil
		}
		return vs.setNumber(metric, field, v, 1)
	})
	if err != nil {
		return nil, err
	}
	return one(dev, "", t, vs.slice()), nil
}
