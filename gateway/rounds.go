package gateway

import (
	"path/filepath"

	"github.com/saqshy/saqshy/gateway/rounds"
	"github.com/saqshy/saqshy/gateway/status"
)

// roundsStateFile is the night-round state, next to the spool files.
const roundsStateFile = "rounds-state.json"

// roundsChecks builds the night-round check when the config has checkpoints. Scans
// are dated by the gateway's clock; the state survives restarts in the spool
// directory; night summaries go out through the gateway's MQTT connection.
func (g *Gateway) roundsChecks() []check {
	if len(g.cfg.Rounds.Checkpoints) == 0 {
		return nil
	}
	c, err := rounds.New(rounds.Options{
		Config:     g.cfg,
		StateFile:  filepath.Join(g.cfg.Spool.Dir, roundsStateFile),
		Conditions: g.conds,
		Publisher:  publisher{g},
		Now:        g.opt.Clock.Now,
		Logger:     g.log.With("component", "rounds"),
	})
	if err != nil { // only for a config Validate rejects
		g.log.Error("night rounds disabled", "err", err)
		return nil
	}
	return []check{c}
}

// RoundsStatus returns tonight's night-round status for the status page; false
// when the centre has no checkpoints. Safe for concurrent use.
func (g *Gateway) RoundsStatus() (rounds.Status, bool) {
	for _, c := range g.checks {
		if r, ok := c.(*rounds.Check); ok {
			return r.Snapshot(g.opt.Clock.Now()), true
		}
	}
	return rounds.Status{}, false
}

// roundsSection is tonight's rounds for the status page; nil when the centre has
// no checkpoints or no night has begun yet.
func (g *Gateway) roundsSection() *status.Rounds {
	r, ok := g.RoundsStatus()
	if !ok || r.Night == "" {
		return nil
	}
	out := &status.Rounds{Window: g.cfg.Rounds.Window, Due: r.Due, Done: r.Done, Missed: r.Missed}
	if !r.Final {
		for _, cp := range r.Checkpoints {
			if !cp.NextDue.IsZero() && (out.Next.IsZero() || cp.NextDue.Before(out.Next)) {
				out.Next = cp.NextDue
			}
		}
	}
	return out
}

var _ committer = (*rounds.Check)(nil)
