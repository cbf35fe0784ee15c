package gateway

import (
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
	sc := g.score
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
