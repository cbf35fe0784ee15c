package gateway

import (
	"cmp"
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/alert"
	"github.com/saqshy/saqshy/gateway/alert/outbox"
	"github.com/saqshy/saqshy/gateway/camera"
	"github.com/saqshy/saqshy/gateway/camera/sight"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/rounds"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/status"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// This file is the status page's view of the gateway: what status.Provider asks
// for, built from the reading path's latest readings and counters, the open
// conditions and the checks' snapshots.

// sensorStates keeps the latest reading of every configured sensor, for the status
// page. The reading path shows it each durable batch (Observe).
type sensorStates struct {
	mu      sync.Mutex
	sensors map[string]*status.Sensor
	// hist is each configured sensor's last 24 h of temperatures and its last raw
	// message (status.HistoryBytesPerSensor bytes per sensor).
	hist *status.History
}

func newSensorStates(cfg *config.Config) *sensorStates {
	zones := map[string]config.Zone{}
	for _, z := range cfg.Zones {
		zones[z.ID] = z
	}
	ids := make([]string, 0, len(cfg.Sensors))
	for _, s := range cfg.Sensors {
		ids = append(ids, s.ID)
	}
	st := &sensorStates{sensors: map[string]*status.Sensor{}, hist: status.NewHistory(ids...)}
	for _, s := range cfg.Sensors {
		z := zones[s.Zone]
		st.sensors[s.ID] = &status.Sensor{
			ID: s.ID, Zone: s.Zone, ZoneName: z.Name, ZoneKind: z.Kind, Source: s.Source, Interval: s.Interval.Std(),
		}
	}
	return st
}

// historySaveEvery is how often the live gateway saves the status page's 24 h
// charts to historyStateFile (and at shutdown): a power cut loses at most this
// much of them. A save writes a few kB per sensor.
const historySaveEvery = 5 * time.Minute

// restoreHistory loads the status page's charts saved by the gateway before this
// one (or by the replay of the demo's past), for the sensors still configured. A
// missing file is a first start; an unusable one is logged (the file and what was
// wrong), moved aside, and the charts start empty. Nothing for a Replay.
func (g *Gateway) restoreHistory() {
	path := g.stateFile(historyStateFile)
	if path == "" {
		return
	}
	n, err := g.latest.hist.LoadFrom(path)
	if err != nil {
		g.log.Warn("status page history not restored: the charts start empty", "file", path, "err", err)
		return
	}
	if n > 0 {
		g.log.Info("status page history restored", "file", path, "sensors", n)
	}
}

// keepHistory saves the status page's charts every historySaveEvery and when ctx
// ends.
func (g *Gateway) keepHistory(ctx context.Context) {
	path := g.stateFile(historyStateFile)
	if path == "" {
		return
	}
	t := time.NewTicker(cmp.Or(g.opt.historyEvery, historySaveEvery))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := g.latest.hist.SaveTo(path, g.now()); err != nil {
				g.log.Error("saving the status page history", "err", err)
			}
			return
		case <-t.C:
			if err := g.latest.hist.SaveTo(path, g.now()); err != nil {
				g.log.Warn("saving the status page history", "err", err)
			}
		}
	}
}

// Observe takes the latest readings of evs.
func (st *sensorStates) Observe(evs []telemetry.Event) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i := range evs {
		e := &evs[i]
		s := st.sensors[e.Sensor]
		if s == nil {
			continue
		}
		// Messages may be handled out of order: an older reading never replaces a
		// newer one.
		if e.Time.Before(s.LastSeen) {
			continue
		}
		reading := false
		for _, v := range e.Values {
			val := v.V
			switch v.Metric {
			case telemetry.Temperature:
				s.TemperatureC, reading = &val, true
				if !e.Flags.Has(telemetry.Retained) {
					st.hist.Add(e.Sensor, e.Time, val)
				}
			case telemetry.Humidity:
				s.HumidityPct, reading = &val, true
			case telemetry.Battery:
				s.BatteryPct = &val
			case telemetry.Online:
				on := val == 1
				s.Online = &on
			}
		}
		if reading && !e.Flags.Has(telemetry.Retained) {
			s.LastSeen = e.Time
		}
	}
}

