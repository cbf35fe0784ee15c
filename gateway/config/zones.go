package config

import (
	"github.com/saqshy/saqshy/gateway/telemetry"
	"github.com/saqshy/saqshy/gateway/zonekind"
)

// Zone kinds — their names, privacy, coverage rule, bands and limits — are the
// table of package zonekind; config only validates zones against it.

// KindByZone returns each zone's kind by zone id.
func (c *Config) KindByZone() map[string]string {
	kinds := make(map[string]string, len(c.Zones))
	for _, z := range c.Zones {
		kinds[z.ID] = z.Kind
	}
	return kinds
}

// Limit is the limit as the zone-kind table writes it.
func (l AlertLimit) Limit() zonekind.Limit {
	lim := zonekind.Limit{Metric: telemetry.Temperature, Hold: l.For.Std(), Severity: telemetry.Warning}
	if l.Metric == "humidity" {
		lim.Metric = telemetry.Humidity
	}
	if l.Severity == "critical" {
		lim.Severity = telemetry.Critical
	}
	if l.Above != nil {
		lim.Above, lim.Value = true, *l.Above
	} else if l.Below != nil {
		lim.Value = *l.Below
	}
	return lim
}

// ZoneLimits returns the zone's own limits (alerts.limits), in the config's order;
// nil when it has none.
func (c *Config) ZoneLimits(zone string) []zonekind.Limit {
	var out []zonekind.Limit
	for _, l := range c.Alerts.Limits {
		if l.Zone == zone {
			out = append(out, l.Limit())
		}
	}
	return out
}

// EffectiveZone returns the zone's settings: its kind's row of the zone-kind table
// with the zone's own limits applied (zonekind.Effective). The alert rules, the
// safety score and the status page all judge the zone by it.
func (c *Config) EffectiveZone(zone string) zonekind.Zone {
	kind := ""
	for _, z := range c.Zones {
		if z.ID == zone {
			kind = z.Kind
			break
		}
	}
	return zonekind.Effective(kind, c.ZoneLimits(zone))
}
