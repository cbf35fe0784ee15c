package zonekind_test

import (
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/rules"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/status"
	"github.com/saqshy/saqshy/gateway/telemetry"
	"github.com/saqshy/saqshy/gateway/zonekind"
)

// TestConsumersAgree walks every zone kind, with its defaults and with a zone's own
// limits, and proves that the consumers judge a temperature alike: for readings at
// and around every limit, the alert the rules raise if the reading stays (run
// through the rules engine) is the colour of the status page's band, the score
// counts the reading in band exactly when no alert is raised, and the monitor's
// chart shades the same band. It also proves that config validation and coverage
// follow the kind's coverage rule.
func TestConsumersAgree(t *testing.T) {
	own := map[string][]config.AlertLimit{
		"defaults": nil,
		"own limits": {
			{Metric: "temperature", Below: ptr(15), For: config.Duration(10 * time.Minute), Severity: "warning"},
			{Metric: "temperature", Above: ptr(30), For: config.Duration(20 * time.Minute), Severity: "warning"},
			{Metric: "temperature", Above: ptr(33), Severity: "critical"},
		},
	}
	for _, k := range zonekind.All() {
		for name, lims := range own {
			t.Run(k.Name+"/"+name, func(t *testing.T) {
				cfg := centre(t, k.Name, lims)
				// What each consumer is handed, as the gateway wires it.
				z := cfg.EffectiveZone("z") // the rules' limits (ruleSensors) and the status band (zoneBands)
				band := status.ZoneBand(z)  // the status page's colours
				sb, scored := score.SensorBand(score.Sensor{ID: "s", Zone: "z", ZoneKind: k.Name, Limits: cfg.ZoneLimits("z"), Interval: time.Minute})
				lo, hi, charted := zonekind.ChartBand(k.Name) // the monitor's chart (it knows no zone's own limits)

				if charted != (band != nil) && lims == nil {
					t.Errorf("chart band %v, status band %v", charted, band)
				}
				if scored != (band != nil && k.Weight > 0) {
					t.Errorf("scored %v, status band %v, weight %g", scored, band, k.Weight)
				}
				for _, v := range probes(z.Limits) {
					want := rulesLevel(t, k.Name, z.Limits, v)
					if band == nil {
						if want != "ok" {
							t.Errorf("%g °C: the rules raise %s, the status page has no band", v, want)
						}
						continue
					}
					if got := band.Level(v); got != want {
						t.Errorf("%g °C: the rules raise %s, the status page colours %s (band %+v)", v, want, got, *band)
					}
					if scored && sb.In(v) != (want == "ok") {
						t.Errorf("%g °C: the rules raise %s, the score counts in band %v (%g…%g)", v, want, sb.In(v), sb.Min, sb.Max)
					}
					if lims == nil && (v < lo || v > hi) != (want != "ok") {
						t.Errorf("%g °C: the rules raise %s, the chart's band is %g…%g", v, want, lo, hi)
					}
				}
			})
		}
		t.Run(k.Name+"/coverage", func(t *testing.T) { coverageAgrees(t, k) })
	}
}

// coverageAgrees: the kind's coverage rule is config's, a camera on a prohibited
// kind is a config error, and no zone setting makes a private kind watchable.
func coverageAgrees(t *testing.T, k zonekind.Kind) {
	cfg := centre(t, k.Name, nil)
	if rule, _ := cfg.ZoneCoverage(cfg.Zones[0]); rule != string(k.Coverage) {
		t.Errorf("config's coverage rule %s, the table's %s", rule, k.Coverage)
	}
	cfg.Cameras = []config.Camera{{ID: "cam", Zones: []string{"z"}, Source: config.CameraFrigate}}
	cfg.ApplyDefaults()
	err := cfg.Validate()
	if (err != nil) != (k.Coverage == zonekind.Prohibited) {
		t.Errorf("a camera on a %s zone: validation error %v", k.Coverage, err)
	}
	if err != nil && !strings.Contains(err.Error(), `zone "z"`) {
		t.Errorf("the error does not name the zone: %v", err)
	}
	cfg.Cameras = nil
	cfg.Zones[0].Coverage = config.CoverageRequired
	err = cfg.Validate()
	if rule, _ := cfg.ZoneCoverage(cfg.Zones[0]); k.Private != (rule == config.CoverageProhibited) || k.Private != (err != nil) {
		t.Errorf("zone coverage required on a %s kind (private %v): rule %s, validation error %v", k.Coverage, k.Private, rule, err)
	}
}

