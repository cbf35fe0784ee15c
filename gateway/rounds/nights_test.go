package rounds

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// plan is a scan at a checkpoint.
type plan struct {
	at time.Time
	cp string
}

// perfectPlan scans every slot of every checkpoint at slot start + 10 min + 1 min
// per checkpoint (so different checkpoints are a minute apart), except skip.
func perfectPlan(s *sim, skip map[string][]int) []plan {
	s.c.mu.Lock()
	n := s.c.st.Night
	s.c.mu.Unlock()
	if n == nil {
		s.t.Fatal("no night yet")
	}
	var out []plan
	for i, cp := range s.c.cps {
		for j, sl := range n.Slots[cp.id] {
			if slices.Contains(skip[cp.id], j) {
				continue
			}
			out = append(out, plan{sl.Start.Add(10*time.Minute + time.Duration(i)*time.Minute), cp.id})
		}
	}
	slices.SortFunc(out, func(a, b plan) int { return a.at.Compare(b.at) })
	return out
}

func (s *sim) play(ps []plan) {
	for _, p := range ps {
		s.scan(p.at, p.cp, "")
	}
}

func almatyCentre(t testing.TB) *config.Config {
	c := testConfig(t, "Asia/Almaty", "cp-1", "living", "cp-2", "living", "cp-3", "medical")
	c.Rounds.Overrides = []config.RoundOverride{{ZoneKind: "medical", Interval: config.Duration(time.Hour)}}
	return c
}

// startNight ticks into the first minute of the window so the night exists.
func startNight(s *sim, start time.Time) {
	s.until(start)
}

func TestPerfectNight(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	s := newSim(t, almatyCentre(t), "", at(loc, 2026, 1, 10, 21, 50))
	startNight(s, at(loc, 2026, 1, 10, 22, 0))
	s.play(perfectPlan(s, nil))
	s.until(at(loc, 2026, 1, 11, 7, 0))
	// cp-1 and cp-2 every 2 h: 4 slots each; cp-3 (medical) every hour: 8.
	wantNight(t, s.night(), 16, 16, 0, 0, 1, false)
	wantNight(t, s.kindNight("medical"), 8, 8, 0, 0, 1, false)
	if r := s.scanReasons(); len(r) != 1 || r[""] != 16 {
		t.Errorf("scan reasons %v", r)
	}
	if len(s.conds.raised) != 0 {
		t.Errorf("conditions raised on a perfect night: %v", s.conds.raised)
	}
	sum := s.summary()
	if sum.Night != "2026-01-10" || sum.Overall.Compliance != 1 || sum.ZoneKinds["living"].Due != 8 || len(sum.Missed) != 0 {
		t.Errorf("summary %+v", sum)
	}
	slots := 0
	for _, e := range s.points {
		if e.Point.Measurement == "round" && tag(e, "event") == "slot" {
			slots++
			if tag(e, "status") != "on_time" {
				t.Errorf("slot point %v", e.Point)
			}
		}
	}
	if slots != 16 {
		t.Errorf("%d slot points, want 16", slots)
	}
}

