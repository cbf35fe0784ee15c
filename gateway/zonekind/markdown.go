package zonekind

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Markdown renders the table as docs/ZONES.md.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString(`# Zone kinds

<!-- Generated from gateway/zonekind (table.go) by ` + "`go test ./gateway/zonekind -run Doc -update`" + `; do not edit. -->

Every zone in a centre's config has one of these kinds. The kind decides the zone's
default alert limits, the band its temperature is judged by, how the safety score
weighs and caps it, and whether a camera must, may or must never watch it. One table
in ` + "`gateway/zonekind`" + ` is the only source: the alert rules, the safety score, config
validation, the status page's colours and the monitor's charts all read it.

- **normal band**: the target of DOMAIN.md §6.1, by season where it has one.
- **judged band**: the range inside which no warning limit is crossed. The score
  counts a reading in band there, the status page colours it green and the monitor's
  chart shades it; outside it is amber, and beyond a critical limit red.
- **warning / critical**: the default alert limits with their holds (how long the
  value must stay beyond before the alert fires). A zone's own limits
  (` + "`alerts.limits`" + `) replace the defaults of that metric — for every consumer alike,
  the score and the status page included — except a medicine fridge's freeze limit.
- **hysteresis**: how far a value must come back past a limit to clear it.
- **score**: the zone's weight in the temperature component (— : not scored for
  temperature) and the cap a serious reading triggers (not moved by a zone's own
  limits).
- **cameras**: the default coverage rule; ` + "`coverage.kinds`" + ` and a zone's ` + "`coverage`" + `
  may change it, except for private kinds, which stay prohibited.

| kind | ru / kk / en | normal band | judged band | warning | critical | hysteresis | score | cameras |
|---|---|---|---|---|---|---|---|---|
`)
	for _, k := range table {
		z := Effective(k.Name, nil)
		judged := "—"
		if warn, _, ok := z.Bands(); ok {
			judged = bandText(warn)
		}
		var normal []string
		for _, s := range k.Normal {
			t := bandText(s.Band)
			if s.Season != AllYear {
				t = string(s.Season) + " " + t
			}
			normal = append(normal, t)
		}
		var warnL, critL []string
		hyst := map[telemetry.Metric]bool{}
		for _, l := range k.Limits {
			hyst[l.Metric] = true
			if l.Severity == telemetry.Critical {
				critL = append(critL, limitText(l))
			} else {
				warnL = append(warnL, limitText(l))
			}
		}
		var hy []string
		if hyst[telemetry.Temperature] {
			hy = append(hy, fmt.Sprintf("%g °C", TempHysteresis))
		}
		if hyst[telemetry.Humidity] {
			hy = append(hy, fmt.Sprintf("%g %%", HumidHysteresis))
		}
		score := "—"
		if _, ok := z.Scored(); ok {
			score = fmt.Sprintf("%g", k.Weight)
			if k.Cap.ID != "" {
				c := limitText(k.Cap.Serious)
				if k.Cap.Serious.Hold > 0 {
					c = strings.Replace(c, " min", " min cumulative", 1)
				}
				score += "; " + c + " → `" + k.Cap.ID + "`"
			}
		}
		cov := string(k.Coverage)
		if k.Private {
			cov += " (private)"
		}
		fmt.Fprintf(&b, "| `%s` | %s / %s / %s | %s | %s | %s | %s | %s | %s | %s |\n",
			k.Name, k.Names.RU, k.Names.KK, k.Names.EN, list(normal), judged, list(warnL), list(critL), list(hy), score, cov)
	}
	b.WriteString(`
Besides these limits, a medicine fridge more than 60 min out of range within 24 h is
critical (` + "`temperature_cumulative`" + `), and every sensor has the silence rules; see
[ALERTS.md](ALERTS.md). How the score uses the judged band, the weights and the caps:
[SAFETY_SCORE.md](SAFETY_SCORE.md).
`)
	return b.Bytes()
}

func list(s []string) string {
	if len(s) == 0 {
		return "—"
	}
	return strings.Join(s, "; ")
}

// num formats a value with a typographic minus.
func num(v float64) string { return strings.Replace(fmt.Sprintf("%g", v), "-", "−", 1) }

func bandText(b Band) string {
	switch {
	case math.IsInf(b.Low, -1) && math.IsInf(b.High, 1):
		return "any"
	case math.IsInf(b.Low, -1):
		return "≤ " + num(b.High) + " °C"
	case math.IsInf(b.High, 1):
		return "≥ " + num(b.Low) + " °C"
	}
	return num(b.Low) + "…" + num(b.High) + " °C"
}

func limitText(l Limit) string {
	op := map[[2]bool]string{{true, false}: ">", {true, true}: "≥", {false, false}: "<", {false, true}: "≤"}[[2]bool{l.Above, l.OrEqual}]
	unit := "°C"
	if l.Metric == telemetry.Humidity {
		unit = "%"
	}
	s := fmt.Sprintf("%s %s %s %s", op, num(l.Value), unit, holdText(l.Hold))
	if l.Kind != "" {
		s += " (`" + l.Kind + "`)"
	}
	return s
}

func holdText(d time.Duration) string {
	switch {
	case d == 0:
		return "at once"
	case d < time.Minute:
		return fmt.Sprintf("%g s", d.Seconds())
	case d >= 24*time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%g min", d.Minutes())
}
