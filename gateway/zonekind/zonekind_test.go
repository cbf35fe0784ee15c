package zonekind

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

var update = flag.Bool("update", false, "rewrite docs/ZONES.md from the table")

// TestDoc: docs/ZONES.md is the table as Markdown renders it; -update rewrites it.
func TestDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "ZONES.md")
	want := Markdown()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./gateway/zonekind -run Doc -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./gateway/zonekind -run Doc -update", path)
	}
}

// TestDocNamesEveryKind: the generated doc has a row per kind with its judged band
// and its limits, so a stale table cannot hide behind a matching header.
func TestDocNamesEveryKind(t *testing.T) {
	md := string(Markdown())
	for _, k := range table {
		if !bytes.Contains([]byte(md), []byte("| `"+k.Name+"` | "+k.Names.RU)) {
			t.Errorf("no row for %s", k.Name)
		}
	}
	for _, s := range []string{"> 44 °C 30 s", "> 46 °C at once", "≤ 0 °C at once (`temperature_freeze`)", "cold season 20…22 °C; warm season 23…25 °C", "≤ −18 °C", "< 25 % 24 h", "3; > 46 °C at once → `scald`", "< 16 °C 30 min cumulative → `room_below_16`"} {
		if !bytes.Contains([]byte(md), []byte(s)) {
			t.Errorf("doc lacks %q", s)
		}
	}
}

// TestTable: sorted, unique, named in three languages, described; private kinds
// prohibited; every limit well formed; the normal band of every season inside the
// judged band; a cap's serious reading at least critical; weights only where there
// are limits to score against.
func TestTable(t *testing.T) {
	for i, k := range table {
		if i > 0 && table[i-1].Name >= k.Name {
			t.Errorf("not sorted or duplicated: %s >= %s", table[i-1].Name, k.Name)
		}
		if k.Description == "" || k.Names.RU == "" || k.Names.KK == "" || k.Names.EN == "" {
			t.Errorf("%s: description or a name missing: %+v", k.Name, k.Names)
		}
		switch k.Coverage {
		case Required, Optional, Prohibited:
		default:
			t.Errorf("%s: coverage %q", k.Name, k.Coverage)
		}
		if k.Private != (k.Coverage == Prohibited) {
			t.Errorf("%s: private %v but coverage %s", k.Name, k.Private, k.Coverage)
		}
		for _, l := range k.Limits {
			if l.Metric != telemetry.Temperature && l.Metric != telemetry.Humidity || l.Severity != W && l.Severity != C || l.Hold < 0 {
				t.Errorf("%s: bad limit %+v", k.Name, l)
			}
		}
		z := Effective(k.Name, nil)
		warn, crit, ok := z.Bands()
		if !ok && len(k.Normal) > 0 {
			t.Errorf("%s: a normal band but no limits", k.Name)
		}
		for _, s := range k.Normal {
			if s.Low < warn.Low || s.High > warn.High {
				t.Errorf("%s: normal band %s %v outside the judged band %v", k.Name, s.Season, s.Band, warn)
			}
		}
		if k.Weight > 0 && !ok {
			t.Errorf("%s: weighted but has no temperature limits", k.Name)
		}
		if k.Cap.ID != "" {
			l := k.Cap.Serious
			if k.Weight == 0 || l.Metric != telemetry.Temperature {
				t.Errorf("%s: cap %s on an unscored kind or metric", k.Name, k.Cap.ID)
			}
			// Just beyond the serious limit is beyond the critical band.
			v := l.Value + 0.01
			if !l.Above {
				v = l.Value - 0.01
			}
			if crit.In(v) {
				t.Errorf("%s: serious reading %g is inside the critical band %v", k.Name, v, crit)
			}
		}
	}
	if _, ok := Lookup("bedroom"); ok {
		t.Error("bedroom is not a kind")
	}
	if len(KindNames()) != len(table) || KindNames()[0] != "activity" {
		t.Errorf("KindNames %v", KindNames())
	}
	all := All()
	all[0].Name = "mutated"
	if table[0].Name == "mutated" {
		t.Error("All returns the package's slice")
	}
	d := DefaultLimits("med-fridge")
	d[0].Value = 99
	if DefaultLimits("med-fridge")[0].Value == 99 {
		t.Error("DefaultLimits returns the package's slice")
	}
	if DefaultLimits("office") != nil || DefaultLimits("nonsense") != nil {
		t.Error("office and unknown kinds have no limits")
	}
}

// TestEffective: a zone's limits replace its kind's defaults of that metric only,
// keep the freeze limit, and move every band drawn from them.
func TestEffective(t *testing.T) {
	over := []Limit{tl(below, 17, 0, W), tl(above, 27, 0, C)}
	z := Effective("living", over)
	for _, l := range z.Limits {
		if l.Metric == telemetry.Temperature && l.Value != 17 && l.Value != 27 {
			t.Errorf("default temperature limit %+v kept beside the zone's own", l)
		}
	}
	if n := len(z.Limits); n != 4 { // the two given and the two humidity defaults
		t.Errorf("%d limits, want 4: %+v", n, z.Limits)
	}
	warn, crit, ok := z.Bands()
	inf := math.Inf(1)
	if !ok || warn != (Band{17, 27}) || crit != (Band{-inf, 27}) {
		t.Errorf("bands %v %v, want 17…27 and ≤27", warn, crit)
	}
	if b, ok := z.Scored(); !ok || b != (Band{17, 27}) {
		t.Errorf("scored band %v %v", b, ok)
	}
	mf := Effective("med-fridge", []Limit{tl(above, 10, time.Minute, W)})
	kinds := map[string]bool{}
	for _, l := range mf.Limits {
		kinds[l.ConditionKind()] = true
	}
	if !kinds[KindFreeze] || len(mf.Limits) != 2 {
		t.Errorf("med-fridge with its own limit: %+v, want it and the freeze limit", mf.Limits)
	}
	if _, ok := Effective("bathroom", nil).Scored(); ok {
		t.Error("bathroom is not scored")
	}
	if _, _, ok := Effective("nonsense", nil).Bands(); ok {
		t.Error("an unknown kind has no band")
	}
	if lo, hi, ok := ChartBand("hot-water"); !ok || !math.IsInf(lo, -1) || hi != 44 {
		t.Errorf("hot-water chart band %g…%g %v, want ≤ 44", lo, hi, ok)
	}
}

func TestLimit(t *testing.T) {
	hi := tl(above, 8, 0, W)
	if !hi.Beyond(8.1) || hi.Beyond(8) || !hi.Back(7.5, 0.5) || hi.Back(7.6, 0.5) {
		t.Error("above 8")
	}
	if !freeze.Beyond(0) || freeze.Beyond(0.1) || freeze.Back(0.4, 0.5) || !freeze.Back(0.5, 0.5) {
		t.Error("at or below 0")
	}
	if freeze.ConditionKind() != KindFreeze || hi.ConditionKind() != "temperature_high" || hl(below, 25, 0).ConditionKind() != "humidity_low" {
		t.Error("condition kinds")
	}
	if (Names{"а", "ә", "a"}).In("kk") != "ә" || (Names{"а", "ә", "a"}).In("de") != "a" {
		t.Error("Names.In")
	}
}