func TestNightWithThreeMissedSlots(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	s := newSim(t, almatyCentre(t), "", at(loc, 2026, 1, 10, 21, 50))
	startNight(s, at(loc, 2026, 1, 10, 22, 0))
	// cp-1 misses 00-02 and 02-04 (two in a row: critical); cp-3 misses 23-24.
	s.play(perfectPlan(s, map[string][]int{"cp-1": {1, 2}, "cp-3": {1}}))
	// Raised at once: cp-3's 23:00-00:00 slot is missed at 00:15, not at 06:00.
	s.until(at(loc, 2026, 1, 11, 6, 0))
	wantRaised := []struct {
		subject string
		sev     telemetry.Severity
	}{{"cp-3", telemetry.Warning}, {"cp-1", telemetry.Warning}, {"cp-1", telemetry.Critical}}
	if len(s.conds.raised) != len(wantRaised) {
		t.Fatalf("raised %+v", s.conds.raised)
	}
	for i, w := range wantRaised {
		if c := s.conds.raised[i]; c.Kind != KindMissed || c.Subject != w.subject || c.Severity != w.sev {
			t.Errorf("raised[%d] = %+v, want %s %s", i, c, w.subject, w.sev)
		}
	}
	if c := s.conds.raised[0]; !c.Since.Equal(at(loc, 2026, 1, 11, 0, 0)) || c.Zone != "z-cp-3" {
		t.Errorf("cp-3 condition %+v", c)
	}
	// cp-3's was cleared by its next on-time scan (00:12); cp-1's is still open.
	if got := s.conds.openKeys(); !slices.Equal(got, []string{"round_missed/cp-1"}) {
		t.Errorf("open at 06:00: %v", got)
	}
	s.until(at(loc, 2026, 1, 11, 7, 0))
	wantNight(t, s.night(), 16, 13, 0, 3, 13.0/16, false)
	wantNight(t, s.kindNight("living"), 8, 6, 0, 2, 6.0/8, false)
	wantNight(t, s.kindNight("medical"), 8, 7, 0, 1, 7.0/8, false)
	if got := s.conds.openKeys(); len(got) != 0 {
		t.Errorf("open after the window: %v", got)
	}
	if sum := s.summary(); len(sum.Missed) != 3 || sum.Missed[0].Checkpoint != "cp-1" {
		t.Errorf("summary missed slots %+v", sum.Missed)
	}
	// The safety score's view: the night's 16 slots, 13 on time, whatever period
	// holds them; the slots that ended by 00:30 alone (cp-1 and cp-2's first,
	// cp-3's first two, of which cp-3's 23:00 slot was missed: 3 of 4).
	wantCompliance(t, s.c, at(loc, 2026, 1, 10, 12, 0), at(loc, 2026, 1, 11, 12, 0), 13.0/16)
	wantCompliance(t, s.c, at(loc, 2026, 1, 10, 0, 0), at(loc, 2026, 1, 11, 0, 30), 3.0/4)
	wantCompliance(t, s.c, at(loc, 2026, 1, 11, 12, 0), at(loc, 2026, 1, 12, 0, 0), 1) // nothing due
}

func wantCompliance(t *testing.T, c *Check, from, to time.Time, want float64) {
	t.Helper()
	if got, known := c.Compliance(from, to); !known || got != want {
		t.Errorf("Compliance(%s, %s) = %v, %t; want %v", from.Format("01-02 15:04"), to.Format("01-02 15:04"), got, known, want)
	}
}

func TestLateWithinGrace(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	s := newSim(t, almatyCentre(t), "", at(loc, 2026, 1, 10, 21, 50))
	startNight(s, at(loc, 2026, 1, 10, 22, 0))
	ps := perfectPlan(s, map[string][]int{"cp-2": {0}})
	ps = append(ps, plan{at(loc, 2026, 1, 11, 0, 5), "cp-2"}) // 5 min after its 22-24 slot
	slices.SortFunc(ps, func(a, b plan) int { return a.at.Compare(b.at) })
	s.play(ps)
	s.until(at(loc, 2026, 1, 11, 7, 0))
	// The 00:05 scan falls in 00-02, which it fills on time; the usual 00:11 scan then
	// fills 22-24, late by 11 min (within the 15 min grace).
	wantNight(t, s.night(), 16, 15, 1, 0, 15.0/16, false)
	found := false
	for _, e := range s.points {
		if tag(e, "event") == "scan" && e.Time.Equal(at(loc, 2026, 1, 11, 0, 11)) {
			found = true
			if f := fields(e); f["late_s"] != int64(660) || f["on_time"] != false || f["counted"] != true {
				t.Errorf("late scan point %v", f)
			}
		}
	}
	if !found || len(s.conds.raised) != 0 {
		t.Errorf("late scan found %t, raised %v", found, s.conds.raised)
	}
}

func TestNightOfBatchScannedTags(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	var kinds []string
	for i := 1; i <= 10; i++ {
		kinds = append(kinds, fmt.Sprintf("cp-%d", i), "living")
	}
	cfg := testConfig(t, "Asia/Almaty", kinds...)
	cfg.Rounds.Readers = []config.RoundReader{{ID: "handheld", Source: "tasmota", Topic: "tele/handheld/SENSOR"}}
	s := newSim(t, cfg, "", at(loc, 2026, 1, 10, 21, 50))
	s.step = time.Second
	// The night nurse carries the ten tags to the desk and scans them in one go,
	// two seconds apart, once per slot.
	for _, h := range []time.Time{at(loc, 2026, 1, 10, 22, 30), at(loc, 2026, 1, 11, 0, 30), at(loc, 2026, 1, 11, 2, 30), at(loc, 2026, 1, 11, 4, 30)} {
		for i := range 10 {
			s.until(h.Add(time.Duration(2*i) * time.Second))
			s.msg("tele/handheld/SENSOR", fmt.Sprintf(`{"Time":"2026-01-10T22:30:00","PN532":{"UID":"%s","DATA":""}}`, cfg.Rounds.Checkpoints[i].Tag))
		}
	}
	s.step = time.Minute
	s.until(at(loc, 2026, 1, 11, 7, 0))
	// Only the first scan of each batch counts: 4 of 40 slots.
	wantNight(t, s.night(), 40, 4, 0, 36, 0.1, false)
	if r := s.scanReasons(); r[""] != 4 || r[ReasonTooFast] != 12 || r[ReasonBurst] != 24 {
		t.Errorf("scan reasons %v", r)
	}
	if f := s.night()["flagged_scans"]; f != int64(36) {
		t.Errorf("flagged_scans %v", f)
	}
}

