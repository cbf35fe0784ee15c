package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/zonekind"
)

// normalBand is a zone kind's judged temperature band (the zone-kind table's: no
// warning limit crossed); the chart shades it and marks readings outside it. An open
// end is ±Inf. ok is false for kinds without one.
func normalBand(kind string) (lo, hi float64, ok bool) { return zonekind.ChartBand(kind) }

// chart is a server-rendered SVG line chart (no script, no CDN).
type chart struct {
	W, H       int
	From, To   time.Time
	Loc        *time.Location
	Lo, Hi     float64 // y range
	Band       [2]float64
	HasBand    bool
	Percent    bool // y values are ratios shown as %
	Title      string
	XHourly    bool
	Decimals   int
	NoDataText string
}

const padL, padR, padT, padB = 44.0, 8.0, 18.0, 22.0

func (c *chart) x(t time.Time) float64 {
	span := c.To.Sub(c.From).Seconds()
	if span <= 0 {
		return padL
	}
	return padL + (float64(c.W)-padL-padR)*t.Sub(c.From).Seconds()/span
}

func (c *chart) y(v float64) float64 {
	if c.Hi == c.Lo {
		return float64(c.H) / 2
	}
	return padT + (float64(c.H)-padT-padB)*(c.Hi-v)/(c.Hi-c.Lo)
}

func (c *chart) label(v float64) string {
	if c.Percent {
		return fmt.Sprintf("%.0f%%", v*100)
	}
	return fmt.Sprintf("%.*f", c.Decimals, v)
}

// render draws pts (with a min–max band where Min != Max).
func (c *chart) render(pts []store.Point) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, c.W, c.H, c.W, c.H, template.HTMLEscapeString(c.Title))
	fmt.Fprintf(&b, `<text x="%g" y="12" class="ct">%s</text>`, padL, template.HTMLEscapeString(c.Title))
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="nd" text-anchor="middle">%s</text></svg>`, c.W/2, c.H/2, template.HTMLEscapeString(c.NoDataText))
		return template.HTML(b.String())
	}
	if c.Lo == 0 && c.Hi == 0 {
		c.Lo, c.Hi = math.Inf(1), math.Inf(-1)
		for _, p := range pts {
			c.Lo, c.Hi = math.Min(c.Lo, p.Min), math.Max(c.Hi, p.Max)
		}
		if c.HasBand {
			lo, hi := c.Band[0], c.Band[1]
			if math.IsInf(lo, -1) { // open below (freezer, hot water): show 6 °C under its top
				lo = hi - 6
			}
			if math.IsInf(hi, 1) { // open above (boiler, corridor): show 6 °C over its floor
				hi = lo + 6
			}
			c.Lo, c.Hi = math.Min(c.Lo, lo), math.Max(c.Hi, hi)
		}
		pad := math.Max((c.Hi-c.Lo)*0.08, 0.5)
		c.Lo, c.Hi = math.Floor(c.Lo-pad), math.Ceil(c.Hi+pad)
	}
	x0, x1 := padL, float64(c.W)-padR
	if c.HasBand {
		lo, hi := math.Max(c.Band[0], c.Lo), math.Min(c.Band[1], c.Hi)
		if hi > lo {
			fmt.Fprintf(&b, `<rect class="band" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x0, c.y(hi), x1-x0, c.y(lo)-c.y(hi))
		}
	}
	// Axes and labels: three y ticks, day or 6-hour x ticks.
	for _, v := range []float64{c.Lo, (c.Lo + c.Hi) / 2, c.Hi} {
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text class="yl" x="%.1f" y="%.1f" text-anchor="end">%s</text>`,
			x0, x1, c.y(v), c.y(v), x0-4, c.y(v)+4, c.label(v))
	}
	step := 24 * time.Hour
	if c.To.Sub(c.From) <= 36*time.Hour {
		step = 6 * time.Hour
	}
	if c.To.Sub(c.From) > 10*24*time.Hour {
		step = 7 * 24 * time.Hour
	}
	t := c.From.In(c.Loc).Truncate(time.Hour)
	if step >= 24*time.Hour {
		t = store.StartOfDay(c.From, c.Loc).AddDate(0, 0, 1)
	}
	for ; t.Before(c.To); t = t.Add(step) {
		if t.Before(c.From) {
			continue
		}
		f := "02.01"
		if step < 24*time.Hour {
			f = "15:04"
		}
		anchor := "middle"
		if c.x(t) > float64(c.W)-16 { // the last label would run off the chart
			anchor = "end"
		}
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text class="xl" x="%.1f" y="%d" text-anchor="%s">%s</text>`,
			c.x(t), c.x(t), padT, float64(c.H)-padB, c.x(t), c.H-6, anchor, t.In(c.Loc).Format(f))
	}
	// Min–max band of the data, then the line, broken at gaps longer than 3 points' spacing.
	gap := 3 * c.To.Sub(c.From) / time.Duration(max(len(pts), 1))
	if len(pts) > 1 {
		if d := pts[1].T.Sub(pts[0].T) * 3; d > gap {
			gap = d
		}
	}
	var band, line strings.Builder
	hasBand := false
	for i, p := range pts {
		if p.Min != p.Max {
			hasBand = true
		}
		cmd := "L"
		if i == 0 || p.T.Sub(pts[i-1].T) > gap {
			cmd = "M"
		}
		fmt.Fprintf(&line, "%s%.1f %.1f", cmd, c.x(p.T), c.y(p.V))
	}
	if hasBand {
		for i, p := range pts {
			if i == 0 {
				fmt.Fprintf(&band, "M%.1f %.1f", c.x(p.T), c.y(p.Max))
			} else {
				fmt.Fprintf(&band, "L%.1f %.1f", c.x(p.T), c.y(p.Max))
			}
		}
		for i := len(pts) - 1; i >= 0; i-- {
			fmt.Fprintf(&band, "L%.1f %.1f", c.x(pts[i].T), c.y(pts[i].Min))
		}
		fmt.Fprintf(&b, `<path class="mm" d="%sZ"/>`, band.String())
	}
	fmt.Fprintf(&b, `<path class="ln" d="%s"/>`, line.String())
	if c.HasBand {
		for _, p := range pts {
			if p.V < c.Band[0] || p.V > c.Band[1] {
				fmt.Fprintf(&b, `<circle class="out" cx="%.1f" cy="%.1f" r="2.2"><title>%s %s</title></circle>`, c.x(p.T), c.y(p.V), p.T.In(c.Loc).Format("02.01 15:04"), c.label(p.V))
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
