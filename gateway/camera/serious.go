package camera

import (
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// History is the condition registry as the serious events read it.
type History interface {
	Between(from, to time.Time) []telemetry.Condition
}

// SeriousEvents gives the safety score the conditions that cap it and that the score
// does not see in the readings itself: a camera covering a required zone down
// (camera_offline) for 24 hours is the cap camera_down_24h.
type SeriousEvents struct {
	conds    History
	required map[string]bool // cameras mapped to at least one required zone
}

// NewSeriousEvents returns the serious events of cfg's cameras, read from conds.
func NewSeriousEvents(cfg *config.Config, conds History) SeriousEvents {
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
	return SeriousEvents{conds: conds, required: req}
}

// Serious returns the cameras covering a required zone that were offline in
// [from, to), as camera_down conditions.
func (s SeriousEvents) Serious(from, to time.Time) []telemetry.Condition {
	var out []telemetry.Condition
	for _, c := range s.conds.Between(from, to) {
		if c.Kind == KindCameraOffline && s.required[c.Subject] {
			c.Kind = "camera_down"
			out = append(out, c)
		}
	}
	return out
}