// TestDSTNights: slots are elapsed intervals from the window's start in the centre's
// zone; a night that loses or gains an hour has one slot fewer or more.
func TestDSTNights(t *testing.T) {
	tests := []struct {
		tz         string
		y          int
		m          time.Month
		d          int
		slotStarts []string // local HH:MM
		hours      float64
	}{
		// Spring forward at 02:00 CET -> 03:00 CEST on 29 March 2026: a 7-hour night.
		{"Europe/Berlin", 2026, 3, 28, []string{"22:00", "00:00", "03:00", "05:00"}, 7},
		// Fall back at 02:00 EDT -> 01:00 EST on 2 November 2025: a 9-hour night.
		{"America/New_York", 2025, 11, 1, []string{"22:00", "00:00", "01:00", "03:00", "05:00"}, 9},
		// Kazakhstan moved to UTC+5 at 00:00 on 1 March 2024 (clocks back to 23:00).
		{"Asia/Almaty", 2024, 2, 29, []string{"22:00", "23:00", "01:00", "03:00", "05:00"}, 9},
		// An ordinary Almaty night (no DST since 2005).
		{"Asia/Almaty", 2026, 6, 15, []string{"22:00", "00:00", "02:00", "04:00"}, 8},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s-%d-%02d-%02d", tt.tz, tt.y, tt.m, tt.d), func(t *testing.T) {
			loc := mustLoc(t, tt.tz)
			cfg := testConfig(t, tt.tz, "cp-1", "living", "cp-2", "corridor")
			s := newSim(t, cfg, "", at(loc, tt.y, tt.m, tt.d, 21, 50))
			startNight(s, at(loc, tt.y, tt.m, tt.d, 22, 0))
			n := s.c.st.Night
			if h := n.End.Sub(n.Start).Hours(); h != tt.hours {
				t.Errorf("window %s..%s is %g h, want %g", n.Start, n.End, h, tt.hours)
			}
			var got []string
			for _, sl := range n.Slots["cp-1"] {
				got = append(got, sl.Start.In(loc).Format("15:04"))
			}
			if !slices.Equal(got, tt.slotStarts) {
				t.Errorf("slot starts %v, want %v", got, tt.slotStarts)
			}
			s.play(perfectPlan(s, map[string][]int{"cp-2": {1}}))
			s.until(n.End.Add(time.Hour))
			due := int64(2 * len(tt.slotStarts))
			wantNight(t, s.night(), due, due-1, 0, 1, float64(due-1)/float64(due), false)
			if sum := s.summary(); sum.Night != fmt.Sprintf("%d-%02d-%02d", tt.y, tt.m, tt.d) || sum.Timezone != tt.tz {
				t.Errorf("summary night %q tz %q", sum.Night, sum.Timezone)
			}
		})
	}
}

