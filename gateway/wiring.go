package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/saqshy/saqshy/gateway/alert/alertcheck"
	"github.com/saqshy/saqshy/gateway/camera"
	"github.com/saqshy/saqshy/gateway/camera/probe"
	"github.com/saqshy/saqshy/gateway/camera/sight"
	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/plausibility/plauscheck"
	"github.com/saqshy/saqshy/gateway/rounds"
	"github.com/saqshy/saqshy/gateway/rules"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/score/scoreconfig"
)

// wireChecks builds the checks the config asks for, in this order: the gateway's
// heartbeat; night rounds; cameras and the prober; the alert rules and engine, which
// listen to the conditions every check raises; the safety score, handed the
// components of the checks before it. Each builds itself from the config in its
// own package; a check the centre configures nothing for is absent.
func (g *Gateway) wireChecks() error {
	pub := publisher{g}
	g.checks = append(g.checks, &health{stats: g.Stats, registry: g.ministry.version, hash: g.ministry.hash})
	if g.rounds = g.roundsCheck(); g.rounds != nil {
		g.checks = append(g.checks, g.rounds)
	}
	if g.camera = g.cameraCheck(); g.camera != nil {
		g.checks = append(g.checks, g.camera)
		// Cameras probed by the gateway itself publish their health on MQTT, for the
		// camera check to read back like any other source.
		if p := probe.FromConfig(g.cfg, pub, g.log); p != nil {
			g.checks = append(g.checks, p)
		}
		// Cameras covering required zones have their stills judged: a camera that
		// does not see does not cover.
		if g.sight = g.sightCheck(); g.sight != nil {
			g.checks = append(g.checks, g.sight)
		}
	}
	if g.plaus = plauscheck.New(g.cfg, g.conds, g.log.With("component", "plausibility")); g.plaus != nil {
		g.checks = append(g.checks, g.plaus)
	}
	ac, err := alertcheck.New(g.cfg, alertcheck.Deps{
		Conditions: g.conds, Publisher: pub, Health: gatewayHealth{g},
		Now: g.opt.Clock.Now, Logger: g.log.With("component", "alerts"), InMemory: g.opt.inMemory,
	})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	g.alerts = ac
	g.checks = append(g.checks, ac)

	in := scoreconfig.Inputs{
		Events:    camera.NewSeriousEvents(g.cfg, g.conds),
		Publisher: pub,
		Logger:    g.log.With("component", "score"),
		InMemory:  g.opt.inMemory,
	}
	if g.camera != nil {
		in.Coverage = g.camera
	}
	if g.rounds != nil {
		in.Rounds = g.rounds
	}
	if g.plaus != nil {
		in.Plausibility = g.plaus
	}
	// Response is judged only where somebody can answer: a centre without alert
	// recipients has nothing configured for it.
	if eng := ac.Engine(); eng != nil && len(g.cfg.Alerts.Recipients) > 0 {
		in.Response = eng
	}
	if sc, err := scoreconfig.New(g.cfg, in); err != nil {
		g.log.Error("safety score disabled", "err", err)
	} else {
		g.score = sc
		g.checks = append(g.checks, sc)
	}
	g.checks = append(g.checks, g.opt.checks...)
	return nil
}

// The checks' state files, next to the spool files: the night rounds', the
// cameras' coverage (the score's is scoreconfig.StateFile), and the status page's
// 24 h charts (status.History.SaveTo).
const (
	roundsStateFile  = "rounds-state.json"
	cameraStateFile  = "camera-coverage.json"
	historyStateFile = "status-history.json"
)

// stateFile is the path of a check's state file in the spool's directory; "" (in
// memory only) for a Replay.
func (g *Gateway) stateFile(name string) string {
	if g.opt.inMemory {
		return ""
	}
	return filepath.Join(g.cfg.Spool.Dir, name)
}