// ObserveRaw keeps the sensor's last raw message (readings.RawObserver).
func (st *sensorStates) ObserveRaw(sensor string, m *telemetry.Message) {
	st.hist.Raw(sensor, m.Topic, m.Payload, m.Received)
}

// list returns every sensor's state with its last 24 h up to now.
func (st *sensorStates) list(now time.Time) []status.Sensor {
	st.mu.Lock()
	out := make([]status.Sensor, 0, len(st.sensors))
	for _, s := range st.sensors {
		out = append(out, *s)
	}
	st.mu.Unlock()
	for i := range out {
		out[i].History = st.hist.Series(out[i].ID, now)
		if r, ok := st.hist.LastRaw(out[i].ID); ok {
			out[i].Raw = &r
		}
	}
	return out
}

// Snapshot implements status.Provider.
func (g *Gateway) Snapshot() status.Snapshot {
	s := g.Stats()
	snap := status.Snapshot{
		Centre: g.cfg.Centre.ID, CentreName: g.cfg.Centre.Name, Now: g.now(), Uptime: s.Uptime,
		MQTTConnected: s.MQTTConnected, ClockSynced: s.ClockSynced, InfluxURL: g.cfg.Influx.URL, InfluxError: cmp.Or(s.InfluxRefused, s.InfluxError),
		Received: s.Received, Acked: s.Acked, Rejected: s.Rejected, Spooled: s.Spooled, Backlog: s.SpoolBacklog,
		SpoolBytes: s.SpoolBytes, SpoolDropped: s.SpoolDropped, Written: s.Written, DeadLettered: s.DeadLettered,
		MQTTProblem: s.MQTTProblem, SpoolCorrupt: s.Spool.Corrupt, SpoolLost: s.Spool.Lost, SpoolDiskFree: s.Spool.DiskFree, SpoolError: s.Spool.WriteError,
		SpoolOldest: s.SpoolOldest, WriterBatches: s.WriterBatches, WriterRetries: s.WriterRetries,
		Sensors: g.latest.list(g.now()),
	}
	for _, z := range g.cfg.Zones {
		snap.Zones = append(snap.Zones, status.Zone{ID: z.ID, Name: z.Name, Kind: z.Kind, Band: g.bands[z.ID]})
	}
	for _, c := range g.conds.List() {
		snap.Conditions = append(snap.Conditions, status.Condition{
			Kind: c.Kind, Subject: c.Subject, Zone: c.Zone, Severity: c.Severity.String(), Reason: c.Reason, Since: c.Since,
			Value: c.Value, HasValue: c.HasValue,
		})
	}
	for k, n := range s.Counters {
		snap.Counters = append(snap.Counters, status.Counter{Source: k.Source, Outcome: k.Outcome, N: n})
	}
	snap.Registry = g.ministry.status()
	snap.Rounds = g.roundsSection()
	snap.Score = g.scoreSection()
	snap.Cameras, snap.Coverage = g.cameraSections()
	snap.Alerts = g.alertSection()
	snap.Implausible = g.implausibleSection()
	return snap
}

// statusHandler returns the status page, locked with the password hash in
// status.password_file when the config names one. An unreadable or malformed file
// is an error: the page then stays down rather than open.
func (g *Gateway) statusHandler() (http.Handler, error) {
	var hash []byte
	if f := g.cfg.Status.PasswordFile; f != "" {
		h, err := status.ReadPasswordFile(f)
		if err != nil {
			return nil, err
		}
		hash = h
	}
	opt := status.Options{
		Provider: g, Centre: g.cfg.Centre.ID, Logger: g.log.With("component", "status"),
		PasswordHash: hash, GoMetrics: true,
	}
	if g.alerts != nil {
		opt.Acker, opt.API = g.alerts.Acker(), g.alerts.Handler()
	}
	return status.New(opt)
}

