package alert

import (
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// TestResponseScoreCountsUnansweredAtOnce is issue 18 item 12: SAFETY_SCORE.md says
// a critical alert not acknowledged counts 0; the engine used to leave it out of the
// score for its first 15 minutes, so a live score showed 1.00 with a critical alert
// nobody had answered. It counts 0 from the moment it is raised and 1 once
// acknowledged within the 15 minutes (the day's score is written an hour after
// midnight and corrected while kept, so an alert raised at 23:55 and answered at
// 00:05 counts as answered there).
func TestResponseScoreCountsUnansweredAtOnce(t *testing.T) {
	r := newRig(t)
	c := fridgeWarm()
	c.Severity = telemetry.Critical
	r.eng.Raise(c)
	c2 := fridgeWarm()
	c2.Subject, c2.Severity = "other-fridge", telemetry.Critical
	r.eng.Raise(c2)
	period := func() float64 {
		got, known := r.eng.ResponseScore(t0, t0.Add(24*time.Hour))
		if !known {
			t.Fatal("response unknown")
		}
		return got
	}
	if got := period(); got != 0 {
		t.Errorf("two critical alerts just raised, none acknowledged: response %v, want 0", got)
	}
	r.clk.Add(14 * time.Minute)
	var id string
	for _, a := range r.eng.Snapshot() {
		if a.Subject == c.Subject {
			id = a.ID
		}
	}
	if _, err := r.eng.Ack(id, "director"); err != nil {
		t.Fatal(err)
	}
	if got := period(); got != 0.5 {
		t.Errorf("one of two acknowledged at 14 min: response %v, want 0.5", got)
	}
}