// roundsCheck builds the night-round check when the config has checkpoints. Scans
// are dated by the gateway's clock; the state survives restarts in the spool
// directory; night summaries go out through the gateway's MQTT connection.
func (g *Gateway) roundsCheck() *rounds.Check {
	if len(g.cfg.Rounds.Checkpoints) == 0 {
		return nil
	}
	c, err := rounds.New(rounds.Options{
		Config:     g.cfg,
		StateFile:  g.stateFile(roundsStateFile),
		Conditions: g.conds,
		Publisher:  publisher{g},
		Now:        g.opt.Clock.Now,
		Logger:     g.log.With("component", "rounds"),
		// Under a registry the issued badges are the registry's (registry.Apply):
		// any other is flagged unknown_badge, and the burst and speed rules take
		// the whole centre's scans together.
		Registered: g.ministry.version > 0,
	})
	if err != nil { // only for a config Validate rejects
		g.log.Error("night rounds disabled", "err", err)
		return nil
	}
	return c
}

// cameraCheck builds the camera check (health and coverage) from the config. None
// without cameras: a centre that does not configure any is not judged on coverage
// here (with one camera, every required zone without a camera is a gap).
func (g *Gateway) cameraCheck() *camera.Check {
	if len(g.cfg.Cameras) == 0 {
		return nil
	}
	c, err := camera.New(g.cfg, g.conds, g.log.With("component", "camera"))
	if err != nil { // only for a config that did not pass Validate
		g.log.Error("cameras not checked", "err", err)
		return nil
	}
	// Today's accounting survives a restart in the spool's directory.
	if g.opt.inMemory {
		return c
	}
	if err := c.PersistTo(filepath.Join(g.cfg.Spool.Dir, cameraStateFile)); err != nil {
		g.log.Warn("coverage state not restored: today's coverage restarts from now", "err", err)
	}
	return c
}

// sightCheck builds the still watcher of the cameras covering required zones with
// a still URL (frigate_api, snapshot_url); nil when there are none.
func (g *Gateway) sightCheck() *sight.Watcher {
	targets := sight.Targets(g.cfg)
	if len(targets) == 0 {
		return nil
	}
	w, err := sight.New(sight.Options{Targets: targets, Conditions: g.conds, Coverage: g.camera, Clock: g.opt.Clock,
		Every: g.opt.sightEvery, Logger: g.log.With("component", "camera_sight")})
	if err != nil {
		g.log.Error("camera stills not judged", "err", err)
		return nil
	}
	return w
}

// publisher publishes on the gateway's MQTT connection, for checks that publish
// (alerts, night summaries, camera probes, the score). It fails while the gateway
// is not connected; the caller keeps what it must not lose and retries.
type publisher struct{ g *Gateway }

// Publish sends payload on topic at QoS 1 and waits for the broker's acknowledgement.
func (p publisher) Publish(ctx context.Context, topic string, retained bool, payload []byte) error {
	p.g.mu.Lock()
	src := p.g.src
	p.g.mu.Unlock()
	if src == nil {
		return errors.New("gateway: MQTT not started")
	}
	return src.Publish(ctx, topic, retained, payload)
}

// gatewayHealth reads what the health rules need from the gateway's stats.
type gatewayHealth struct{ g *Gateway }

func (h gatewayHealth) Health() rules.Health {
	st := h.g.Stats()
	return rules.Health{MQTTConnected: st.MQTTConnected, ClockSynced: st.ClockSynced, SpoolBytes: st.SpoolBytes,
		SpoolMax: cmp.Or(st.Spool.MaxBytes, int64(h.g.cfg.Spool.MaxBytes)), InfluxError: st.InfluxError,
		SpoolDiskFree: st.Spool.DiskFree, SpoolDiskLow: st.Spool.DiskLow, SpoolWriteError: st.Spool.WriteError,
		SpoolLost: st.Spool.Lost + st.Spool.Corrupt, MQTTProblem: st.MQTTProblem,
		InfluxRefused: st.InfluxRefused}
}

// The checks' capabilities, as the gateway uses them.
var (
	_ check.Reader    = (*camera.Check)(nil)
	_ check.Runner    = (*camera.Check)(nil)
	_ check.Runner    = (*probe.Prober)(nil)
	_ check.Reader    = (*rounds.Check)(nil)
	_ check.Committer = (*rounds.Check)(nil)
	_ check.Ticker    = (*score.Check)(nil)
	_ check.Committer = (*score.Check)(nil)
	_ check.Ticker    = (*health)(nil)
	_ check.Runner    = (*sight.Watcher)(nil)
	_ check.Ticker    = (*sight.Watcher)(nil)
	_ check.Observer  = (*plauscheck.Check)(nil)
	_ check.Ticker    = (*plauscheck.Check)(nil)
)
