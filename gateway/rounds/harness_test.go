package rounds

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// condLog records what the check raises and clears, like the gateway's registry
// (one open condition per kind and subject; raising an open one refreshes it, and
// a change of severity is a transition, recorded in raised).
type condLog struct {
	mu      sync.Mutex
	open    map[string]telemetry.Condition
	raised  []telemetry.Condition
	cleared []string
}

func newCondLog() *condLog { return &condLog{open: map[string]telemetry.Condition{}} }

func (l *condLog) Raise(c telemetry.Condition) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := c.Kind + "/" + c.Subject
	if old, ok := l.open[k]; ok {
		if old.Severity == c.Severity {
			return
		}
		old.Severity, old.Reason = c.Severity, c.Reason
		c = old
	}
	l.open[k] = c
	l.raised = append(l.raised, c)
}

func (l *condLog) Clear(kind, subject string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := kind + "/" + subject
	if _, ok := l.open[k]; ok {
		delete(l.open, k)
		l.cleared = append(l.cleared, k)
	}
}

func (l *condLog) openKeys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for k := range l.open {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// testConfig is a centre with the given checkpoints (id -> zone kind); each
// checkpoint sits in its own zone "z-<id>".
func testConfig(t testing.TB, tz string, cps ...string) *config.Config {
	t.Helper()
	c := config.Default()
	c.Centre.ID = "c1"
	c.Centre.Timezone = tz
	c.Centre.Location = nil
	for i := 0; i+1 < len(cps); i += 2 {
		id, kind := cps[i], cps[i+1]
		c.Zones = append(c.Zones, config.Zone{ID: "z-" + id, Kind: kind})
		c.Rounds.Checkpoints = append(c.Rounds.Checkpoints, config.Checkpoint{ID: id, Zone: "z-" + id, Tag: fmt.Sprintf("04A0%04X", i/2)})
	}
	c.ApplyDefaults()
	return c
}

func mustValid(t testing.TB, c *config.Config) {
	t.Helper()
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// sim drives a check through simulated time: ticks every step, messages at their
// times, and collects every point.
type sim struct {
	t      testing.TB
	c      *Check
	conds  *condLog
	now    time.Time
	step   time.Duration
	synced bool
	points []telemetry.Event
	// crashBeforeCommit: the gateway never confirms the ticks' points (it dies
	// before they reach the spool).
	crashBeforeCommit bool
}

func newSim(t testing.TB, cfg *config.Config, stateFile string, start time.Time) *sim {
	t.Helper()
	mustValid(t, cfg)
	s := &sim{t: t, conds: newCondLog(), now: start, step: time.Minute, synced: true}
	c, err := New(Options{Config: cfg, StateFile: stateFile, Conditions: s.conds,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	s.c = c
	return s
}

// until ticks up to (not past) t.
func (s *sim) until(t time.Time) {
	for !s.now.Add(s.step).After(t) {
		s.now = s.now.Add(s.step)
		s.tick()
	}
	if s.now.Before(t) {
		s.now = t
		s.tick()
	}
}

// tick ticks at s.now and, like the gateway once the points are in the spool,
// confirms them unless s.crashBeforeCommit.
func (s *sim) tick() {
	s.points = append(s.points, s.c.Tick(s.now, s.synced)...)
	if !s.crashBeforeCommit {
		s.c.Committed()
	}
}

// msg delivers a message at the current time.
func (s *sim) msg(topic string, payload string) telemetry.Event {
	s.t.Helper()
	evs, err := s.c.Message(telemetry.Message{Topic: topic, Payload: []byte(payload), Received: s.now}, s.synced)
	if err != nil {
		s.t.Fatalf("message %s %s: %v", topic, payload, err)
	}
	if len(evs) == 0 {
		s.t.Fatalf("message %s %s: no point", topic, payload)
	}
	s.points = append(s.points, evs...)
	return evs[len(evs)-1]
}

// scan is a native scan at checkpoint cp at time t (ticking up to it first).
func (s *sim) scan(t time.Time, cp string, fields string) telemetry.Event {
	s.until(t)
	return s.msg("saqshy/c1/round/"+cp+"/scan", "{"+fields+"}")
}

// night returns the overall round_night point's fields, or fails.
func (s *sim) night() map[string]any {
	s.t.Helper()
	for _, e := range s.points {
		if p := e.Point; p != nil && p.Measurement == "round_night" && tag(e, "zone_kind") == "" {
			return fields(e)
		}
	}
	s.t.Fatalf("no round_night point among %d points", len(s.points))
	return nil
}

func (s *sim) kindNight(kind string) map[string]any {
	for _, e := range s.points {
		if p := e.Point; p != nil && p.Measurement == "round_night" && tag(e, "zone_kind") == kind {
			return fields(e)
		}
	}
	s.t.Fatalf("no round_night point for %s", kind)
	return nil
}

func tag(e telemetry.Event, k string) string {
	for _, t := range e.Point.Tags {
		if t.Key == k {
			return t.Value
		}
	}
	return ""
}

func fields(e telemetry.Event) map[string]any {
	m := map[string]any{}
	for _, f := range e.Point.Fields {
		m[f.Key] = f.Value()
	}
	return m
}

// wantNight checks the overall counts.
func wantNight(t testing.TB, got map[string]any, due, onTime, late, missed int64, compliance float64, unknown bool) {
	t.Helper()
	if got["due"] != due || got["on_time"] != onTime || got["late"] != late || got["missed"] != missed ||
		got["unknown"] != unknown || fmt.Sprintf("%.6f", got["compliance"]) != fmt.Sprintf("%.6f", compliance) {
		t.Errorf("night: got %v; want due=%d on_time=%d late=%d missed=%d compliance=%.4f unknown=%t",
			got, due, onTime, late, missed, compliance, unknown)
	}
}

func (s *sim) summary() Summary {
	s.t.Helper()
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if len(s.c.st.Pending) == 0 {
		s.t.Fatal("no pending summary")
	}
	var sum Summary
	if err := json.Unmarshal(s.c.st.Pending[len(s.c.st.Pending)-1].Payload, &sum); err != nil {
		s.t.Fatal(err)
	}
	return sum
}

func at(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, loc)
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// scanPoints returns the scan points, by reason ("" for counted plausible ones).
func (s *sim) scanReasons() map[string]int {
	out := map[string]int{}
	for _, e := range s.points {
		if e.Point != nil && e.Point.Measurement == "round" && tag(e, "event") == "scan" {
			out[tag(e, "reason")]++
		}
	}
	return out
}
