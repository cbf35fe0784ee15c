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
