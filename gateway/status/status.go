package status

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Snapshot is what the page shows. The gateway fills the core; the optional
// sections (Cameras, Coverage, Rounds, Alerts) are filled by the capabilities that
// have them and shown only when they hold data.
type Snapshot struct {
	Centre        string
	CentreName    string
	Now           time.Time
	Uptime        time.Duration
	MQTTConnected bool
	MQTTProblem   string // what keeps MQTT from delivering, with the fix; "" if nothing known
	ClockSynced   bool
	InfluxURL     string // "" = spool only
	InfluxError   string
	Received      uint64
	Acked         uint64
	Rejected      uint64
	Spooled       uint64
	Backlog       int64
	SpoolBytes    int64
	SpoolOldest   time.Time // time of the oldest reading not yet in InfluxDB; zero if none
	SpoolDropped  uint64
	SpoolCorrupt  uint64 // readings lost to damaged spool files
	SpoolLost     uint64 // readings lost to missing spool files (holes between segments)
	SpoolDiskFree int64  // bytes free on the spool's file system; -1 unknown
	SpoolError    string // the spool's last write error; "" when it stores readings
	Written       uint64
	WriterBatches uint64 // batches InfluxDB accepted
	WriterRetries uint64 // failed writes that were retried
	DeadLettered  uint64
	Counters      []Counter
	Zones         []Zone // every configured zone; zones of Sensors are added when missing
	Sensors       []Sensor
	Conditions    []Condition // open ones, oldest first

	// Optional sections.
	Cameras  []Camera   `json:",omitempty"`
	Coverage []Coverage `json:",omitempty"`
	Rounds   *Rounds    `json:",omitempty"`
	Alerts   []Alert    `json:",omitempty"`
	// Implausible lists the sensors whose readings do not vary the way their zone
	// kind's do (they do not raise the score while listed).
	Implausible []Implausible `json:",omitempty"`
	Score       *Score        `json:",omitempty"`

	// Registry is the ministry registry the centre runs under; Version 0: unrated.
	Registry Registry
}

// Registry is the ministry registry bundle in force (docs/RATING.md).
type Registry struct {
	Version int64 // the bundle in force; 0: unrated (no bundle)
	// Pending is a newer version installed since the start: it takes effect at
	// the next restart. 0 when none.
	Pending int64 `json:",omitempty"`
	// Overridden counts the local settings that weaken the registry: the
	// gateway runs on the registry's values instead (check-config names them).
	Overridden int `json:",omitempty"`
	// Problem says why a bundle was refused, or the last fetch failed; "" if none.
	Problem string `json:",omitempty"`
	// ConfigHash is the effective config's hash, as in the heartbeat.
	ConfigHash string `json:",omitempty"`
}

// Score is the centre's safety score, from the score capability.
type Score struct {
	Live       float64          // 0..100, the rolling 24 h
	Today      *float64         // 0..100, today so far; nil before the first minute
	Components []ScoreComponent // of the live score, in the order they are written
	Caps       []string         // the caps that apply to the live score
	Version    string           // the weights' version
}

// ScoreComponent is one component of the score: 0..1, or unknown (counted as 0).
type ScoreComponent struct {
	Name  string // temperature, availability, coverage, rounds, response
	Ratio float64
	Known bool
}

// Zone is a configured zone.
type Zone struct {
	ID, Name, Kind string
	// Band is the zone's temperature band, from the alert rules (with the zone's
	// overrides); nil: its readings are shown uncoloured.
	Band *Band `json:",omitempty"`
}

// Condition is an open condition.
type Condition struct {
	Kind, Subject, Zone, Severity string
	Reason                        string // the check's words (English): shown to technicians, and on English pages
	Since                         time.Time
	Value                         float64 // the measured value behind it, when HasValue
	HasValue                      bool    `json:",omitempty"`
}

// Counter is one message counter (source, outcome).
type Counter struct {
	Source, Outcome string
	N               uint64
}

// Sensor is one configured sensor's latest state.
type Sensor struct {
	ID, Zone, ZoneName, ZoneKind, Source string
	LastSeen                             time.Time // zero: never reported
	Interval                             time.Duration
	TemperatureC, HumidityPct            *float64
	BatteryPct                           *float64
	Online                               *bool
	// History is the sensor's temperatures of the last 24 h from the gateway's
	// memory ([History.Series]), oldest first; Raw its last raw message.
	History []Bucket    `json:",omitempty"`
	Raw     *RawMessage `json:",omitempty"`
}

