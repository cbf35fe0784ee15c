package config

import (
	"math"
	"time"
	"unicode"
)

// Score configures the safety score (docs/SAFETY_SCORE.md).
type Score struct {
	// WeightsVersion names the weights in every safety_score point, so that the
	// rating knows which formula produced it. Required when weights are set.
	WeightsVersion string `yaml:"weights_version"`
	// Weights of the components; they must sum to 1. A component the centre has
	// nothing configured for (no cameras, no checkpoints) is left out and the
	// others are scaled up.
	Weights ScoreWeights `yaml:"weights"`
	// Caps is "on" (default) or "off": whether serious events cap the score.
	Caps string `yaml:"caps"`
	// CloseAfter is how long after local midnight a day's score is first written,
	// so late data is folded in (default 1h, at most 24h). Later data corrects it.
	CloseAfter Duration `yaml:"close_after"`
	// KeepDays is how many past days take late data (default 7, 1..31).
	KeepDays int `yaml:"keep_days"`
}

// ScoreWeights are the components' weights, each 0–1.
type ScoreWeights struct {
	Temperature  float64 `yaml:"temperature"`
	Availability float64 `yaml:"availability"`
	Coverage     float64 `yaml:"coverage"`
	Rounds       float64 `yaml:"rounds"`
	Response     float64 `yaml:"response"`
}

// Score defaults. DefaultScoreWeights must equal score.DefaultWeights (a test in
// the gateway package checks).
var DefaultScoreWeights = ScoreWeights{Temperature: 0.35, Availability: 0.15, Coverage: 0.20, Rounds: 0.20, Response: 0.10}

// Score defaults.
const (
	DefaultWeightsVersion  = "2025.1"
	DefaultScoreCaps       = "on"
	DefaultScoreCloseAfter = Duration(time.Hour)
	DefaultScoreKeepDays   = 7
)

// scoreDefaults fills the score section's defaults; called from applyDefaults.
func (c *Config) scoreDefaults(absent func(path string) bool) {
	s := &c.Score
	w := &s.Weights
	anyWeight := false
	for _, f := range []struct {
		p    *float64
		name string
		def  float64
	}{
		{&w.Temperature, "temperature", DefaultScoreWeights.Temperature},
		{&w.Availability, "availability", DefaultScoreWeights.Availability},
		{&w.Coverage, "coverage", DefaultScoreWeights.Coverage},
		{&w.Rounds, "rounds", DefaultScoreWeights.Rounds},
		{&w.Response, "response", DefaultScoreWeights.Response},
	} {
		if *f.p != 0 || !absent("score.weights."+f.name) {
			anyWeight = true
			continue
		}
		*f.p = f.def
	}
	if s.WeightsVersion == "" && absent("score.weights_version") && (!anyWeight || *w == DefaultScoreWeights) {
		s.WeightsVersion = DefaultWeightsVersion
	}
	if s.Caps == "" && absent("score.caps") {
		s.Caps = DefaultScoreCaps
	}
	if s.CloseAfter == 0 && absent("score.close_after") {
		s.CloseAfter = DefaultScoreCloseAfter
	}
	if s.KeepDays == 0 && absent("score.keep_days") {
		s.KeepDays = DefaultScoreKeepDays
	}
}

// score checks the score section; called from check.
func (v *checker) score() {
	s := &v.c.Score
	w := s.Weights
	sum := 0.0
	ok := true
	for _, f := range []struct {
		name string
		v    float64
	}{{"temperature", w.Temperature}, {"availability", w.Availability}, {"coverage", w.Coverage}, {"rounds", w.Rounds}, {"response", w.Response}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			v.errf("score.weights."+f.name, "must be between 0 and 1, got %g", f.v)
			ok = false
			continue
		}
		sum += f.v
	}
	if ok && math.Abs(sum-1) > 1e-6 {
		v.errf("score.weights", "must sum to 1, got %g", sum)
	}
	switch vs := s.WeightsVersion; {
	case vs == "":
		v.errf("score.weights_version", "required when score.weights differ from the defaults: name this set of weights, e.g. %q", "centre-2025.1")
	case len(vs) > 64:
		v.errf("score.weights_version", "is %d characters long; keep it under 64", len(vs))
	default:
		for _, r := range vs {
			if !unicode.IsPrint(r) || r == ',' {
				v.errf("score.weights_version", "invalid %q: use printable characters without commas", clip(vs))
				break
			}
		}
	}
	if s.Caps != "on" && s.Caps != "off" {
		v.errf("score.caps", "must be on or off, got %q", clip(s.Caps))
	}
	if s.CloseAfter <= 0 || s.CloseAfter > Duration(24*time.Hour) {
		v.errf("score.close_after", "must be between 1s and 24h, got %s", s.CloseAfter)
	}
	if s.KeepDays < 1 || s.KeepDays > 31 {
		v.errf("score.keep_days", "must be between 1 and 31, got %d", s.KeepDays)
	}
}
