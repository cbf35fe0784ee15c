package gateway

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/status"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// sensorStates keeps the latest reading of every configured sensor, for the status
// page. Updated after each durable batch.
type sensorStates struct {
	mu      sync.Mutex
	sensors map[string]*status.Sensor
}

func newSensorStates(cfg *config.Config) *sensorStates {
	zones := map[string]config.Zone{}
	for _, z := range cfg.Zones {
		zones[z.ID] = z
	}
	st := &sensorStates{sensors: map[string]*status.Sensor{}}
	for _, s := range cfg.Sensors {
		z := zones[s.Zone]
		st.sensors[s.ID] = &status.Sensor{
			ID: s.ID, Zone: s.Zone, ZoneName: z.Name, ZoneKind: z.Kind, Source: s.Source, Interval: s.Interval.Std(),
		}
	}
	return st
}

func (st *sensorStates) update(evs []telemetry.Event) {
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

func (st *sensorStates) list() []status.Sensor {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]status.Sensor, 0, len(st.sensors))
	for _, s := range st.sensors {
		out = append(out, *s)
	}
	return out
}

// Snapshot implements status.Provider.
func (g *Gateway) Snapshot() status.Snapshot {
	s := g.Stats()
	snap := status.Snapshot{
		Centre: g.cfg.Centre.ID, CentreName: g.cfg.Centre.Name, Now: g.now(), Uptime: s.Uptime,
		MQTTConnected: s.MQTTConnected, ClockSynced: s.ClockSynced, InfluxURL: g.cfg.Influx.URL, InfluxError: s.InfluxError,
		Received: s.Received, Acked: s.Acked, Rejected: s.Rejected, Spooled: s.Spooled, Backlog: s.SpoolBacklog,
		SpoolBytes: s.SpoolBytes, SpoolDropped: s.SpoolDropped, Written: s.Written, DeadLettered: s.DeadLettered,
		MQTTProblem: s.MQTTProblem, SpoolCorrupt: s.Spool.Corrupt, SpoolLost: s.Spool.Lost, SpoolDiskFree: s.Spool.DiskFree, SpoolError: s.Spool.WriteError,
		SpoolOldest: s.SpoolOldest, WriterBatches: s.WriterBatches, WriterRetries: s.WriterRetries,
		Sensors: g.states.list(),
	}
	for _, z := range g.cfg.Zones {
		snap.Zones = append(snap.Zones, status.Zone{ID: z.ID, Name: z.Name, Kind: z.Kind, Band: g.bands[z.ID]})
	}
	for _, c := range g.conds.list() {
		snap.Conditions = append(snap.Conditions, status.Condition{
			Kind: c.Kind, Subject: c.Subject, Zone: c.Zone, Severity: c.Severity.String(), Reason: c.Reason, Since: c.Since,
		})
	}
	for k, n := range s.Counters {
		snap.Counters = append(snap.Counters, status.Counter{Source: k.Source, Outcome: k.Outcome, N: n})
	}
	snap.Rounds = g.roundsSection()
	snap.Score = g.scoreSection()
	snap.Cameras, snap.Coverage = g.cameraSections()
	snap.Alerts = g.alertSection()
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
		opt.Acker, opt.API = alertAcker{g.alerts.engine}, g.AlertsHandler()
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
