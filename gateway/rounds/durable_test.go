package rounds

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// pubLog is a publisher that takes every message.
type pubLog struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (p *pubLog) Publish(_ context.Context, _ string, _ bool, payload []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, payload)
	return nil
}

// judgedThenCrash plays a night (cp-1 misses its first slot) and ticks past its
// judgement without confirming the points. It returns the night's points.
func judgedThenCrash(t *testing.T, s *sim) []string {
	t.Helper()
	loc := s.c.sched.loc
	startNight(s, at(loc, 2026, 1, 10, 22, 0))
	s.play(perfectPlan(s, map[string][]int{"cp-1": {0}}))
	s.until(at(loc, 2026, 1, 11, 6, 10))
	s.crashBeforeCommit = true
	s.until(at(loc, 2026, 1, 11, 6, 20))
	first := nightPoints(s.points)
	if len(first) == 0 {
		t.Fatal("the night was not judged")
	}
	return first
}

// rejudged restarts from the state file and wants the night judged again.
func rejudged(t *testing.T, s *sim, file string, first []string) {
	t.Helper()
	loc := s.c.sched.loc
	s2 := newSim(t, s.c.opt.Config, file, at(loc, 2026, 1, 11, 6, 21))
	s2.until(at(loc, 2026, 1, 11, 6, 30))
	if again := nightPoints(s2.points); !slices.Equal(again, first) {
		t.Fatalf("after the restart the night's points are\n%v\nwant\n%v", again, first)
	}
	wantNight(t, s2.night(), 16, 15, 0, 1, 15.0/16, false)
}

// TestCrashAfterSummaryPublished: the summary of a judged night is published (Run
// removes it from the pending list) before the gateway confirms the night's points,
// then the gateway dies. The state saved by Run must not say "judged".
func TestCrashAfterSummaryPublished(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	file := filepath.Join(t.TempDir(), "rounds-state.json")
	cfg := almatyCentre(t)
	s := newSim(t, cfg, file, at(loc, 2026, 1, 10, 21, 50))
	pub := &pubLog{}
	s.c.opt.Publisher = pub
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.c.Run(ctx)
	}()
	first := judgedThenCrash(t, s)
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.c.mu.Lock()
		left := len(s.c.st.Pending)
		s.c.mu.Unlock()
		pub.mu.Lock()
		n := len(pub.msgs)
		pub.mu.Unlock()
		if n > 0 && left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("summary not published: %d published, %d pending", n, left)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	rejudged(t, s, file, first)
}

// TestCrashAfterMorningScan: a scan arrives after the Tick that judged the night and
// before the gateway confirmed its points; the state the scan saves must not say
// "judged".
func TestCrashAfterMorningScan(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	file := filepath.Join(t.TempDir(), "rounds-state.json")
	cfg := almatyCentre(t)
	s := newSim(t, cfg, file, at(loc, 2026, 1, 10, 21, 50))
	first := judgedThenCrash(t, s)
	s.msg("saqshy/c1/round/cp-1/scan", "{}")
	rejudged(t, s, file, first)
}

// TestMessageDoesNotJudgeTheNight: a scan arriving after the night's grace but
// before the Tick that judges it does not judge it: a redelivered copy of that
// message would return only its scan point, and the night's points would be lost.
func TestMessageDoesNotJudgeTheNight(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	file := filepath.Join(t.TempDir(), "rounds-state.json")
	cfg := almatyCentre(t)
	s := newSim(t, cfg, file, at(loc, 2026, 1, 10, 21, 50))
	startNight(s, at(loc, 2026, 1, 10, 22, 0))
	s.play(perfectPlan(s, map[string][]int{"cp-1": {0}}))
	s.until(at(loc, 2026, 1, 11, 6, 14))
	// 06:16, past the night's grace; no Tick yet. The gateway dies before this
	// message's points are durable.
	m := telemetry.Message{Topic: "saqshy/c1/round/cp-1/scan", Payload: []byte("{}"), Received: at(loc, 2026, 1, 11, 6, 16)}
	evs, err := s.c.Message(m, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := nightPoints(evs); len(got) != 0 {
		t.Errorf("a message judged the night: %d night points", len(got))
	}
	s2 := newSim(t, cfg, file, at(loc, 2026, 1, 11, 6, 16).Add(20*time.Second))
	m.Duplicate, m.Received = true, s2.now
	if _, err := s2.c.Message(m, true); err != nil {
		t.Fatal(err)
	}
	s2.until(at(loc, 2026, 1, 11, 6, 30))
	if len(nightPoints(s2.points)) == 0 {
		t.Fatal("the night's points never came")
	}
	wantNight(t, s2.night(), 16, 15, 0, 1, 15.0/16, false)
}

// TestMissedAlertOfRemovedCheckpointClears: a checkpoint with an open round_missed
// alert is removed from the config; after the restart its alert is closed, not
// raised again for ever.
func TestMissedAlertOfRemovedCheckpointClears(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	file := filepath.Join(t.TempDir(), "rounds-state.json")
	s := newSim(t, almatyCentre(t), file, at(loc, 2026, 1, 10, 21, 50))
	startNight(s, at(loc, 2026, 1, 10, 22, 0))
	ps := perfectPlan(s, map[string][]int{"cp-3": {2}})
	cut := at(loc, 2026, 1, 11, 1, 30)
	i := slices.IndexFunc(ps, func(p plan) bool { return p.at.After(cut) })
	s.play(ps[:i])
	s.until(cut)
	if got := s.conds.openKeys(); !slices.Equal(got, []string{"round_missed/cp-3"}) {
		t.Fatalf("open before the restart: %v", got)
	}
	cfg := testConfig(t, "Asia/Almaty", "cp-1", "living", "cp-2", "living")
	s2 := newSim(t, cfg, file, cut.Add(20*time.Second))
	if got := s2.conds.openKeys(); len(got) != 0 {
		t.Errorf("open after the restart: %v", got)
	}
	s2.until(at(loc, 2026, 1, 11, 7, 0))
	if got := s2.conds.openKeys(); len(got) != 0 {
		t.Errorf("open after the night: %v", got)
	}
	// A further restart does not bring it back either.
	s3 := newSim(t, cfg, file, at(loc, 2026, 1, 11, 7, 1))
	if got := s3.conds.openKeys(); len(got) != 0 {
		t.Errorf("open after a second restart: %v", got)
	}
}
