// Package scoreconfig builds the safety-score check from a centre's config. The
// score itself (package score) knows nothing of the config: it is handed its
// sensors, weights and the other checks' components by typed fields.
package scoreconfig

import (
	"log/slog"
	"path/filepath"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/score"
)

// StateFile is the score's day accumulators, in the spool directory.
const StateFile = "score-state.json"

// Inputs are the score's components that come from the other checks. A component
// the centre configures nothing for stays nil: not applicable.
type Inputs struct {
	Coverage score.Coverage // the camera check, with cameras
	Rounds   score.Rounds   // the night-round check, with checkpoints
	Response score.Response // the alert engine, with recipients
	Events   score.Events   // the serious events that cap the score
	// Plausibility: the implausible-sensor check, whose sensors' time is not in band.
	Plausibility score.Plausibility
	Publisher    score.Publisher
	Logger       *slog.Logger
	// InMemory keeps the day accumulators in memory only (a replay of the past).
	InMemory bool
}

// New builds the safety-score check of cfg.
func New(cfg *config.Config, in Inputs) (*score.Check, error) {
	sensors := make([]score.Sensor, 0, len(cfg.Sensors))
	kinds := cfg.KindByZone()
	for _, s := range cfg.Sensors {
		sensors = append(sensors, score.Sensor{ID: s.ID, Zone: s.Zone, ZoneKind: kinds[s.Zone], Limits: cfg.ZoneLimits(s.Zone), Interval: s.Interval.Std()})
	}
	loc := cfg.Centre.Location
	if loc == nil {
		loc = time.UTC
	}
	state := filepath.Join(cfg.Spool.Dir, StateFile)
	if in.InMemory {
		state = ""
	}
	return score.New(score.Options{
		Centre:         cfg.Centre.ID,
		Location:       loc,
		Sensors:        sensors,
		Weights:        weights(cfg.Score.Weights),
		WeightsVersion: cfg.Score.WeightsVersion,
		NoCaps:         cfg.Score.Caps == "off",
		CloseAfter:     cfg.Score.CloseAfter.Std(),
		KeepDays:       cfg.Score.KeepDays,
		StateFile:      state,
		Publisher:      in.Publisher,
		Logger:         in.Logger,
		Events:         in.Events,
		Coverage:       in.Coverage,
		Rounds:         in.Rounds,
		Response:       in.Response,
		Plausibility:   in.Plausibility,
	})
}

func weights(w config.ScoreWeights) score.Weights {
	return score.Weights{
		score.CompTemperature:  w.Temperature,
		score.CompAvailability: w.Availability,
		score.CompCoverage:     w.Coverage,
		score.CompRounds:       w.Rounds,
		score.CompResponse:     w.Response,
	}
}