// Age is how long ago the sensor last reported, or -1 if never.
func (s Sensor) Age(now time.Time) time.Duration {
	if s.LastSeen.IsZero() {
		return -1
	}
	return now.Sub(s.LastSeen)
}

// Stale reports whether the sensor never reported or has been silent for more than
// three times its expected interval.
func (s Sensor) Stale(now time.Time) bool {
	a := s.Age(now)
	return a < 0 || (s.Interval > 0 && a > 3*s.Interval)
}

// Camera states.
const (
	CameraHealthy  = "healthy"
	CameraDegraded = "degraded"
	CameraOffline  = "offline"
	CameraUnknown  = "unknown"
)

// Camera is one camera's health, from the camera capability.
type Camera struct {
	ID     string
	Zones  []string
	State  string // one of CameraHealthy, CameraDegraded, CameraOffline, CameraUnknown
	Reason string // why, for people: "fps 0.5 below 2", "no stats for 3m"
	Since  time.Time
	// View is the verdict of the camera's last judged still ("ok", "learning",
	// "dark", "covered", "frozen", "turned_away"); "" when its stills are not
	// judged. ViewReason says why it does not see.
	View       string `json:",omitempty"`
	ViewReason string `json:",omitempty"`
}

// Implausible is a sensor held implausible.
type Implausible struct {
	Sensor, Zone string
	Code         string // no_compressor_cycles, flat, tracks_other_sensor
	Reason       string // the measures, in English
	Since        time.Time
}

// Coverage is camera coverage of one zone kind, from the camera capability.
type Coverage struct {
	ZoneKind string
	Required int     // zones of this kind that must be covered
	Covered  int     // of which covered now
	Now      float64 // covered/required now, 0..1
	Today    float64 // time-weighted ratio since midnight in the centre's time zone, 0..1
}

// Rounds is tonight's night-round progress, from the rounds capability.
type Rounds struct {
	Window string // "22:00-06:00"
	Due    int    // checkpoint slots due so far tonight
	Done   int    // of which checked on time
	Missed int
	Next   time.Time // the next slot's start; zero when outside the window
}

// Alert severities and states.
const (
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
	AlertFiring      = "firing"
	AlertAcked       = "acknowledged"
	AlertResolved    = "resolved"
)

// Alert is one alert, from the alerting capability.
type Alert struct {
	ID       string
	Severity string            // SeverityWarning or SeverityCritical
	State    string            // AlertFiring, AlertAcked or AlertResolved
	Text     string            // what happened, in the centre's language
	Texts    map[string]string `json:",omitempty"` // what happened per language (ru, kk, en); the page shows its own
	Zone     string
	Since    time.Time
	AckedBy  string    `json:",omitempty"`
	AckedAt  time.Time `json:",omitzero"`
}

// Provider supplies snapshots; the gateway implements it. Snapshot is called on
// every page view, every live update and every /metrics scrape, concurrently: it
// must be cheap and safe for concurrent use, and return data the caller may keep.
type Provider interface {
	Snapshot() Snapshot
}

// ErrUnknownAlert is what an [Acker] returns for an alert id it does not know (or
// that is resolved): the page answers 404.
var ErrUnknownAlert = errors.New("unknown alert")

// Acker acknowledges alerts; the alerting capability implements it. by names who
// acknowledged ("status page, 192.0.2.7"). Ack is called from HTTP handlers,
// concurrently; acknowledging an already acknowledged alert is not an error.
type Acker interface {
	Ack(ctx context.Context, id, by string) error
}

// Serve serves h on addr until ctx ends. addr "off" or "" serves nothing. The bound
// address is reported through bound (useful with port 0). Request contexts end
// with ctx, so that live-update streams stop at shutdown.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, bound func(net.Addr)) error {
	if addr == "" || strings.EqualFold(addr, "off") {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("status: listen %s: %w", addr, err)
	}
	if bound != nil {
		bound(ln.Addr())
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		// Writes get their own deadline: the live stream extends it per event.
		WriteTimeout: 0,
		IdleTimeout:  2 * time.Minute,
		BaseContext:  func(net.Listener) context.Context { return ctx },
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("status page", "url", "http://"+ln.Addr().String()+"/")
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("status: %w", err)
	}
}
