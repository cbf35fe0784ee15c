package registry

import (
	"cmp"
	"slices"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// FromConfig drafts version 1 of an entry from a centre config as it is: every
// zone with its kind and coverage rule (a required zone with the cameras that
// cover it; one no camera covers is drafted optional, for the region officer to
// decide), every sensor with its interval as the longest allowed, the night
// rounds, checkpoints and badges, and the score settings. The region and the
// recipients the ministry requires are the ministry's, so they are given. It
// is a starting point for the region officer (and what the demo signs), not a
// survey: the ministry reviews every line.
func FromConfig(cfg *config.Config, region string, recipients []Recipient) *Entry {
	e := &Entry{
		Version: 1,
		Centre: Centre{ID: cfg.Centre.ID, Name: cmp.Or(cfg.Centre.Name, cfg.Centre.ID), Region: region,
			Timezone: cmp.Or(cfg.Centre.Timezone, config.DefaultTimezone)},
		Recipients: slices.Clone(recipients),
		Score: Score{WeightsVersion: cfg.Score.WeightsVersion, Caps: cmp.Or(cfg.Score.Caps, "on"), Weights: Weights{
			Temperature: cfg.Score.Weights.Temperature, Availability: cfg.Score.Weights.Availability,
			Coverage: cfg.Score.Weights.Coverage, Rounds: cfg.Score.Weights.Rounds, Response: cfg.Score.Weights.Response}},
	}
	for _, z := range cfg.Zones {
		rz := Zone{ID: z.ID, Kind: z.Kind, Name: cmp.Or(z.Name, z.ID)}
		if rule, _ := cfg.ZoneCoverage(z); rule == config.CoverageRequired {
			for _, cam := range cfg.Cameras {
				if slices.Contains(cam.Zones, z.ID) {
					rz.Cameras = append(rz.Cameras, cam.ID)
				}
			}
			rz.Coverage = config.CoverageRequired
			if len(rz.Cameras) == 0 {
				rz.Coverage = config.CoverageOptional
			}
		}
		e.Zones = append(e.Zones, rz)
	}
	for _, s := range cfg.Sensors {
		iv := s.Interval.Std()
		if iv <= 0 {
			iv = config.DefaultInterval(s.Source)
		}
		e.Sensors = append(e.Sensors, Sensor{ID: s.ID, Zone: s.Zone, MaxInterval: Duration(min(max(iv, time.Second), 24*time.Hour))})
	}
	r := cfg.Rounds
	if len(r.Checkpoints) > 0 {
		e.Rounds.Window, e.Rounds.Interval = r.Window, Duration(r.Interval)
		for _, cp := range r.Checkpoints {
			e.Rounds.Checkpoints = append(e.Rounds.Checkpoints, Checkpoint{ID: cp.ID, Zone: cp.Zone, Tag: config.NormalizeUID(cp.Tag)})
		}
	}
	for _, b := range r.Badges {
		e.Rounds.Badges = append(e.Rounds.Badges, Badge{ID: b.ID, UID: config.NormalizeUID(b.UID), Name: b.Name, Role: b.Role})
	}
	return e
}
