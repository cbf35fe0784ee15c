package alertcheck

import (
	"math"
	"testing"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/status"
)

// TestZoneBandsFollowTheAlertLimits: the status page colours a zone by the limits
// its alerts use — the kind's defaults, or the zone's own limits where the config
// gives them.
func TestZoneBandsFollowTheAlertLimits(t *testing.T) {
	cfg := config.Default()
	cfg.Zones = []config.Zone{{ID: "r1", Kind: "living"}, {ID: "r2", Kind: "living"}, {ID: "mf", Kind: "med-fridge"},
		{ID: "b", Kind: "boiler"}, {ID: "o", Kind: "office"}}
	for _, z := range cfg.Zones {
		cfg.Sensors = append(cfg.Sensors, config.Sensor{ID: z.ID + "-t", Zone: z.ID, Source: "saqshy"})
	}
	v := func(f float64) *float64 { return &f }
	cfg.Alerts.Limits = []config.AlertLimit{
		{Zone: "r2", Metric: "temperature", Below: v(17), Severity: "warning"},
		{Zone: "r2", Metric: "temperature", Above: v(27), Severity: "critical"},
	}
	inf := math.Inf(1)
	want := map[string]*status.Band{
		"r1": {Low: 20, High: 25, CritLow: 18, CritHigh: 26},
		"r2": {Low: 17, High: 27, CritLow: -inf, CritHigh: 27},
		"mf": {Low: 2, High: 8, CritLow: 0, CritHigh: 8},
		"b":  {Low: 60, High: inf, CritLow: 55, CritHigh: inf},
	}
	got := ZoneBands(cfg)
	if len(got) != len(want) {
		t.Errorf("bands for %d zones, want %d: %v", len(got), len(want), got)
	}
	for z, w := range want {
		if g := got[z]; g == nil || *g != *w {
			t.Errorf("zone %s: band %+v, want %+v", z, g, *w)
		}
	}
}
