package web

import (
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
)

func TestChartRendersWithoutData(t *testing.T) {
	c := chart{W: 100, H: 50, From: time.Unix(0, 0), To: time.Unix(3600, 0), Loc: time.UTC, NoDataText: "no data"}
	if s := string(c.render(nil)); !strings.Contains(s, "no data") {
		t.Errorf("empty chart: %s", s)
	}
	pts := []store.Point{{T: time.Unix(0, 0), V: 9, Min: 9, Max: 9}, {T: time.Unix(1800, 0), V: 5, Min: 4, Max: 6}}
	c = chart{W: 100, H: 50, From: time.Unix(0, 0), To: time.Unix(3600, 0), Loc: time.UTC, Band: [2]float64{2, 8}, HasBand: true}
	s := string(c.render(pts))
	if strings.Count(s, `class="out"`) != 1 {
		t.Errorf("one point out of the 2–8 band should be marked: %s", s)
	}
}

// TestChartLastLabelInside: an hour label at the chart's right edge ends there
// instead of running off it ("07:0" cut).
func TestChartLastLabelInside(t *testing.T) {
	from := time.Date(2026, 1, 1, 7, 0, 30, 0, time.UTC)
	c := chart{W: 300, H: 130, From: from, To: from.Add(24 * time.Hour), Loc: time.UTC}
	s := string(c.render([]store.Point{{T: from.Add(time.Hour), V: 20, Min: 20, Max: 20}, {T: from.Add(2 * time.Hour), V: 21, Min: 21, Max: 21}}))
	i := strings.LastIndex(s, `<text class="xl"`)
	if i < 0 {
		t.Fatalf("no x label: %s", s)
	}
	label := s[i : i+strings.Index(s[i:], "</text>")]
	if !strings.Contains(label, `text-anchor="end"`) {
		t.Errorf("last x label %s: runs off the chart", label)
	}
}
