package status

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"
)

// The sparkline is an inline SVG drawn on the server: no script, no CDN, and it
// scales to the card's width on a phone. The zone's normal band is a shaded strip,
// each 10-minute bucket a bar from its minimum to its maximum, the means a line
// (broken where the gateway heard nothing), and every bucket that left the band a
// mark under the chart in the band's colours (warn, crit) that its title and the
// summary under the chart also say in words.
const (
	sparkW    = 2 * HistoryBuckets // 2 units per bucket
	sparkH    = 48                 // the chart
	sparkMark = 5                  // the out-of-band strip under it
)

// mergeSeries merges the series of a zone's sensors: per bucket the lowest
// minimum, the highest maximum and the mean of all readings.
func mergeSeries(series ...[]Bucket) []Bucket {
	by := map[int64]*Bucket{}
	for _, s := range series {
		for _, b := range s {
			k := b.Start.Unix()
			m := by[k]
			if m == nil {
				c := b
				by[k] = &c
				continue
			}
			total := m.Mean*float64(m.N) + b.Mean*float64(b.N)
			m.Min, m.Max, m.N = math.Min(m.Min, b.Min), math.Max(m.Max, b.Max), m.N+b.N
			m.Mean = math.Round(total/float64(m.N)*100) / 100
		}
	}
	out := make([]Bucket, 0, len(by))
	for _, b := range by {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// sparkline draws a zone's last 24 h up to now, and says it in words: the range,
// and how long and when it was out of band.
func sparkline(t tr, series []Bucket, band *Band, now time.Time) (template.HTML, string) {
	if len(series) == 0 {
		return "", t.T("history_none")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range series {
		lo, hi = math.Min(lo, b.Min), math.Max(hi, b.Max)
	}
	dataLo, dataHi := lo, hi
	if band != nil {
		if !math.IsInf(band.Low, 0) {
			lo = math.Min(lo, band.Low)
		}
		if !math.IsInf(band.High, 0) {
			hi = math.Max(hi, band.High)
		}
	}
	pad := math.Max(0.5, (hi-lo)*0.08)
	lo, hi = lo-pad, hi+pad
	y := func(v float64) float64 { return math.Round((hi-v)/(hi-lo)*sparkH*10) / 10 }
	last := now.Unix() / int64(HistoryBucket/time.Second)
	x := func(b Bucket) int {
		i := int(b.Start.Unix()/int64(HistoryBucket/time.Second) - (last - HistoryBuckets + 1))
		return i * 2
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="spark" viewBox="0 0 %d %d" preserveAspectRatio="none" role="img" aria-label="%s">`,
		sparkW, sparkH+sparkMark+1, template.HTMLEscapeString(t.T("history_title")))
	if band != nil {
		top, bot := y(math.Min(band.High, hi)), y(math.Max(band.Low, lo))
		fmt.Fprintf(&sb, `<rect class="spark-band" x="0" y="%g" width="%d" height="%g"/>`, top, sparkW, math.Max(bot-top, 0.5))
	}
	var out, lastOut []string
	outN := 0
	var line []string
	flush := func() {
		if len(line) > 1 {
			fmt.Fprintf(&sb, `<polyline class="spark-line" points="%s"/>`, strings.Join(line, " "))
		} else if len(line) == 1 {
			var px, py float64
			fmt.Sscanf(line[0], "%g,%g", &px, &py)
			fmt.Fprintf(&sb, `<circle class="spark-dot" cx="%g" cy="%g" r="1.5"/>`, px, py)
		}
		line = line[:0]
	}
	prev := -10
	for _, b := range series {
		bx := x(b)
		if bx < 0 || bx >= sparkW {
			continue
		}
		top, bot := y(b.Max), y(b.Min)
		fmt.Fprintf(&sb, `<rect class="spark-range" x="%d" y="%g" width="2" height="%g"/>`, bx, top, math.Max(bot-top, 0.6))
		if bx != prev+2 {
			flush()
		}
		prev = bx
		line = append(line, fmt.Sprintf("%d,%g", bx+1, y(b.Mean)))
		if band == nil {
			continue
		}
		lvl := band.Level(b.Min)
		if l := band.Level(b.Max); levelRank[l] > levelRank[lvl] {
			lvl = l
		}
		if lvl == "ok" {
			continue
		}
		outN++
		at := b.Start.In(now.Location()).Format("15:04")
		worst := b.Max
		if band.Level(b.Min) == lvl {
			worst = b.Min
		}
		lastOut = []string{at, fmt.Sprintf("%.1f °C", worst)}
		out = append(out, fmt.Sprintf(`<rect class="spark-out %s" data-out="%s" x="%d" y="%d" width="2" height="%d"><title>%s %s</title></rect>`,
			lvl, at, bx, sparkH+1, sparkMark, at, lastOut[1]))
	}
	flush()
	for _, o := range out {
		sb.WriteString(o)
	}
	sb.WriteString(`</svg>`)
	summary := t.T("history_range", dataLo, dataHi)
	if outN > 0 {
		summary += " · " + t.T("history_out", t.age(time.Duration(outN)*HistoryBucket), lastOut[0], lastOut[1])
	}
	return template.HTML(sb.String()), summary
}
