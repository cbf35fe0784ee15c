package web

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/telemetry"
	"github.com/saqshy/saqshy/gateway/zonekind"
)

// kindChart renders the centre page's chart of one zone of kind (as the centre
// handler does) over an hour with the given readings.
func kindChart(kind string, vs ...float64) string {
	from := time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC)
	ch := chart{W: 300, H: 130, From: from, To: from.Add(time.Hour), Loc: time.UTC, Title: "z · " + kind, Decimals: 1, NoDataText: "no data"}
	ch.Band[0], ch.Band[1], ch.HasBand = normalBand(kind)
	var pts []store.Point
	for i, v := range vs {
		pts = append(pts, store.Point{T: from.Add(time.Duration(i+1) * time.Minute), V: v, Min: v, Max: v})
	}
	return string(ch.render(pts))
}

var outMark = regexp.MustCompile(`<circle class="out"[^>]*><title>[^<]* ([-0-9.]+)</title>`)

// outOfBand returns the readings the chart marks out of band.
func outOfBand(svg string) []float64 {
	var out []float64
	for _, m := range outMark.FindAllStringSubmatch(svg, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		out = append(out, v)
	}
	return out
}

// TestHotWaterChartAt50IsOutOfBand: a mixed hot-water outlet at 50 °C scalds
// (the alert warns above 44 °C, is critical above 46 °C); the chart must mark it
// out of band and shade 40 °C as normal. (It used to shade 60–80 °C as normal.)
func TestHotWaterChartAt50IsOutOfBand(t *testing.T) {
	svg := kindChart("hot-water", 40, 50)
	if got := outOfBand(svg); len(got) != 1 || got[0] != 50 {
		t.Errorf("readings marked out of band %v, want [50]: %s", got, svg)
	}
	if !strings.Contains(svg, `class="band"`) {
		t.Errorf("no normal band shaded: %s", svg)
	}
}

// TestChartBandsFollowTheAlertLimits walks every zone kind: the chart marks a
// reading out of band exactly when one of the kind's temperature limits is
// crossed by it, and it renders finite (open ends drawn within the chart).
func TestChartBandsFollowTheAlertLimits(t *testing.T) {
	for _, k := range zonekind.All() {
		var vs []float64
		for _, l := range k.Limits {
			if l.Metric == telemetry.Temperature {
				vs = append(vs, l.Value-0.5, l.Value+0.5)
			}
		}
		if len(vs) == 0 {
			if _, _, ok := normalBand(k.Name); ok {
				t.Errorf("%s has no limits but a chart band", k.Name)
			}
			continue
		}
		svg := kindChart(k.Name, vs...)
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Errorf("%s: chart not finite: %s", k.Name, svg)
		}
		var want []float64
		for _, v := range vs {
			for _, l := range k.Limits {
				if l.Metric == telemetry.Temperature && l.Beyond(v) {
					want = append(want, v)
					break
				}
			}
		}
		got := outOfBand(svg)
		if len(got) != len(want) {
			t.Errorf("%s: marked out of band %v, the limits are crossed by %v", k.Name, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: marked out of band %v, the limits are crossed by %v", k.Name, got, want)
				break
			}
		}
	}
}
