// Package sight checks that the cameras covering required zones see them (issue
// 16, "Cameras that see"): every few minutes it fetches a still from each such
// camera — Frigate's latest frame (config frigate_api) or the camera's own
// snapshot URL the prober knows — and judges it with package camera/still against
// the camera's own learned view. A camera whose still is blacked out, covered,
// frozen or turned away does not cover its zones (camera.Check.SetSight) and
// raises `camera_tampered`, critical: the zone it must watch is not watched.
//
// Privacy: the still lives in memory for the time of one judgement and is then
// dropped. Only the verdict and its measures leave the Pi, as `camera_view`
// points; the learned view (a 16×9 grid of block means) stays in memory.
package sight

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/camera/probe"
	"github.com/saqshy/saqshy/gateway/camera/still"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// KindTampered is the condition a camera that does not see raises; subject: the
// camera id.
const KindTampered = "camera_tampered"

// DefaultEvery is how often each camera's still is fetched.
const DefaultEvery = 5 * time.Minute

// MaxStillBytes bounds one still (a 4K JPEG is 1–3 MB).
const MaxStillBytes = 8 << 20

// Coverage is the camera check as the watcher tells it what it saw.
type Coverage interface {
	SetSight(id string, sees bool, why string, now time.Time, synced bool) ([]telemetry.Event, error)
}

// Clock tells the time and whether it can be trusted.
type Clock interface {
	Now() time.Time
	Synced() bool
}

// Target is one camera whose stills are judged.
type Target struct {
	Camera   string
	Zones    []string // the required zones it covers
	URL      string
	Frigate  bool // Frigate's API (no credentials); else the camera's snapshot URL
	Username string
	Password string
	Err      error // the password file could not be read: reported, not fetched
}

// Options configure a Watcher.
type Options struct {
	Targets    []Target
	Conditions telemetry.Conditions
	Coverage   Coverage // nil: nothing is told (tests)
	Clock      Clock
	Every      time.Duration // default DefaultEvery
	Client     *http.Client  // default: no redirects
	Params     still.Params  // zero: still.DefaultParams
	Logger     *slog.Logger
}

// Status is one camera's last look, for the status page.
type Status struct {
	Camera   string
	Zones    []string
	Looked   time.Time // last judged still; zero before the first
	State    string    // the verdict's state ("ok", "learning", "dark", ...); "" before the first
	Sees     bool
	Reason   string
	Since    time.Time // when it stopped seeing; zero while it sees
	Measures still.Measures
	Err      string // the last fetch or decode error, "" after a judged still
}

type camState struct {
	t      Target
	ref    still.Reference
	status Status
	blind  bool
}

// Watcher fetches and judges the stills. Safe for concurrent use.
type Watcher struct {
	opt    Options
	log    *slog.Logger
	mu     sync.Mutex
	cams   []*camState
	queued []telemetry.Event
}

