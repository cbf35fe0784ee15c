package plauscheck

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

type conds struct {
	mu   sync.Mutex
	open map[string]telemetry.Condition
	ops  []string
}

func (c *conds) Raise(x telemetry.Condition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		c.open = map[string]telemetry.Condition{}
	}
	if _, ok := c.open[x.Subject]; !ok {
		c.ops = append(c.ops, "raise "+x.Kind+" "+x.Subject+" "+x.Severity.String())
	}
	c.open[x.Subject] = x
}

func (c *conds) Clear(kind, subject string, _ time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.open[subject]; ok {
		c.ops = append(c.ops, "clear "+kind+" "+subject)
	}
	delete(c.open, subject)
}

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Centre.ID = "c1"
	cfg.Status.Listen = config.StatusOff
	cfg.Zones = []config.Zone{{ID: "mf", Kind: "med-fridge"}, {ID: "ff", Kind: "food-fridge"},
		{ID: "r1", Kind: "living"}, {ID: "r2", Kind: "living"}, {ID: "r3", Kind: "living"}, {ID: "boil", Kind: "boiler"}}
	for _, z := range cfg.Zones {
		cfg.Sensors = append(cfg.Sensors, config.Sensor{ID: z.ID + "-t", Zone: z.ID, Source: "saqshy"})
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func reading(sensor string, at time.Time, v float64, flags telemetry.Flags) telemetry.Event {
	return telemetry.Event{Time: at, Sensor: sensor, Flags: flags, Values: []telemetry.Value{{Metric: telemetry.Temperature, V: math.Round(v*100) / 100}}}
}

// fridge is an honest fridge: a compressor cycle of ~35 minutes, 1.2 °C peak to
// peak, with noise.
func fridge(t time.Time, rng *rand.Rand) float64 {
	ph := math.Mod(float64(t.Unix())/60, 35) / 35
	tri := 2*math.Abs(2*ph-1) - 1
	return 4.5 + 0.6*tri + rng.NormFloat64()*0.03
}

// room is an honest room: a diurnal swing, a drift and noise.
func room(t time.Time, rng *rand.Rand, drift float64) float64 {
	h := float64(t.Unix()%86400) / 3600
	return 21 + 0.8*math.Sin((h-9)/24*2*math.Pi) + drift + rng.NormFloat64()*0.05
}

// TestDay: over a day fed every 5 minutes, a fridge probe flat at 5.0 °C is
// flagged (no compressor cycles), a room sensor copying another room's readings
// with an offset is flagged as its twin (both, each naming the other), the honest
// fridge and room are not; the boiler has no rule. Retained readings are not fed.
// The score's question covers the flagged day; a sensor back to honest readings
// clears after a day.
func TestDay(t *testing.T) {
	cs := &conds{}
	c := New(testConfig(t), cs, nil)
	if got := len(c.Snapshot()); got != 5 {
		t.Fatalf("%d sensors judged, want 5 (not the boiler)", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	var flaggedAt time.Time
	feed := func(from, to time.Time, flatFridge bool) {
		for now := from; now.Before(to); now = now.Add(5 * time.Minute) {
			d := 0.3 * math.Sin(float64(now.Unix())/7000)
			ff := 5.0
			if !flatFridge {
				ff = fridge(now, rng)
			}
			r2 := room(now, rng, d)
			c.Observe([]telemetry.Event{
				reading("mf-t", now, ff, 0),
				reading("mf-t", now.Add(time.Second), 9, telemetry.Retained), // never fed
				reading("ff-t", now, fridge(now.Add(7*time.Minute), rng)-1.5, 0),
				reading("r1-t", now, room(now, rng, -d), 0),
				reading("r2-t", now, r2, 0),
				reading("r3-t", now, r2+1.3, 0), // a copy of r2
				reading("boil-t", now, 62, 0),
			})
			c.Tick(now, true)
			if flaggedAt.IsZero() && cs.open["mf-t"].Kind != "" {
				flaggedAt = now
			}
		}
	}
	feed(start, start.Add(24*time.Hour), true)
	if got := strings.Join(cs.ops, "; "); got != "raise implausible r2-t warning; raise implausible r3-t warning; raise implausible mf-t warning" &&
		got != "raise implausible mf-t warning; raise implausible r2-t warning; raise implausible r3-t warning" {
		t.Errorf("conditions: %s", got)
	}
	if r := cs.open["mf-t"].Reason; !strings.Contains(r, "no compressor cycles") || cs.open["mf-t"].Zone != "mf" {
		t.Errorf("fridge: %+v", cs.open["mf-t"])
	}
	if r := cs.open["r3-t"].Reason; !strings.Contains(r, "tracks sensor r2-t (zone r2)") {
		t.Errorf("twin r3: %s", r)
	}
	if r := cs.open["r2-t"].Reason; !strings.Contains(r, "tracks sensor r3-t (zone r3)") {
		t.Errorf("twin r2: %s", r)
	}
	if flaggedAt.After(start.Add(21 * time.Hour)) {
		t.Errorf("flat fridge flagged only at %s", flaggedAt.Format(time.TimeOnly))
	}
	day := [2]time.Time{start, start.Add(24 * time.Hour)}
	for _, tt := range []struct {
		sensor string
		want   bool
	}{{"mf-t", true}, {"r3-t", true}, {"ff-t", false}, {"r1-t", false}, {"boil-t", false}, {"nobody", false}} {
		if got := c.Implausible(tt.sensor, day[0], day[1]); got != tt.want {
			t.Errorf("Implausible(%s) over the day = %t, want %t", tt.sensor, got, tt.want)
		}
	}
	if c.Implausible("mf-t", start.Add(-48*time.Hour), start.Add(-25*time.Hour)) {
		t.Error("implausible two days before the evidence")
	}
	st := c.Snapshot()
	if st[0].Sensor != "mf-t" || !st[0].Implausible || st[0].Code != "no_compressor_cycles" || st[1].Implausible || st[4].Code != "tracks_other_sensor" {
		t.Errorf("snapshot: %+v", st)
	}

	// The fridge is put back: a day later it clears, the day's span ends there.
	cs.ops = nil
	feed(start.Add(24*time.Hour), start.Add(50*time.Hour), false)
	if !strings.Contains(strings.Join(cs.ops, "; "), "clear implausible mf-t") {
		t.Errorf("after a day of cycles: %v", cs.ops)
	}
	if c.Implausible("mf-t", start.Add(49*time.Hour), start.Add(50*time.Hour)) {
		t.Error("still implausible after it cleared")
	}
}

// TestUnsyncedClock: with an unsynchronised clock nothing is judged.
func TestUnsyncedClock(t *testing.T) {
	cs := &conds{}
	c := New(testConfig(t), cs, nil)
	start := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	for now := start; now.Before(start.Add(25 * time.Hour)); now = now.Add(5 * time.Minute) {
		c.Observe([]telemetry.Event{reading("mf-t", now, 5, 0)})
		c.Tick(now, false)
	}
	if len(cs.ops) != 0 || c.Snapshot()[0].Judged {
		t.Errorf("judged with an unsynchronised clock: %v", cs.ops)
	}
}

// TestNoSensors: a centre with only unjudged kinds has no check.
func TestNoSensors(t *testing.T) {
	cfg := config.Default()
	cfg.Centre.ID = "c1"
	cfg.Zones = []config.Zone{{ID: "boil", Kind: "boiler"}}
	cfg.Sensors = []config.Sensor{{ID: "b", Zone: "boil", Source: "saqshy"}}
	cfg.ApplyDefaults()
	if c := New(cfg, &conds{}, nil); c != nil {
		t.Errorf("a check for a boiler only: %+v", c.Snapshot())
	}
}
