package gateway

import (
	"path/filepath"
	"time"

	"github.com/saqshy/saqshy/gateway/camera"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/rounds"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/status"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// scoreStateFile is the score's day accumulators, in the spool directory.
const scoreStateFile = "score-state.json"

// scoreChecks builds the safety-score check from the config. Coverage, rounds,
// response and serious events come from the camera, night-round and alert checks
// once they are wired (score.Coverage, score.Rounds, score.Response, score.Events);
// until then those components are not applicable.
func (g *Gateway) scoreChecks() []check {
	cfg := g.cfg
	sensors := make([]score.Sensor, 0, len(cfg.Sensors))
	kinds := cfg.KindByZone()
	for _, s := range cfg.Sensors {
		sensors = append(sensors, score.Sensor{ID: s.ID, Zone: s.Zone, ZoneKind: kinds[s.Zone], Limits: cfg.ZoneLimits(s.Zone), Interval: s.Interval.Std()})
	}
	loc := cfg.Centre.Location
	if loc == nil {
		loc = time.UTC
	}
	opt := score.Options{
		Centre:         cfg.Centre.ID,
		Location:       loc,
		Sensors:        sensors,
		Weights:        scoreWeights(cfg.Score.Weights),
		WeightsVersion: cfg.Score.WeightsVersion,
		NoCaps:         cfg.Score.Caps == "off",
		CloseAfter:     cfg.Score.CloseAfter.Std(),
		KeepDays:       cfg.Score.KeepDays,
		StateFile:      filepath.Join(cfg.Spool.Dir, scoreStateFile),
		Publisher:      publisher{g},
		Logger:         g.log.With("component", "score"),
		Events:         newSeriousEvents(cfg, g.conds),
	}
	// The other checks' components; a component the centre configures nothing for
	// stays nil: not applicable.
	for _, ch := range g.checks {
		switch ch := ch.(type) {
		case *rounds.Check:
			opt.Rounds = ch
		case *camera.Check:
			opt.Coverage = ch
		}
	}
	// Response is judged only where somebody can answer: a centre without alert
	// recipients has nothing configured for it.
	if g.alerts != nil && g.alerts.engine != nil && len(cfg.Alerts.Recipients) > 0 {
		opt.Response = g.alerts.engine
	}
	c, err := score.New(opt)
	if err != nil {
		g.log.Error("safety score disabled", "err", err)
		return nil
	}
	return []check{c}
}

// seriousEvents gives the score the conditions that cap it and that the score does
// not see in the readings itself: a camera covering a required zone down
// (camera_offline) for 24 hours is the cap camera_down_24h.
type seriousEvents struct {
	conds    *conditions
	required map[string]bool // cameras mapped to at least one required zone
}

func newSeriousEvents(cfg *config.Config, conds *conditions) seriousEvents {
	zones := map[string]config.Zone{}
	for _, z := range cfg.Zones {
		zones[z.ID] = z
	}
	req := map[string]bool{}
	for _, cam := range cfg.Cameras {
		for _, z := range cam.Zones {
			if rule, _ := cfg.ZoneCoverage(zones[z]); rule == config.CoverageRequired {
				req[cam.ID] = true
			}
		}
	}
	return seriousEvents{conds: conds, required: req}
}

func (s seriousEvents) Serious(from, to time.Time) []telemetry.Condition {
	var out []telemetry.Condition
	for _, c := range s.conds.between(from, to) {
		if c.Kind == camera.KindCameraOffline && s.required[c.Subject] {
			c.Kind = "camera_down"
			out = append(out, c)
		}
	}
	return out
}

func scoreWeights(w config.ScoreWeights) score.Weights {
	return score.Weights{
		score.CompTemperature:  w.Temperature,
		score.CompAvailability: w.Availability,
		score.CompCoverage:     w.Coverage,
		score.CompRounds:       w.Rounds,
		score.CompResponse:     w.Response,
	}
}

// Score returns the safety score's state for the status page; false when the
// score is not running.
func (g *Gateway) Score() (score.Snapshot, bool) {
	for _, c := range g.checks {
		if s, ok := c.(*score.Check); ok {
			return s.Snapshot(), true
		}
	}
	return score.Snapshot{}, false
}

// scoreSection is the live safety score for the status page; nil before the
// first live score.
func (g *Gateway) scoreSection() *status.Score {
	sc, ok := g.Score()
	if !ok || sc.Live == nil {
		return nil
	}
	out := &status.Score{Live: sc.Live.Total, Caps: sc.Live.Caps, Version: sc.WeightsVersion}
	if sc.Today != nil {
		t := sc.Today.Total
		out.Today = &t
	}
	for c := range score.NumComponents {
		p := sc.Live.Parts[c]
		if !p.Applicable {
			continue
		}
		out.Components = append(out.Components, status.ScoreComponent{Name: c.String(), Ratio: p.Value(), Known: p.Known})
	}
	return out
}

var (
	_ check     = (*score.Check)(nil)
	_ committer = (*score.Check)(nil)
)