// New returns a watcher of opt.Targets.
func New(opt Options) (*Watcher, error) {
	if opt.Conditions == nil || opt.Clock == nil {
		return nil, fmt.Errorf("sight: Conditions and Clock are required")
	}
	if opt.Every <= 0 {
		opt.Every = DefaultEvery
	}
	if opt.Params == (still.Params{}) {
		opt.Params = still.DefaultParams()
	}
	if opt.Client == nil {
		opt.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{opt: opt, log: opt.Logger}
	for _, t := range opt.Targets {
		if t.Camera == "" || t.URL == "" {
			return nil, fmt.Errorf("sight: target %q has no camera id or URL", t.Camera)
		}
		w.cams = append(w.cams, &camState{t: t, status: Status{Camera: t.Camera, Zones: t.Zones, Sees: true}})
	}
	return w, nil
}

// Targets returns the cameras of cfg that cover a required zone and have a still
// URL (Frigate with frigate_api, saqshy with snapshot_url).
func Targets(cfg *config.Config) []Target {
	required := map[string]bool{}
	for _, z := range cfg.Zones {
		if rule, _ := cfg.ZoneCoverage(z); rule == config.CoverageRequired {
			required[z.ID] = true
		}
	}
	var out []Target
	for _, cam := range cfg.Cameras {
		var zones []string
		for _, z := range cam.Zones {
			if required[z] && !slices.Contains(zones, z) {
				zones = append(zones, z)
			}
		}
		u := cam.StillURL()
		if len(zones) == 0 || u == "" {
			continue
		}
		t := Target{Camera: cam.ID, Zones: zones, URL: u, Frigate: cam.Source == config.CameraFrigate}
		if !t.Frigate {
			t.Username = cam.Username
			if t.Password, t.Err = cam.CameraPassword(); t.Err != nil {
				t.Err = fmt.Errorf("password_file: %w", t.Err)
			}
		}
		out = append(out, t)
	}
	return out
}

// Name labels the watcher among the gateway's checks.
func (w *Watcher) Name() string { return "camera_sight" }

// Run looks at every camera every Every (the first look right away) until ctx
// ends; it returns nil then.
func (w *Watcher) Run(ctx context.Context) error {
	tk := time.NewTicker(w.opt.Every)
	defer tk.Stop()
	for {
		w.LookAll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
	}
}

// LookAll looks at every camera once, one after the other.
func (w *Watcher) LookAll(ctx context.Context) {
	for _, c := range w.cams {
		if ctx.Err() != nil {
			return
		}
		w.look(ctx, c)
	}
}

// judge fetches one still and judges it; the still goes out of scope here, kept
// nowhere.
func (w *Watcher) judge(ctx context.Context, c *camState) (still.Verdict, error) {
	data, err := w.fetch(ctx, c.t)
	if err != nil {
		return still.Verdict{}, err
	}
	return still.Analyze(data, &c.ref, w.opt.Params)
}

// look judges one camera's still and applies the verdict.
func (w *Watcher) look(ctx context.Context, c *camState) {
	v, err := w.judge(ctx, c)
	now, synced := w.opt.Clock.Now(), w.opt.Clock.Synced()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		// A camera that cannot be fetched is the health check's business (offline,
		// no report): its sight stays as last judged.
		if c.status.Err != err.Error() {
			w.log.Warn("camera still not judged", "camera", c.t.Camera, "err", err)
		}
		c.status.Err = err.Error()
		return
	}
	sees := v.State.Sees()
	c.status.Err, c.status.Looked, c.status.State, c.status.Sees, c.status.Reason, c.status.Measures =
		"", now, v.State.String(), sees, v.Reason, v.Measures
	w.queued = append(w.queued, viewPoint(c.t.Camera, v, now))
	if !sees || c.blind { // it does not see, or saw nothing until now
		if w.opt.Coverage != nil {
			why := ""
			if !sees {
				why = v.State.String()
			}
			evs, err := w.opt.Coverage.SetSight(c.t.Camera, sees, why, now, synced)
			if err != nil {
				w.log.Error("camera sight not applied", "camera", c.t.Camera, "err", err)
			}
			w.queued = append(w.queued, evs...)
		}
	}
	switch {
	case !sees:
		if !c.blind {
			c.blind, c.status.Since = true, now
			w.log.Warn("camera does not see its zones", "camera", c.t.Camera, "state", v.State.String(), "reason", v.Reason)
		}
		w.opt.Conditions.Raise(telemetry.Condition{Kind: KindTampered, Subject: c.t.Camera, Zone: c.t.Zones[0],
			Severity: telemetry.Critical, Since: c.status.Since,
			Reason: fmt.Sprintf("camera %s does not see zone %s: %s", c.t.Camera, c.t.Zones[0], v.Reason)})
	case c.blind:
		c.blind, c.status.Since = false, time.Time{}
		w.opt.Conditions.Clear(KindTampered, c.t.Camera, now)
		w.log.Info("camera sees its zones again", "camera", c.t.Camera)
	}
}

func (w *Watcher) fetch(ctx context.Context, t Target) ([]byte, error) {
	if t.Err != nil {
		return nil, t.Err
	}
	if t.Frigate {
		return still.Fetch(ctx, w.opt.Client, t.URL, MaxStillBytes)
	}
	ctx, cancel := context.WithTimeout(ctx, still.FetchTimeout)
	defer cancel()
	return probe.Get(ctx, w.opt.Client, t.URL, t.Username, t.Password, MaxStillBytes)
}

// viewPoint is the `camera_view` point of one verdict: the measures only.
func viewPoint(cam string, v still.Verdict, t time.Time) telemetry.Event {
	m := v.Measures
	fields := []telemetry.Field{
		telemetry.Bool("sees", v.State.Sees()),
		telemetry.String("state", v.State.String()),
		telemetry.String("reason", v.Reason),
		telemetry.Float("brightness", round3(m.Brightness)),
		telemetry.Float("detail", round3(m.Detail)),
	}
	if m.Change >= 0 {
		fields = append(fields, telemetry.Float("change", round3(m.Change)))
	}
	if !math.IsNaN(m.Corr) {
		fields = append(fields, telemetry.Float("corr", round3(m.Corr)))
	}
	return telemetry.NewPoint(t, telemetry.MeasurementCameraView,
		[]telemetry.Tag{{Key: "camera", Value: cam}, {Key: "state", Value: v.State.String()}}, fields...)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// Tick implements the gateway's ticker: it returns the points of the looks since
// the last tick.
func (w *Watcher) Tick(time.Time, bool) []telemetry.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.queued
	w.queued = nil
	return out
}

// Snapshot returns every watched camera's last look.
func (w *Watcher) Snapshot() []Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Status, 0, len(w.cams))
	for _, c := range w.cams {
		s := c.status
		s.Zones = slices.Clone(s.Zones)
		out = append(out, s)
	}
	return out
}