// centre is a valid config with one zone z of kind, one sensor s in it and the
// zone's own limits.
func centre(t *testing.T, kind string, own []config.AlertLimit) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Centre.ID = "c1"
	cfg.Zones = []config.Zone{{ID: "z", Kind: kind}}
	cfg.Sensors = []config.Sensor{{ID: "s", Zone: "z", Source: config.SourceSaqshy}}
	for _, l := range own {
		l.Zone = "z"
		cfg.Alerts.Limits = append(cfg.Alerts.Limits, l)
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// probes are temperatures at, just inside and just beyond every temperature limit,
// and far on both sides. At exactly an "or equal" limit (a medicine fridge's
// freeze at 0 °C) the status band, which has no notion of an included end, is
// not probed.
func probes(lims []zonekind.Limit) []float64 {
	vs := []float64{-30, 100}
	for _, l := range lims {
		if l.Metric != telemetry.Temperature {
			continue
		}
		vs = append(vs, l.Value-0.01, l.Value+0.01, l.Value-3, l.Value+3)
		if !l.OrEqual {
			vs = append(vs, l.Value)
		}
	}
	slices.Sort(vs)
	return slices.Compact(vs)
}

// rulesLevel runs the rules engine on a sensor reading v every 5 minutes for
// longer than the longest hold, and returns the highest severity of the limit
// conditions it raised: "ok", "warn" or "crit". (A medicine fridge's cumulative
// rule, a matter of time out of range, is not a limit.)
func rulesLevel(t *testing.T, kind string, lims []zonekind.Limit, v float64) string {
	t.Helper()
	var hold time.Duration
	for _, l := range lims {
		if l.Metric == telemetry.Temperature {
			hold = max(hold, l.Hold)
		}
	}
	r := &raised{open: map[string]telemetry.Severity{}}
	const every = 5 * time.Minute
	c := rules.New(r, rules.Options{Sensors: []rules.Sensor{{ID: "s", Zone: "z", ZoneKind: kind, Interval: every, Limits: lims}}})
	t0 := time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC)
	for at := t0; !at.After(t0.Add(hold + every)); at = at.Add(every) {
		c.Observe([]telemetry.Event{{Time: at, Sensor: "s", Values: []telemetry.Value{{Metric: telemetry.Temperature, V: v}}}})
		c.Tick(at, true)
	}
	level := "ok"
	for kind, sev := range r.open {
		switch {
		case kind == rules.KindCumulative || !strings.HasPrefix(kind, "temperature_"):
		case sev == telemetry.Critical:
			level = "crit"
		case level == "ok":
			level = "warn"
		}
	}
	return level
}

type raised struct {
	mu   sync.Mutex
	open map[string]telemetry.Severity
}

func (r *raised) Raise(c telemetry.Condition) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.open[c.Kind] = c.Severity
}

func (r *raised) Clear(kind, _ string, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.open, kind)
}

func ptr(f float64) *float64 { return &f }

// TestRulesEngineSeesTheLimits guards rulesLevel itself: a hot-water outlet at
// 45 °C warns, at 47 °C is critical, at 44 °C is fine.
func TestRulesEngineSeesTheLimits(t *testing.T) {
	lims := zonekind.DefaultLimits("hot-water")
	for v, want := range map[float64]string{44: "ok", 45: "warn", 47: "crit"} {
		if got := rulesLevel(t, "hot-water", lims, v); got != want {
			t.Errorf("%g °C: %s, want %s", v, got, want)
		}
	}
	if got := rulesLevel(t, "office", nil, math.Inf(1)); got != "ok" {
		t.Errorf("office: %s", got)
	}
}
