package telemetry

import (
	"strings"
	"testing"
	"time"
)

func TestHeartbeatMatchesSchema(t *testing.T) {
	ev := Heartbeat{Uptime: 90*time.Second + 900*time.Millisecond, RegistryVersion: 2, ConfigHash: "h"}.Point(time.Unix(0, 0))
	if err := CheckSchema(ev.Point); err != nil {
		t.Fatal(err)
	}
	got := map[string]Field{}
	for _, f := range ev.Point.Fields {
		got[f.Key] = f
	}
	if len(got) != len(Schema[MeasurementGateway]) {
		t.Errorf("heartbeat has %d fields, schema %d", len(got), len(Schema[MeasurementGateway]))
	}
	if f := got["uptime_s"]; f.Kind != IntField || f.Int != 90 {
		t.Errorf("uptime_s = %v, want 90i", f)
	}
	if f := got["registry_version"]; f.Kind != IntField || f.Int != 2 {
		t.Errorf("registry_version = %v", f)
	}
	if f := got["config_hash"]; f.Kind != StringField || f.Str != "h" {
		t.Errorf("config_hash = %v", f)
	}
}

func TestCheckSchemaRejects(t *testing.T) {
	for _, tc := range []struct {
		p    Point
		want string
	}{
		{Point{Measurement: "nope", Fields: []Field{Int("x", 1)}}, `unknown measurement "nope"`},
		{Point{Measurement: MeasurementGateway, Fields: []Field{Float("uptime_s", 1)}}, "gateway.uptime_s is integer, not float"},
		{Point{Measurement: MeasurementGateway, Fields: []Field{Int("uptime", 1)}}, `has no field "uptime"`},
		{Point{Measurement: MeasurementSafetyScore, Fields: []Field{Int("total", 1)}}, "safety_score.total is float, not integer"},
		{Point{Measurement: MeasurementAlert, Fields: []Field{Float(FlagsField, 1)}}, "alert.flags is integer, not float"},
	} {
		err := CheckSchema(&tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.p, err, tc.want)
		}
	}
	ok := Point{Measurement: MeasurementAlert, Fields: []Field{String("state", "firing"), Int(FlagsField, 2)}}
	if err := CheckSchema(&ok); err != nil {
		t.Errorf("valid alert point: %v", err)
	}
}

func TestSchemaCoversMetrics(t *testing.T) {
	for m := Metric(1); m.Valid(); m++ {
		if k, ok := Schema[m.Measurement()][m.String()]; !ok || k != FloatField {
			t.Errorf("metric %s: schema %s.%s = %v, %v; want float", m, m.Measurement(), m, k, ok)
		}
	}
}
