package score

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestResponseWorkedExample recomputes the response example of
// docs/SAFETY_SCORE.md from its input table.
func TestResponseWorkedExample(t *testing.T) {
	in, want := docTable(t, "response-example"), docTable(t, "response-expected")
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	end := day.Add(24 * time.Hour)
	now := end.Add(time.Hour) // the day point is written close_after (1 h) after midnight
	minutes := func(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }
	var spans []AlertSpan
	byName := map[rune]AlertSpan{}
	for _, name := range []string{"A", "B", "C", "D", "E"} {
		at, ok := in[name+".at_h"]
		if !ok {
			t.Fatalf("alert %s: no at_h in the table", name)
		}
		a := AlertSpan{Critical: day.Add(time.Duration(at * float64(time.Hour))), AckSuspect: in[name+".suspect"] == 1}
		if m := in[name+".ack_min"]; m >= 0 {
			a.Acked = a.Critical.Add(minutes(m))
		}
		if m := in[name+".resolved_min"]; m >= 0 {
			a.Resolved = a.Critical.Add(minutes(m))
		}
		if got := AlertResponse(a, now); math.Abs(got-want[name]) > 1e-9 {
			t.Errorf("alert %s: %v, doc says %v", name, got, want[name])
		}
		spans = append(spans, a)
		byName[rune(name[0])] = a
	}
	if got := ResponseOf(spans, day, end, now); math.Abs(got-want["response"]) > 1e-9 {
		t.Errorf("response %v, doc says %v", got, want["response"])
	}
	// Days of some of them: day.<letters>, a letter repeated for an alert like it.
	days := 0
	for k, v := range want {
		names, ok := strings.CutPrefix(k, "day.")
		if !ok {
			continue
		}
		days++
		var d []AlertSpan
		for _, n := range names {
			a, ok := byName[n]
			if !ok {
				t.Fatalf("%s: no alert %c", k, n)
			}
			d = append(d, a)
		}
		if got := ResponseOf(d, day, end, now); math.Abs(got-v) > 1e-9 {
			t.Errorf("%s: %v, doc says %v", k, got, v)
		}
	}
	if days == 0 {
		t.Error("no day.* rows in the response table")
	}
	// A script acknowledging each of the day's alerts 2 s in, none resolved.
	var script []AlertSpan
	for _, a := range spans {
		script = append(script, AlertSpan{Critical: a.Critical, Acked: a.Critical.Add(2 * time.Second)})
	}
	if got := ResponseOf(script, day, end, now); got != want["response_script_unresolved"] {
		t.Errorf("script day: %v, doc says %v", got, want["response_script_unresolved"])
	}
}

// TestResponseRule: the edges of the rule.
func TestResponseRule(t *testing.T) {
	t0 := time.Date(2025, 3, 10, 1, 0, 0, 0, time.UTC)
	now := t0.Add(10 * time.Hour)
	for _, c := range []struct {
		name string
		a    AlertSpan
		want float64
	}{
		{"open, nothing", AlertSpan{Critical: t0}, 0},
		{"ack at 10 s exactly earns", AlertSpan{Critical: t0, Acked: t0.Add(AckSuspectWithin)}, AckWeight},
		{"ack at 9 s earns nothing", AlertSpan{Critical: t0, Acked: t0.Add(9 * time.Second)}, 0},
		{"ack at 15 min earns", AlertSpan{Critical: t0, Acked: t0.Add(AckWithin)}, AckWeight},
		{"ack at 15 min 1 s earns nothing", AlertSpan{Critical: t0, Acked: t0.Add(AckWithin + time.Second)}, 0},
		{"flagged ack earns nothing", AlertSpan{Critical: t0, Acked: t0.Add(time.Minute), AckSuspect: true}, 0},
		{"resolved at 1 h", AlertSpan{Critical: t0, Resolved: t0.Add(ResolveTarget)}, ResolveWeight},
		{"resolved at 2 h 30", AlertSpan{Critical: t0, Resolved: t0.Add(150 * time.Minute)}, ResolveWeight / 2},
		{"resolved at 4 h", AlertSpan{Critical: t0, Resolved: t0.Add(ResolveLimit)}, 0},
		{"ack and resolution after now not yet", AlertSpan{Critical: t0, Acked: now.Add(time.Second), Resolved: now.Add(time.Second)}, 0},
	} {
		if got := AlertResponse(c.a, now); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// The period: by when the alert became critical; none → 1.
	a := AlertSpan{Critical: t0}
	if got := ResponseOf([]AlertSpan{a}, t0.Add(time.Second), now, now); got != 1 {
		t.Errorf("alert before the period: %v, want 1", got)
	}
	if got := ResponseOf([]AlertSpan{a}, t0, now, now); got != 0 {
		t.Errorf("alert in the period: %v, want 0", got)
	}
}