// StatusAddr returns the status page's bound address, or nil before it listens or
// when it is off.
func (g *Gateway) StatusAddr() net.Addr {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.statusAddr
}

var _ status.Provider = (*Gateway)(nil)

// now is the gateway's clock in the centre's time zone, so that the status page
// shows the centre's local times whatever the Pi's TZ.
func (g *Gateway) now() time.Time {
	if loc := g.cfg.Centre.Location; loc != nil {
		return g.opt.Clock.Now().In(loc)
	}
	return g.opt.Clock.Now()
}

// Conditions returns the open conditions, oldest first. Safe for concurrent use.
func (g *Gateway) Conditions() []telemetry.Condition { return g.conds.List() }

// Alerts returns the open alerts, oldest first, for the status page.
func (g *Gateway) Alerts() []alert.Open {
	if g.alerts == nil {
		return nil
	}
	return g.alerts.Snapshot()
}

// AlertsHandler serves GET /api/alerts and POST /api/alerts/{id}/ack (see
// alert.Engine.Handler), for the status server to mount.
func (g *Gateway) AlertsHandler() http.Handler { return g.alerts.Handler() }

// AlertOutboxStats returns the notification counters per channel.
func (g *Gateway) AlertOutboxStats() outbox.Stats { return g.alerts.OutboxStats() }

// alertSection is the open alerts for the status page.
func (g *Gateway) alertSection() []status.Alert {
	var out []status.Alert
	for _, a := range g.Alerts() {
		text := a.Text
		if text == "" {
			text = a.Kind + " " + a.Subject
		}
		out = append(out, status.Alert{ID: a.ID, Severity: a.Severity, State: string(a.State), Text: text, Texts: a.Texts,
			Zone: cmp.Or(a.ZoneName, a.Zone), Since: a.Since, AckedBy: a.AckedBy, AckedAt: a.AckedAt})
	}
	return out
}

// Score returns the safety score's state for the status page; false when the
// score is not running.
func (g *Gateway) Score() (score.Snapshot, bool) {
	if g.score == nil {
		return score.Snapshot{}, false
	}
	return g.score.Snapshot(), true
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

// RoundsStatus returns tonight's night-round status for the status page; false
// when the centre has no checkpoints. Safe for concurrent use.
func (g *Gateway) RoundsStatus() (rounds.Status, bool) {
	if g.rounds == nil {
		return rounds.Status{}, false
	}
	return g.rounds.Snapshot(g.opt.Clock.Now()), true
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

// Cameras returns the cameras' health and the coverage, for the status page; the
// zero Snapshot when the centre has no cameras. Safe for concurrent use.
func (g *Gateway) Cameras() camera.Snapshot {
	if g.camera == nil {
		return camera.Snapshot{}
	}
	return g.camera.Snapshot()
}

// cameraSections is the cameras' health and the coverage per zone kind for the
// status page; nil without cameras.
func (g *Gateway) cameraSections() ([]status.Camera, []status.Coverage) {
	snap := g.Cameras()
	views := map[string]sight.Status{}
	if g.sight != nil {
		for _, v := range g.sight.Snapshot() {
			views[v.Camera] = v
		}
	}
	var cams []status.Camera
	for _, c := range snap.Cameras {
		sc := status.Camera{ID: cmp.Or(c.Name, c.ID), Zones: c.Zones, State: c.State.String(), Reason: c.Reason, Since: c.Since}
		if v, ok := views[c.ID]; ok {
			sc.View = v.State
			if !v.Sees {
				sc.ViewReason = v.Reason
			}
		}
		cams = append(cams, sc)
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

// implausibleSection lists the sensors held implausible, for the status page.
func (g *Gateway) implausibleSection() []status.Implausible {
	if g.plaus == nil {
		return nil
	}
	var out []status.Implausible
	for _, p := range g.plaus.Snapshot() {
		if p.Implausible {
			out = append(out, status.Implausible{Sensor: p.Sensor, Zone: p.Zone, Code: p.Code, Reason: p.Reason, Since: p.Since})
		}
	}
	return out
}
