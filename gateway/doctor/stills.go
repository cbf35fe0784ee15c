package doctor

import (
	"context"
	"fmt"
	"time"

	"github.com/saqshy/saqshy/gateway/camera/sight"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// nopConds keeps doctor's one look from raising anything.
type nopConds struct{}

func (nopConds) Raise(telemetry.Condition)       {}
func (nopConds) Clear(string, string, time.Time) {}

type doctorClock struct{ now func() time.Time }

func (c doctorClock) Now() time.Time { return c.now() }
func (doctorClock) Synced() bool     { return true }

// checkStills fetches one still from each camera covering a required zone and
// says whether it sees (one still tells dark and covered; frozen and turned away
// need the running gateway's learned view). The still is judged in memory and
// dropped. Cameras of required zones without a still URL are a warning.
func checkStills(ctx context.Context, cfg *config.Config, opt *Options) Check {
	c := Check{Name: "camera-stills", Status: Pass}
	targets := sight.Targets(cfg)
	watched := map[string]bool{}
	for _, t := range targets {
		watched[t.Camera] = true
	}
	required := map[string]bool{}
	for _, z := range cfg.Zones {
		if rule, _ := cfg.ZoneCoverage(z); rule == config.CoverageRequired {
			required[z.ID] = true
		}
	}
	var unwatched []string
	for _, cam := range cfg.Cameras {
		for _, z := range cam.Zones {
			if required[z] && !watched[cam.ID] {
				unwatched = append(unwatched, cam.ID)
				break
			}
		}
	}
	if len(targets) == 0 && len(unwatched) == 0 {
		c.Status, c.Title = Skip, "Camera stills: no camera covers a required zone"
		return c
	}
	if len(targets) > 0 {
		w, err := sight.New(sight.Options{Targets: targets, Conditions: nopConds{}, Clock: doctorClock{opt.Now}})
		if err != nil {
			c.Status, c.Title = Fail, "Camera stills: "+err.Error()
			return c
		}
		w.LookAll(ctx)
		for _, s := range w.Snapshot() {
			switch {
			case s.Err != "":
				c.Items = append(c.Items, Item{Fail, fmt.Sprintf("%s: still not judged: %s", s.Camera, s.Err)})
				c.Status = Fail
			case !s.Sees:
				c.Items = append(c.Items, Item{Fail, fmt.Sprintf("%s does not see %v: %s", s.Camera, s.Zones, s.Reason)})
				c.Status = Fail
			default:
				c.Items = append(c.Items, Item{Pass, fmt.Sprintf("%s sees %v (brightness %.0f, detail %.1f)", s.Camera, s.Zones, s.Measures.Brightness, s.Measures.Detail)})
			}
		}
	}
	for _, id := range unwatched {
		c.Items = append(c.Items, Item{Warn, fmt.Sprintf("%s: no still URL, so nobody checks it sees", id)})
		if c.Status == Pass {
			c.Status = Warn
		}
	}
	c.Title = fmt.Sprintf("Camera stills: %d of %d cameras of required zones checked", len(targets), len(targets)+len(unwatched))
	switch c.Status {
	case Fail:
		c.Fix = "uncover or turn back the camera, or fix its still URL (frigate_api for Frigate, snapshot_url for saqshy); a camera that does not see does not cover its zones"
	case Warn:
		c.Fix = "set frigate_api (Frigate) or snapshot_url (a camera the gateway probes) so the gateway can check that the camera sees its zone"
	}
	return c
}
