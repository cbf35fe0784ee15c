package gateway

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/saqshy/saqshy/gateway/camera"
	"github.com/saqshy/saqshy/gateway/camera/probe"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/status"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// cameraChecks builds the camera check (health and coverage) from the config and,
// when some cameras are probed by the gateway itself, the prober, which publishes
// their health on MQTT for the camera check to read back. None without cameras: a
// centre that does not configure any is not judged on coverage here (with one
// camera, every required zone without a camera is a gap). A camera whose password file cannot be read is probed no less:
// its reports say so (offline, "password_file: ..."), on the status page too.
func (g *Gateway) cameraChecks() []check {
	if len(g.cfg.Cameras) == 0 {
		return nil
	}
	c, err := camera.New(g.cfg, g.conds, g.log.With("component", "camera"))
	if err != nil { // only for a config that did not pass Validate
		g.log.Error("cameras not checked", "err", err)
		return nil
	}
	// Today's accounting survives a restart in the spool's directory.
	if err := c.PersistTo(filepath.Join(g.cfg.Spool.Dir, "camera-coverage.json")); err != nil {
		g.log.Warn("coverage state not restored: today's coverage restarts from now", "err", err)
	}
	checks := []check{c}
	var targets []probe.Target
	for _, cam := range g.cfg.Cameras {
		if cam.Source != config.CameraSaqshy || !cam.Probed() {
			continue
		}
		pass, err := cam.CameraPassword()
		if err != nil {
			err = fmt.Errorf("password_file: %w", err)
		}
		targets = append(targets, probe.Target{Camera: cam.ID, Topic: cam.Topic, RTSPURL: cam.RTSPURL, SnapshotURL: cam.SnapshotURL,
			Username: cam.Username, Password: pass, Interval: cam.Interval.Std(), Timeout: cam.Timeout.Std(), Err: err})
	}
	if len(targets) > 0 {
		checks = append(checks, proberCheck{probe.New(targets, publisher{g}, g.log)})
	}
	return checks
}

// Cameras returns the cameras' health and the coverage, for the status page; the
// zero Snapshot when the centre has no cameras. Safe for concurrent use.
func (g *Gateway) Cameras() camera.Snapshot {
	for _, c := range g.checks {
		if cc, ok := c.(*camera.Check); ok {
			return cc.Snapshot()
		}
	}
	return camera.Snapshot{}
}

// proberCheck runs the camera prober beside the other checks; it reads nothing.
type proberCheck struct{ p *probe.Prober }

func (proberCheck) Name() string                                               { return "camera_probe" }
func (proberCheck) Topics() []string                                           { return nil }
func (proberCheck) Observe([]telemetry.Event)                                  {}
func (proberCheck) Tick(time.Time, bool) []telemetry.Event                     { return nil }
func (proberCheck) Message(telemetry.Message, bool) ([]telemetry.Event, error) { return nil, nil }
func (pc proberCheck) Run(ctx context.Context) error                           { return pc.p.Run(ctx) }

var (
	_ check  = (*camera.Check)(nil)
	_ runner = (*camera.Check)(nil)
	_ runner = proberCheck{}
)

// cameraSections is the cameras' health and the coverage per zone kind for the
// status page; nil without cameras.
func (g *Gateway) cameraSections() ([]status.Camera, []status.Coverage) {
	snap := g.Cameras()
	var cams []status.Camera
	for _, c := range snap.Cameras {
		cams = append(cams, status.Camera{ID: cmp.Or(c.Name, c.ID), Zones: c.Zones, State: c.State.String(), Reason: c.Reason, Since: c.Since})
	}
	var cov []status.Coverage
	for _, k := range snap.Kinds {
		if k.Zones == 0 {
			continue
		}
		cov = append(cov, status.Coverage{ZoneKind: k.Kind, Required: k.Zones, Covered: k.CoveredNow,
			Now: float64(k.CoveredNow) / float64(k.Zones), Today: k.Today.Ratio()})
	}
	return cams, cov
}
