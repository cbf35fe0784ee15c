package discover

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// ZonePlaceholder stands for the zone id the technician fills in.
const ZonePlaceholder = "ZONE"

// WriteReport lists what was heard, grouped by format: each device with its
// latest values, their age and availability.
func (r Result) WriteReport(w io.Writer, now time.Time) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Heard %d messages on %d topics.\n", r.Messages, r.Topics)
	if len(r.Devices) == 0 && len(r.Cameras) == 0 {
		b.WriteString("\nNo sensors or cameras recognised. Check that the devices publish to this broker\n" +
			"(their MQTT settings: host, port, user) and listen longer with --seconds.\n")
	}
	for _, f := range Formats() {
		var devs []Device
		for _, d := range r.Devices {
			if d.Format == f {
				devs = append(devs, d)
			}
		}
		var cams []Camera
		for _, c := range r.Cameras {
			if c.Format == f {
				cams = append(cams, c)
			}
		}
		if len(devs) == 0 && len(cams) == 0 {
			continue
		}
		head := formatTitle[f]
		if len(devs) > 0 {
			head += fmt.Sprintf(" — %d %s", len(devs), plural(len(devs), "device", "devices"))
		}
		if len(cams) > 0 {
			head += fmt.Sprintf(" — %d %s", len(cams), plural(len(cams), "camera", "cameras"))
		}
		if f == Frigate && r.FrigateOnline != nil {
			head += ", Frigate " + onlineWord(r.FrigateOnline)
		}
		fmt.Fprintf(&b, "\n%s\n", head)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, d := range devs {
			keys := sensorKeys(d)
			for i, k := range keys {
				label := d.Base
				if i > 0 {
					label = ""
				}
				key := ""
				if k != "" {
					key = "[" + k + "]"
				}
				vals, age, fam := "no reading yet", "", ""
				if rd := reading(d, k); rd != nil {
					fam = rd.Family
					if len(rd.Values) > 0 {
						vals, age = valueWords(rd.Values), ageWords(rd.At, now)
					}
				}
				extra := ""
				if i == 0 {
					if d.HAName != "" {
						extra = fmt.Sprintf("%q", d.HAName)
						if about := strings.Trim(d.Model+", "+d.Software, ", "); about != "" {
							extra += " (" + about + ")"
						}
					}
					if d.Rejected > 0 {
						extra += fmt.Sprintf(" %d rejected: %s", d.Rejected, d.Reason)
					}
					for _, w := range d.Warnings {
						extra += " WARNING: " + w
					}
					if len(d.UnknownBLU) > 0 {
						extra += " BLU sensors of unknown quantity (no answer to Shelly.GetComponents): " + strings.Join(d.UnknownBLU, ", ")
					}
				}
				avail := ""
				if i == 0 {
					avail = onlineWord(d.Online)
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", label, key, fam, vals, age, avail, strings.TrimSpace(extra))
			}
		}
		for _, c := range cams {
			fps := "no stats yet"
			if c.FPS != nil {
				fps = fmt.Sprintf("%.1f fps", *c.FPS)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Name, fps, onlineWord(c.Online))
		}
		tw.Flush()
	}
	if r.HAEntities > 0 {
		fmt.Fprintf(&b, "\nHome Assistant discovery: %d entities on homeassistant/…/config (names and models shown above).\n", r.HAEntities)
	}
	if len(r.Other) > 0 {
		keys := slices.Sorted(maps.Keys(r.Other))
		total := 0
		for _, k := range keys {
			total += r.Other[k]
		}
		shown := keys[:min(len(keys), 8)]
		fmt.Fprintf(&b, "\nNot recognised: %d messages under %s", total, strings.Join(shown, ", "))
		if len(keys) > len(shown) {
			fmt.Fprintf(&b, " and %d more", len(keys)-len(shown))
		}
		b.WriteString(".\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// reading returns what sensor key of d reads: the values of that key, or for the
// whole device ("") every key's values merged, with the newest time and the first
// key's family.
func reading(d Device, key string) *Reading {
	if key != "" {
		return d.Readings[key]
	}
	if len(d.Readings) == 0 {
		return nil
	}
	m := &Reading{Values: map[telemetry.Metric]float64{}}
	for _, k := range slices.Sorted(maps.Keys(d.Readings)) {
		r := d.Readings[k]
		maps.Copy(m.Values, r.Values)
		if m.Family == "" {
			m.Family = r.Family
		}
		if r.At.After(m.At) {
			m.At = r.At
		}
	}
	return m
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func onlineWord(on *bool) string {
	switch {
	case on == nil:
		return ""
	case *on:
		return "online"
	}
	return "OFFLINE"
}

func valueWords(v map[telemetry.Metric]float64) string {
	var parts []string
	if x, ok := v[telemetry.Temperature]; ok {
		parts = append(parts, fmt.Sprintf("%.1f °C", x))
	}
	if x, ok := v[telemetry.Humidity]; ok {
		parts = append(parts, fmt.Sprintf("%.0f %% RH", x))
	}
	if x, ok := v[telemetry.Battery]; ok {
		parts = append(parts, fmt.Sprintf("battery %.0f %%", x))
	}
	if len(parts) == 0 {
		if x, ok := v[telemetry.Voltage]; ok {
			parts = append(parts, fmt.Sprintf("%.2f V", x))
		}
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}

func ageWords(at, now time.Time) string {
	if at.IsZero() {
		return "retained"
	}
	d := now.Sub(at).Round(time.Second)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh%02dm ago", int(d.Hours()), int(d.Minutes())%60)
}

var plainScalar = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./-]*$`)

// yamlString writes s as a YAML scalar: plain when safe, else double-quoted.
func yamlString(s string) string {
	if plainScalar.MatchString(s) {
		return s
	}
	q, _ := json.Marshal(s) // a JSON string is a valid YAML double-quoted scalar
	return string(q)
}

// WriteConfig writes the `sensors:` and `cameras:` blocks for everything heard,
// each zone left as [ZonePlaceholder] with a comment saying what the device
// reported, so that the technician can tell which room it is in.
func (r Result) WriteConfig(w io.Writer) error {
	var b strings.Builder
	used := map[string]bool{}
	unique := func(id string) string {
		if !used[id] {
			used[id] = true
			return id
		}
		for i := 2; ; i++ {
			c := fmt.Sprintf("%s-%d", id, i)
			if !used[c] {
				used[c] = true
				return c
			}
		}
	}
	fmt.Fprintf(&b, "# Paste into the centre config. Replace every %s with the id of a zone from\n"+
		"# zones: (saqshy-gateway check-config names any left), and delete what is not ours.\n", ZonePlaceholder)
	n := 0
	for _, d := range r.Devices {
		src := sensorSource(d.Format)
		if src == "" || len(d.Readings) == 0 && len(d.UnknownBLU) == 0 {
			continue
		}
		if n == 0 {
			b.WriteString("sensors:\n")
		}
		for _, k := range d.UnknownBLU {
			id := unique(slug(d.Name + "-" + k))
			fmt.Fprintf(&b, "  - {id: %s, zone: %s, source: %s, topic: %s, key: %s, quantity: %s}"+
				"  # %s: the device did not say what it measures; write temperature, humidity, battery or voltage\n",
				id, ZonePlaceholder, src, yamlString(configTopic(d)), yamlString(k), QuantityPlaceholder, FamilyShellyBLU)
			n++
		}
		if len(d.Readings) == 0 {
			continue
		}
		for _, k := range sensorKeys(d) {
			base := d.Name
			if k != "" {
				base += "-" + k
			}
			id := unique(slug(base))
			line := fmt.Sprintf("  - {id: %s, zone: %s, source: %s, topic: %s", id, ZonePlaceholder, src, yamlString(configTopic(d)))
			if k != "" {
				line += ", key: " + yamlString(k)
			}
			line += "}"
			// The comment names the family, then what it measured, to tell the room.
			fam, what := "", []string{}
			if rd := reading(d, k); rd != nil {
				fam = rd.Family
				if len(rd.Values) > 0 {
					what = append(what, valueWords(rd.Values))
				}
			}
			if d.HAName != "" {
				what = append(what, fmt.Sprintf("%q", d.HAName))
			}
			comment := strings.Join(what, ", ")
			if fam != "" {
				comment = strings.TrimSuffix(fam+": "+comment, ": ")
			}
			fmt.Fprintf(&b, "%s  # %s\n", line, comment)
			for _, w := range d.Warnings {
				fmt.Fprintf(&b, "    # WARNING: %s\n", w)
			}
			n++
		}
	}
	if n == 0 {
		b.WriteString("sensors: []   # none heard\n")
	}
	if len(r.Cameras) > 0 {
		b.WriteString("cameras:\n")
		for _, c := range r.Cameras {
			id := unique(slug(c.Name))
			line := fmt.Sprintf("  - {id: %s, zones: [%s], source: %s", id, ZonePlaceholder, c.Format)
			if c.Format == Frigate {
				line += ", name: " + yamlString(c.Name)
			}
			line += "}"
			if c.FPS != nil {
				line += fmt.Sprintf("  # %.1f fps", *c.FPS)
			}
			b.WriteString(line + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
