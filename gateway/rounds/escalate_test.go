package rounds

import (
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/alert"
	"github.com/saqshy/saqshy/gateway/alert/outbox"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// tee passes every transition to each of its raisers, like the gateway's registry
// passes them to its listeners.
type tee []telemetry.Conditions

func (t tee) Raise(c telemetry.Condition) {
	for _, r := range t {
		r.Raise(c)
	}
}

func (t tee) Clear(kind, subject string, at time.Time) {
	for _, r := range t {
		r.Clear(kind, subject, at)
	}
}

// sentLog is the alert engine's outbox: it keeps what would be sent.
type sentLog struct {
	mu   sync.Mutex
	sent []outbox.Notification
}

func (l *sentLog) Enqueue(n outbox.Notification) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, n)
	return nil
}

// alertRig drives a rounds check into the real alert engine; the alert points the
// engine writes are the record of what the director was told.
type alertRig struct {
	*sim
	eng    *alert.Engine
	points []telemetry.Event
}

func newAlertRig(t *testing.T, start time.Time) *alertRig {
	s := newSim(t, almatyCentre(t), "", start)
	tpl, err := alert.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	eng, err := alert.New(alert.Options{
		Centre: "c1", Recipients: []alert.Recipient{{Name: "Director", Lang: "en", TelegramChat: "101"}},
		Telegram: true, StateFile: filepath.Join(t.TempDir(), "alerts.json"), Outbox: &sentLog{}, Templates: tpl,
		Logger: log, Now: func() time.Time { return s.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Config: s.c.opt.Config, Conditions: tee{s.conds, eng}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s.c = c
	return &alertRig{sim: s, eng: eng}
}

// to ticks the rounds check and the alert engine minute by minute up to until.
func (r *alertRig) to(until time.Time) {
	for r.now.Before(until) {
		r.until(r.now.Add(time.Minute))
		r.points = append(r.points, r.eng.Tick(r.now)...)
	}
}

// night plays a night with cp-1 missing the slots skip, up to 07:00.
func (r *alertRig) night(loc *time.Location, skip ...int) {
	startNight(r.sim, at(loc, 2026, 1, 10, 22, 0))
	for _, p := range perfectPlan(r.sim, map[string][]int{"cp-1": skip}) {
		r.to(p.at)
		r.msg("saqshy/c1/round/"+p.cp+"/scan", "{}")
	}
	r.to(at(loc, 2026, 1, 11, 7, 0))
}

// transitions returns cp-1's alert transitions: "<id> <state> <severity>".
func (r *alertRig) transitions() []string {
	var got []string
	for _, e := range r.points {
		if tag(e, "subject") == "cp-1" {
			f := fields(e)
			got = append(got, f["id"].(string)+" "+f["state"].(string)+" "+tag(e, "severity"))
		}
	}
	return got
}

// TestWarningBecomesCriticalStaysOneAlert is issue 18 item 11: a corridor misses a
// slot (warning) and then its second in a row (critical). The director must get one
// incident whose severity goes up — never "resolved" at the moment it gets worse,
// followed by a new alert.
func TestWarningBecomesCriticalStaysOneAlert(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	r := newAlertRig(t, at(loc, 2026, 1, 10, 21, 50))
	r.night(loc, 1, 2, 3) // cp-1 (every 2 h) misses 00-02, 02-04 and 04-06
	want := []string{"1 firing warning", "1 firing critical", "1 resolved critical"}
	if got := r.transitions(); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("cp-1's alert transitions:\n  got  %q\n  want %q (one incident, escalated, resolved once at the night's end)", got, want)
	}
	if len(r.conds.cleared) != 1 {
		t.Errorf("round_missed resolved %d times, want once: %v", len(r.conds.cleared), r.conds.cleared)
	}
}
