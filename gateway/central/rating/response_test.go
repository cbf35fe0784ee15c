package rating

import (
	"math"
	"testing"
	"time"
)

// TestResponseFromPoints: the rating reads the response from the alert points
// with the gateway's rule (score.ResponseOf): a script's 2-second
// acknowledgement earns nothing even where the gateway did not flag it, a
// flagged one earns nothing, a warning raised to critical counts from then, an
// alert that cleared itself in 3 minutes is counted (issue 16).
func TestResponseFromPoints(t *testing.T) {
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	at := func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	p := func(t time.Time, id, sev, state string, suspect bool) alertPoint {
		return alertPoint{t: t, rule: "temperature_high", subject: "s" + id, id: id, severity: sev, state: state, ackSuspect: suspect}
	}
	pts := []alertPoint{
		// 1: acked by a person at 5 min, resolved at 40 min: 1.
		p(at(1, 0, 0), "1", "critical", "firing", false), p(at(1, 5, 0), "1", "critical", "acknowledged", false),
		p(at(1, 40, 0), "1", "critical", "resolved", false),
		// 2: acked 2 s after (not flagged by the gateway), never resolved: 0.
		p(at(2, 0, 0), "2", "critical", "firing", false), p(at(2, 0, 2), "2", "critical", "acknowledged", false),
		// 3: acked at 3 min through the loopback API (flagged), resolved at 30 min: 0.7.
		p(at(3, 0, 0), "3", "critical", "firing", false), p(at(3, 3, 0), "3", "critical", "acknowledged", true),
		p(at(3, 30, 0), "3", "critical", "resolved", false),
		// 4: cleared itself at 3 min: 0.7.
		p(at(4, 0, 0), "4", "critical", "firing", false), p(at(4, 3, 0), "4", "critical", "resolved", false),
		// 5: a warning at 5:00 acknowledged, critical at 7:00, acked 7:10, resolved 9:30:
		// 0.3 + 0.7 × (4h − 2h30)/3h = 0.65.
		p(at(5, 0, 0), "5", "warning", "firing", false), p(at(5, 1, 0), "5", "warning", "acknowledged", false),
		p(at(7, 0, 0), "5", "critical", "firing", false), p(at(7, 10, 0), "5", "critical", "acknowledged", false),
		p(at(9, 30, 0), "5", "critical", "resolved", false),
		// 6: a warning only: left out.
		p(at(6, 0, 0), "6", "warning", "firing", false),
	}
	now := day.Add(30 * time.Hour)
	// Each alert alone, by the hour it became critical.
	for h, want := range map[int]float64{1: 1, 2: 0, 3: 0.7, 4: 0.7, 5: 1, 7: 0.65} {
		if got := response(pts, at(h, 0, 0), at(h+1, 0, 0), now); !got.Known || math.Abs(got.Ratio-want) > 1e-9 {
			t.Errorf("the alert critical at %d:00: response %+v, want %v", h, got, want)
		}
	}
	// The day: its worst-handled critical alert (2).
	if got := response(pts, day, day.Add(24*time.Hour), now); !got.Known || got.Ratio != 0 {
		t.Errorf("response %+v, want 0", got)
	}
	if got := response(nil, day, day.Add(24*time.Hour), day.Add(30*time.Hour)); got.Ratio != 1 || !got.Known {
		t.Errorf("no alerts: %+v, want 1", got)
	}
}