func TestNightWithClockUnsynchronised(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	s := newSim(t, almatyCentre(t), "", at(loc, 2026, 1, 10, 21, 50))
	startNight(s, at(loc, 2026, 1, 10, 22, 0))
	ps := perfectPlan(s, nil)
	lost := false
	for _, p := range ps {
		if p.at.After(at(loc, 2026, 1, 11, 1, 0)) && !lost {
			lost = true
			s.until(at(loc, 2026, 1, 11, 1, 0))
			s.synced = false // NTP lost for 20 minutes; one extra scan meanwhile
			s.scan(at(loc, 2026, 1, 11, 1, 10), "cp-1", "")
			s.until(at(loc, 2026, 1, 11, 1, 20))
			s.synced = true
		}
		s.scan(p.at, p.cp, "")
	}
	s.until(at(loc, 2026, 1, 11, 7, 0))
	// Every slot was scanned, but the night is not judged: unknown, compliance 0.
	wantNight(t, s.night(), 16, 16, 0, 0, 0, true)
	if r := s.scanReasons(); r[ReasonUnsynced] != 1 || r[""] != 16 {
		t.Errorf("scan reasons %v", r)
	}
	if sum := s.summary(); !sum.Unknown || sum.UnknownReason != "clock not synchronised" || sum.Overall.Compliance != 0 {
		t.Errorf("summary %+v", sum)
	}
	// Unknown counts against the centre: every slot was scanned, none counts.
	wantCompliance(t, s.c, at(loc, 2026, 1, 10, 12, 0), at(loc, 2026, 1, 11, 12, 0), 0)
	// The next night, synchronised throughout, is judged again.
	startNight(s, at(loc, 2026, 1, 11, 22, 0))
	s.points = nil
	s.play(perfectPlan(s, nil))
	s.until(at(loc, 2026, 1, 12, 7, 0))
	wantNight(t, s.night(), 16, 16, 0, 0, 1, false)
	wantCompliance(t, s.c, at(loc, 2026, 1, 11, 12, 0), at(loc, 2026, 1, 12, 12, 0), 1)
	wantCompliance(t, s.c, at(loc, 2026, 1, 10, 12, 0), at(loc, 2026, 1, 12, 12, 0), 0.5)
}

func TestRestartMidNightKeepsState(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	file := filepath.Join(t.TempDir(), "rounds-state.json")
	cfg := almatyCentre(t)
	s := newSim(t, cfg, file, at(loc, 2026, 1, 10, 21, 50))
	startNight(s, at(loc, 2026, 1, 10, 22, 0))
	ps := perfectPlan(s, map[string][]int{"cp-3": {2}})
	cut := at(loc, 2026, 1, 11, 1, 30)
	i := slices.IndexFunc(ps, func(p plan) bool { return p.at.After(cut) })
	s.play(ps[:i-1])
	last := ps[i-1]
	s.until(last.at)
	orig := s.msg("saqshy/c1/round/"+last.cp+"/scan", "{}")
	s.until(cut)
	// Power cut at 01:30 (cp-3 missed 00:00-01:00); back at 01:30:20 with a new check.
	s2 := newSim(t, cfg, file, cut.Add(20*time.Second))
	if err := s2.c.LoadError(); err != nil {
		t.Fatal(err)
	}
	if got := s2.conds.openKeys(); !slices.Equal(got, []string{"round_missed/cp-3"}) {
		t.Errorf("conditions re-raised after restart: %v", got)
	}
	// The broker delivers the last scan again (it was not acknowledged): the same
	// point, counted once.
	again, err := s2.c.Message(telemetry.Message{Topic: "saqshy/c1/round/" + last.cp + "/scan", Payload: []byte("{}"),
		Received: s2.now, Duplicate: true}, true)
	if err != nil || len(again) != 1 || !again[0].Time.Equal(orig.Time) || fmt.Sprint(again[0].Point) != fmt.Sprint(orig.Point) {
		t.Fatalf("redelivered: %v %v, first %v", again, err, orig)
	}
	s2.play(ps[i:])
	s2.until(at(loc, 2026, 1, 11, 7, 0))
	wantNight(t, s2.night(), 16, 15, 0, 1, 15.0/16, false)
}

