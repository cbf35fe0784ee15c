package config

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strings"
)

// Summary returns a short human summary of the config for check-config: the
// centre, zones by kind, sensors by source, cameras, checkpoints and where the data
// goes. It never contains a secret (URLs are shown without credentials).
func (c *Config) Summary() string {
	var b strings.Builder
	row := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-8s %s\n", label, fmt.Sprintf(format, args...))
	}
	name := ""
	if c.Centre.Name != "" {
		name = fmt.Sprintf(" %q", c.Centre.Name)
	}
	row("centre", "%s%s, time zone %s", c.Centre.ID, name, c.Centre.Timezone)

	zoneKinds := map[string]int{}
	for _, z := range c.Zones {
		zoneKinds[z.Kind]++
	}
	row("zones", "%d%s", len(c.Zones), counts(zoneKinds, nil))

	sources := map[string]int{}
	local := 0
	for _, s := range c.Sensors {
		sources[s.Source]++
		if s.Local() {
			local++
		}
	}
	extra := ""
	if local > 0 {
		extra = fmt.Sprintf(" (%d wired to the Pi)", local)
	}
	row("sensors", "%d%s%s", len(c.Sensors), counts(sources, SensorSources()), extra)

	camSources := map[string]int{}
	covered := map[string]bool{}
	for _, cam := range c.Cameras {
		camSources[cam.Source]++
		for _, z := range cam.Zones {
			covered[z] = true
		}
	}
	camExtra := ""
	if len(c.Cameras) > 0 {
		camExtra = fmt.Sprintf(", covering %d zones", len(covered))
	}
	row("cameras", "%d%s%s", len(c.Cameras), counts(camSources, cameraSources), camExtra)
	row("rounds", "%d checkpoints, every %s within %s", len(c.Rounds.Checkpoints), c.Rounds.Interval, c.Rounds.Window)
	row("alerts", "%d recipients", len(c.Alerts.Recipients))

	mq := redact(c.MQTT.URL)
	if c.MQTT.Username != "" {
		mq += " as " + c.MQTT.Username
	}
	row("mqtt", "%s, client id %s", mq, c.MQTT.ClientID)
	if c.Influx.URL == "" {
		row("influx", "spool only (no influx.url): data stays on this Pi")
	} else {
		org := ""
		if c.Influx.Org != "" {
			org = ", org " + c.Influx.Org
		}
		row("influx", "%s, bucket %s%s", redact(c.Influx.URL), c.Influx.Bucket, org)
	}
	row("spool", "%s, up to %s", c.Spool.Dir, c.Spool.MaxBytes)
	status := c.Status.Listen
	if host, _, err := net.SplitHostPort(status); err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		status += " (open to the centre's network)"
	}
	row("status", "%s", status)
	return b.String()
}

// counts renders ": a 3, b 1" in the order of order (then by count), or "" when m is empty.
func counts(m map[string]int, order []string) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(order, k); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(m[b], m[a]), strings.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return ": " + strings.Join(parts, ", ")
}
