package score

import (
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
	"github.com/saqshy/saqshy/gateway/zonekind"
)

// TestZoneLimitsMoveTheBand: a zone's own limits move the band the score counts,
// as they move the zone's alerts: a living room at 18.5 °C all day is out of band
// by the kind's defaults (warning below 20 °C) and in band when the zone's own
// warning is below 18 °C.
func TestZoneLimitsMoveTheBand(t *testing.T) {
	own := []zonekind.Limit{{Metric: telemetry.Temperature, Value: 18, Hold: time.Hour, Severity: telemetry.Warning}}
	for _, tt := range []struct {
		name   string
		limits []zonekind.Limit
		want   float64
	}{{"defaults", nil, 0}, {"own limits", own, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			s := Sensor{ID: "room", Zone: "r", ZoneKind: "living", Limits: tt.limits, Interval: 10 * time.Minute}
			c := newTestCheck(t, []Sensor{s}, Options{})
			feed(c, "room", at(0, 0, 0), at(1, 0, 10), 10*time.Minute, constant(18.5))
			wantField(t, closeDay(t, c), "temperature", tt.want)
		})
	}
}

// TestTableCaps: every cap the zone-kind table names is a cap the score knows, and
// the cold-room cap needs 30 minutes of serious readings.
func TestTableCaps(t *testing.T) {
	for _, k := range zonekind.All() {
		if id := k.Cap.ID; id != "" {
			if _, ok := capRules[id]; !ok {
				t.Errorf("%s: cap %q unknown to the score", k.Name, id)
			}
		}
	}
	b, ok := SensorBand(Sensor{ZoneKind: "living"})
	if !ok || b.Cap != CapRoomCold || b.CapFor != 30*time.Minute || !b.Serious(15.9) || b.Serious(16) {
		t.Errorf("living: %+v %v", b, ok)
	}
	if b, ok := SensorBand(Sensor{ZoneKind: "hot-water"}); !ok || b.Cap != CapScald || b.CapFor != 0 || !b.Serious(46.1) || b.Serious(46) {
		t.Errorf("hot-water: %+v %v", b, ok)
	}
}