func TestCorruptStateFile(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	for name, mangle := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"empty":     func([]byte) []byte { return nil },
		"garbage":   func([]byte) []byte { return []byte("\x00\x00\x00\xff not json") },
		"version":   func([]byte) []byte { return []byte(`{"version": 99}`) },
		"no-window": func([]byte) []byte { return []byte(`{"version": 1, "night": {"date": "x"}}`) },
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "rounds-state.json")
			cfg := almatyCentre(t)
			s := newSim(t, cfg, file, at(loc, 2026, 1, 10, 21, 50))
			startNight(s, at(loc, 2026, 1, 10, 22, 0))
			ps := perfectPlan(s, nil)
			cut := at(loc, 2026, 1, 11, 1, 0)
			i := slices.IndexFunc(ps, func(p plan) bool { return p.at.After(cut) })
			s.play(ps[:i])
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, mangle(data), 0o600); err != nil {
				t.Fatal(err)
			}
			s2 := newSim(t, cfg, file, cut.Add(3*time.Minute))
			if err := s2.c.LoadError(); !errors.Is(err, errCorrupt) {
				t.Fatalf("LoadError = %v", err)
			}
			if aside, _ := filepath.Glob(file + ".corrupt-*"); len(aside) != 1 {
				t.Errorf("corrupt file not moved aside: %v", aside)
			}
			if got := s2.conds.openKeys(); !slices.Equal(got, []string{"round_state_lost/rounds"}) {
				t.Errorf("conditions %v", got)
			}
			s2.play(ps[i:])
			s2.until(at(loc, 2026, 1, 11, 7, 0))
			n := s2.night()
			// Not judged from half the scans: unknown, compliance 0; the slots that
			// began before the restart (8 of 16) are unjudged.
			if n["unknown"] != true || n["compliance"] != 0.0 || n["unjudged"] != int64(8) || n["due"] != int64(16) {
				t.Errorf("night %v", n)
			}
			if got := s2.conds.openKeys(); len(got) != 0 {
				t.Errorf("open after the night: %v", got)
			}
			if st := s2.c.Snapshot(s2.now); st.StateError == "" {
				t.Error("snapshot hides the state error")
			}
			// The state file is good again.
			if _, err := loadState(file); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSnapshot(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	s := newSim(t, almatyCentre(t), "", at(loc, 2026, 1, 10, 21, 50))
	startNight(s, at(loc, 2026, 1, 10, 22, 0))
	ps := perfectPlan(s, map[string][]int{"cp-3": {0}})
	i := slices.IndexFunc(ps, func(p plan) bool { return p.at.After(at(loc, 2026, 1, 11, 0, 30)) })
	s.play(ps[:i])
	s.until(at(loc, 2026, 1, 11, 0, 30))
	st := s.c.Snapshot(s.now)
	// By 00:30: cp-1, cp-2 have begun 2 slots (1 done each, 00-02 done at 00:10/00:11);
	// cp-3 has begun 3 (22-23 missed, 23-24 done, 00-01 done at 00:12).
	if st.Night != "2026-01-10" || st.Due != 7 || st.Done != 6 || st.Missed != 1 || st.Late != 0 || st.Final {
		t.Errorf("snapshot %+v", st)
	}
	cp3 := st.Checkpoints[2]
	if cp3.ID != "cp-3" || cp3.Interval != time.Hour || !cp3.NextDue.Equal(at(loc, 2026, 1, 11, 2, 0)) || cp3.LastScan.IsZero() {
		t.Errorf("cp-3 %+v", cp3)
	}
	if cp1 := st.Checkpoints[0]; !cp1.NextDue.Equal(at(loc, 2026, 1, 11, 4, 0)) {
		t.Errorf("cp-1 next due %v", cp1.NextDue)
	}
}

// TestCrashBeforeNightPointsAreDurable: the gateway dies after the Tick that judged
// the night but before its points reached the spool. After the restart the night is
// judged again and its points come again (the same points: InfluxDB keeps one copy).
func TestCrashBeforeNightPointsAreDurable(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	file := filepath.Join(t.TempDir(), "rounds-state.json")
	cfg := almatyCentre(t)
	s := newSim(t, cfg, file, at(loc, 2026, 1, 10, 21, 50))
	startNight(s, at(loc, 2026, 1, 10, 22, 0))
	s.play(perfectPlan(s, map[string][]int{"cp-1": {0}}))
	s.until(at(loc, 2026, 1, 11, 5, 59))
	s.crashBeforeCommit = true
	s.until(at(loc, 2026, 1, 11, 7, 0))
	first := nightPoints(s.points)
	if len(first) == 0 {
		t.Fatal("the night was not judged")
	}
	s2 := newSim(t, cfg, file, at(loc, 2026, 1, 11, 7, 0).Add(20*time.Second))
	s2.until(at(loc, 2026, 1, 11, 7, 5))
	again := nightPoints(s2.points)
	if !slices.Equal(again, first) {
		t.Fatalf("after the restart the night's points are\n%v\nwant\n%v", again, first)
	}
	wantNight(t, s2.night(), 16, 15, 0, 1, 15.0/16, false)
	// Confirmed this time: a further restart does not judge it a third time.
	s3 := newSim(t, cfg, file, at(loc, 2026, 1, 11, 7, 6))
	s3.until(at(loc, 2026, 1, 11, 7, 10))
	if n := len(nightPoints(s3.points)); n != 0 {
		t.Fatalf("%d night points after a confirmed judgement", n)
	}
}

// nightPoints returns the slot and night points among evs, as text.
func nightPoints(evs []telemetry.Event) []string {
	var out []string
	for _, e := range evs {
		if p := e.Point; p != nil && (p.Measurement == "round_night" || p.Measurement == "round" && tag(e, "event") == "slot") {
			out = append(out, fmt.Sprint(e.Time.UnixNano(), " ", *p))
		}
	}
	return out
}
