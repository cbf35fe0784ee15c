package gateway

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// TestScoreReadsTheOtherChecks: with cameras, checkpoints and alerting configured
// (the example centre), the score's coverage, rounds and response components are
// applicable and come from those checks; a camera down for over 24 hours caps it.
func TestScoreReadsTheOtherChecks(t *testing.T) {
	cfg, err := config.Parse("example.yaml", config.Example())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Spool.Dir = t.TempDir()
	cfg.Status.Listen = config.StatusOff
	g, err := New(cfg, Options{Clock: FixedSync(true)})
	if err != nil {
		t.Fatal(err)
	}
	var sc *score.Check
	for _, c := range g.checks {
		if s, ok := c.(*score.Check); ok {
			sc = s
		}
	}
	if sc == nil {
		t.Fatal("no score check")
	}
	now := time.Now()
	g.conds.Raise(telemetry.Condition{Kind: "camera_offline", Subject: cfg.Cameras[0].ID, Severity: telemetry.Critical,
		Since: now.Add(-30 * time.Hour), Reason: "no stats"})
	sc.Tick(now, true)
	sc.Tick(now.Add(time.Minute), true)
	snap, ok := g.Score()
	if !ok || snap.Live == nil {
		t.Fatalf("no live score: %+v", snap)
	}
	for _, c := range []score.Component{score.CompCoverage, score.CompRounds, score.CompResponse} {
		if !snap.Live.Parts[c].Applicable {
			t.Errorf("%s not applicable: %+v", c, snap.Live.Parts)
		}
	}
	// The camera_offline above is a critical alert nobody has acknowledged: it
	// counts 0 from the moment it is raised (issue 18; SAFETY_SCORE.md).
	if p := snap.Live.Parts[score.CompResponse]; !p.Known || p.Ratio != 0 {
		t.Errorf("response with one unacknowledged critical alert: %+v, want 0", p)
	}
	if !snap.Live.Capped() || snap.Live.Caps[0] != score.CapCameraDown {
		t.Errorf("caps %v, want %s", snap.Live.Caps, score.CapCameraDown)
	}
}

// TestConditionsBetween: the conditions open at any time in a period, resolved ones
// included, for the score's caps.
func TestConditionsBetween(t *testing.T) {
	cs := newConditions(slog.New(slog.DiscardHandler))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cs.Raise(telemetry.Condition{Kind: "a", Subject: "1", Since: t0})
	cs.Raise(telemetry.Condition{Kind: "b", Subject: "2", Since: t0.Add(time.Hour)})
	cs.Clear("a", "1", t0.Add(2*time.Hour))
	got := func(from, to time.Time) string {
		var kinds []string
		for _, c := range cs.between(from, to) {
			kinds = append(kinds, c.Kind)
		}
		slices.Sort(kinds)
		return strings.Join(kinds, "")
	}
	for _, tt := range []struct {
		from, to time.Duration
		want     string
	}{
		{-time.Hour, 0, ""},                     // before both
		{0, 30 * time.Minute, "a"},              // a open
		{90 * time.Minute, 3 * time.Hour, "ab"}, // b open, a resolved at 2 h
		{3 * time.Hour, 4 * time.Hour, "b"},     // a resolved before
	} {
		if g := got(t0.Add(tt.from), t0.Add(tt.to)); g != tt.want {
			t.Errorf("between(%v, %v) = %q, want %q", tt.from, tt.to, g, tt.want)
		}
	}
}

// TestSeriousEventsOnlyRequiredCameras: only a camera that covers a required zone
// can cap the score when it is down.
func TestSeriousEventsOnlyRequiredCameras(t *testing.T) {
	cfg := config.Default()
	cfg.Zones = []config.Zone{{ID: "room", Kind: "living"}, {ID: "office", Kind: "office"}}
	cfg.Cameras = []config.Camera{{ID: "cam-room", Zones: []string{"room"}}, {ID: "cam-office", Zones: []string{"office"}}}
	cs := newConditions(slog.New(slog.DiscardHandler))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, cam := range []string{"cam-room", "cam-office"} {
		cs.Raise(telemetry.Condition{Kind: "camera_offline", Subject: cam, Severity: telemetry.Critical, Since: t0})
	}
	got := newSeriousEvents(cfg, cs).Serious(t0, t0.Add(48*time.Hour))
	if len(got) != 1 || got[0].Subject != "cam-room" || got[0].Kind != "camera_down" {
		t.Fatalf("serious events %+v, want camera_down of cam-room only", got)
	}
}
