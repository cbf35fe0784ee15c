package influxsink

import (
	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// appendPoints converts ev into InfluxDB points (at most one per measurement) and
// appends them to dst.
//
// climate: tags centre, zone, zone_kind, sensor, source; fields temperature_c, humidity_pct.
// device:  tags centre, device (the sensor id), kind (its source), zone; fields
// battery_pct, link_quality, voltage_v, online.
// A non-zero flags field (telemetry.Flags bits) is added to each point so that a
// reader can tell readings stamped by the gateway after clock skew, or with an
// unsynchronised clock, from the rest.
func appendPoints(dst []*write.Point, centre string, ev *telemetry.Event) []*write.Point {
	var climate, device *write.Point
	for _, v := range ev.Values {
		switch v.Metric.Measurement() {
		case "climate":
			if climate == nil {
				climate = write.NewPointWithMeasurement("climate").
					AddTag("centre", centre).
					AddTag("sensor", ev.Sensor).
					AddTag("source", ev.Source).
					AddTag("zone", ev.Zone).
					AddTag("zone_kind", ev.ZoneKind).
					SetTime(ev.Time)
			}
			climate.AddField(v.Metric.String(), v.V)
		default:
			if device == nil {
				device = write.NewPointWithMeasurement("device").
					AddTag("centre", centre).
					AddTag("device", ev.Sensor).
					AddTag("kind", ev.Source).
					AddTag("zone", ev.Zone).
					SetTime(ev.Time)
			}
			device.AddField(v.Metric.String(), v.V)
		}
	}
	for _, p := range [...]*write.Point{climate, device} {
		if p == nil {
			continue
		}
		if ev.Flags != 0 {
			p.AddField("flags", int64(ev.Flags))
		}
		dst = append(dst, p)
	}
	return dst
}
