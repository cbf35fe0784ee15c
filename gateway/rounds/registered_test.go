package rounds

import (
	"log/slog"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// registeredCentre: six living-room checkpoints and the two badges issued.
func registeredCentre(t testing.TB) *config.Config {
	c := testConfig(t, "Asia/Almaty", "cp-1", "living", "cp-2", "living", "cp-3", "living", "cp-4", "living", "cp-5", "living", "cp-6", "living")
	c.Rounds.Badges = []config.Badge{{ID: "aigul", UID: "AA11BB22"}, {ID: "bota"}}
	return c
}

// newRegisteredSim is newSim with Options.Registered set as given.
func newRegisteredSim(t *testing.T, cfg *config.Config, registered bool, start time.Time) *sim {
	t.Helper()
	s := newSim(t, cfg, "", start)
	c, err := New(Options{Config: cfg, Conditions: s.conds, Registered: registered,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	s.c = c
	return s
}

// TestMadeUpBadges: the dishonest director's lever (issue 14) — six checkpoints
// scanned 45 ms apart (270 ms in all), each with a badge nobody issued. Without a
// registry each made-up badge is its own walker and every scan counts; under the
// registry each is flagged unknown_badge and none counts.
func TestMadeUpBadges(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	base := at(loc, 2026, 1, 10, 22, 30)
	for _, registered := range []bool{false, true} {
		s := newRegisteredSim(t, registeredCentre(t), registered, at(loc, 2026, 1, 10, 21, 59))
		counted := 0
		for i, cp := range []string{"cp-1", "cp-2", "cp-3", "cp-4", "cp-5", "cp-6"} {
			e := s.scan(base.Add(time.Duration(i)*45*time.Millisecond), cp, `"badge":"walker-`+cp+`"`)
			f := fields(e)
			if f["counted"] == true {
				counted++
			}
			if registered && (tag(e, "reason") != ReasonUnknownBadge || f["flagged"] != true) {
				t.Errorf("registered: %s reason %q fields %v, want %s", cp, tag(e, "reason"), f, ReasonUnknownBadge)
			}
		}
		switch {
		case !registered && counted != 6:
			t.Errorf("without a registry %d of 6 made-up scans counted; the lever this test documents is gone, update it", counted)
		case registered && counted != 0:
			t.Errorf("under the registry %d made-up scans counted", counted)
		}
	}
}

// TestRegisteredRulesAreCentreWide: under a registry the walking-speed and burst
// rules take all the centre's scans together, and issued badges (by id or by card
// UID) still count.
func TestRegisteredRulesAreCentreWide(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	base := at(loc, 2026, 1, 10, 22, 30)
	t.Run("issued badges count", func(t *testing.T) {
		s := newRegisteredSim(t, registeredCentre(t), true, at(loc, 2026, 1, 10, 21, 59))
		for i, b := range []string{`"badge":"aigul"`, `"tag":"aa:11:bb:22"`} {
			e := s.scan(base.Add(time.Duration(i)*time.Minute), []string{"cp-1", "cp-2"}[i], b)
			if f := fields(e); f["counted"] != true || tag(e, "reason") != "" {
				t.Errorf("%s: reason %q fields %v", b, tag(e, "reason"), f)
			}
		}
	})
	t.Run("too fast across walkers", func(t *testing.T) {
		for _, registered := range []bool{false, true} {
			s := newRegisteredSim(t, registeredCentre(t), registered, at(loc, 2026, 1, 10, 21, 59))
			s.scan(base, "cp-1", `"badge":"aigul"`)
			e := s.scan(base.Add(5*time.Second), "cp-2", `"badge":"bota"`)
			want := ""
			if registered {
				want = ReasonTooFast
			}
			if got := tag(e, "reason"); got != want {
				t.Errorf("registered=%t: reason %q, want %q", registered, got, want)
			}
		}
	})
	t.Run("burst across walkers", func(t *testing.T) {
		for _, registered := range []bool{false, true} {
			cfg := registeredCentre(t)
			cfg.Rounds.MinWalk = 0 // the burst rule alone
			cfg.Rounds.Badges = append(cfg.Rounds.Badges, config.Badge{ID: "c3"}, config.Badge{ID: "c4"}, config.Badge{ID: "c5"})
			s := newRegisteredSim(t, cfg, registered, at(loc, 2026, 1, 10, 21, 59))
			badges := []string{"aigul", "bota", "c3", "c4", "c5"}
			var last string
			for i, b := range badges {
				e := s.scan(base.Add(time.Duration(i)*time.Second), []string{"cp-1", "cp-2", "cp-3", "cp-4", "cp-5"}[i], `"badge":"`+b+`"`)
				last = tag(e, "reason")
			}
			want := ""
			if registered {
				want = ReasonBurst
			}
			if last != want {
				t.Errorf("registered=%t: fifth scan reason %q, want %q", registered, last, want)
			}
		}
	})
}
