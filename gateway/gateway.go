package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/saqshy/saqshy/gateway/alert/alertcheck"
	"github.com/saqshy/saqshy/gateway/camera"
	"github.com/saqshy/saqshy/gateway/camera/sight"
	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/deadband"
	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/localsensor"
	"github.com/saqshy/saqshy/gateway/mqttsrc"
	"github.com/saqshy/saqshy/gateway/plausibility/plauscheck"
	"github.com/saqshy/saqshy/gateway/readings"
	"github.com/saqshy/saqshy/gateway/rounds"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/spool"
	"github.com/saqshy/saqshy/gateway/status"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Options are the gateway's run-time dependencies; the zero value is usable.
type Options struct {
	Logger *slog.Logger // default: discard
	Clock  Clock        // default: &SystemClock{}
	// StatsEvery is the period of the one-line progress log; 0 disables it.
	StatsEvery time.Duration
	// InfluxFlush spaces the InfluxDB writer's POSTs of live data (influxsink's
	// FlushEvery); 0 posts each batch as it arrives.
	InfluxFlush time.Duration
	// Secrets, when set, replaces reading password and token files (tests, demo).
	MQTTPassword, InfluxToken string
	// Local gives the drivers of sensors wired to the Pi their buses (opened by the
	// caller after periph's host.Init) and the 1-Wire sysfs root.
	Local localsensor.Deps
	// SpoolOnly says the data is meant to stay in the spool (the demo without an
	// InfluxDB): no influx.url is then no reason to warn.
	SpoolOnly bool
	// RegistryClient fetches registry bundles (default registry.HTTPClient(nil):
	// HTTPS verified against the system's roots).
	RegistryClient *http.Client

	checks []check.Check // extra checks (tests of the check wiring)
	// inMemory keeps the checks' state in memory (a Replay): no state files.
	inMemory bool
	// sightEvery: how often camera stills are judged (tests); 0 is the default.
	sightEvery time.Duration
	// shellyRetry: how often Shelly devices are asked again for their BLU sensors
	// until they answer (tests); 0 is the default.
	shellyRetry time.Duration
	// historyEvery: how often the status page's charts are saved (tests); 0 is
	// historySaveEvery.
	historyEvery time.Duration
}

// Gateway is one centre's gateway.
type Gateway struct {
	cfg      *config.Config // the effective config: the local one under the registry's settings
	ministry *ministry      // the registry in force
	opt      Options
	log      *slog.Logger
	readings *readings.Path          // MQTT and wired probes → spool
	latest   *sensorStates           // each sensor's latest reading, for the status page
	conds    *check.Conditions       // the open conditions, heard by the alerts
	checks   []check.Check           // in the order built by wireChecks
	bands    map[string]*status.Band // by zone, for the status page
	alive    atomic.Int64            // Unix ns, by the clock, of the ticker's last run (Alive)
	started  time.Time               // by the clock (Uptime)
	replay   bool                    // run by a Replay: the past's messages came as if connected

	// The checks by kind, nil when the centre configures none (see wireChecks).
	rounds *rounds.Check
	camera *camera.Check
	alerts *alertcheck.Check
	score  *score.Check
	sight  *sight.Watcher
	plaus  *plauscheck.Check

	mu         sync.Mutex
	spool      *spool.Spool
	src        *mqttsrc.Source
	writer     *influxsink.Writer
	statusAddr net.Addr
}

// New checks cfg and prepares a gateway; Run starts it.
func New(cfg *config.Config, opt Options) (*Gateway, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = &SystemClock{}
	}
	cfg, m := openRegistry(cfg, opt.Clock.Now, opt.Logger.With("component", "registry"))
	g := &Gateway{cfg: cfg, ministry: m, opt: opt, log: opt.Logger}
	g.latest = newSensorStates(cfg)
	g.restoreHistory()
	g.bands = alertcheck.ZoneBands(cfg)
	g.conds = check.NewConditions(opt.Logger.With("component", "conditions"))
	if err := g.wireChecks(); err != nil {
		return nil, err
	}
	rd, err := readings.New(cfg, readings.Options{
		Clock: opt.Clock, Logger: opt.Logger.With("component", "decode"),
		Checks: g.checks, Latest: g.latest, Conditions: g.conds,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.readings = rd
	// Shelly devices with BLU sensors are asked what each sensor measures.
	if a := rd.ShellyAsker(publisher{g}, opt.Logger.With("component", "shelly_bthome")); a != nil {
		if opt.shellyRetry > 0 {
			a.Retry = opt.shellyRetry
		}
		g.checks = append(g.checks, a)
	}
	return g, nil
}

// Topics returns the MQTT topic filters the gateway subscribes to.
func (g *Gateway) Topics() []string { return g.readings.Topics() }

// Run runs the gateway until ctx is cancelled, then shuts down cleanly: the MQTT
// source stops first (unacknowledged messages stay with the broker), then the writer
// (and the status page's charts are saved), then the spool is closed. It returns nil after a clean shutdown.
func (g *Gateway) Run(ctx context.Context) error {
	g.mu.Lock()
	g.started = g.opt.Clock.Now()
	g.mu.Unlock()
	sp, err := spool.Open(g.cfg.Spool.Dir, spool.Options{MaxBytes: int64(g.cfg.Spool.MaxBytes), Logger: g.log})
	if err != nil {
		return fmt.Errorf("gateway: open spool: %w", err)
	}
	defer func() {
		if err := sp.Close(); err != nil {
			g.log.Error("closing spool", "err", err)
		}
	}()

	mqttOpt, err := g.mqttOptions()
	if err != nil {
		return err
	}
	// Slowly changing values reach the spool and the uplink only when they change
	// beyond a deadband, or now and then; the checks still observe every event.
	thin := deadband.New(sp, deadband.Default(), g.opt.Clock.Now)
	src := mqttsrc.New(mqttOpt, func(ctx context.Context, msgs []mqttsrc.Message) error {
		return g.readings.Batch(ctx, thin, msgs)
	})
	var writer *influxsink.Writer
	if g.cfg.Influx.URL != "" {
		token := g.opt.InfluxToken
		if token == "" && (g.cfg.Influx.TokenFile != "" || os.Getenv(config.EnvInfluxToken) != "") {
			if token, err = g.cfg.InfluxToken(); err != nil {
				return fmt.Errorf("gateway: %w", err)
			}
		}
		client, keyID, err := g.influxClient(token)
		if err != nil {
			return err
		}
		defer client.Close()
		writer = influxsink.New(sp, client, influxsink.Options{
			Centre:     g.cfg.Centre.ID,
			BatchSize:  g.cfg.Influx.BatchSize,
			Timeout:    g.cfg.Influx.Timeout.Std(),
			DeadLetter: filepath.Join(g.cfg.Spool.Dir, "deadletter.lp"),
			KeyID:      keyID,
			FlushEvery: g.opt.InfluxFlush,
			Logger:     g.log,
		})
	} else if g.opt.SpoolOnly {
		g.log.Info("no influx.url: data stays in the spool")
	} else {
		g.log.Warn("no influx.url configured: data stays in the spool until one is set")
	}
	g.mu.Lock()
	g.spool, g.src, g.writer = sp, src, writer
	g.mu.Unlock()

	// Everything that can fail is set up before the first goroutine starts: a
	// return after that point would leave them running while the spool closes.
	poller, err := g.localPoller()
	if err != nil {
		return err
	}
	srcCtx, stopSrc := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSrc()
	outCtx, stopOut := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOut()
	var srcWG, outWG sync.WaitGroup
	errc := make(chan error, 3+len(g.checks)) // every sender can send once without blocking
	srcWG.Go(func() {
		if err := src.Run(srcCtx); err != nil {
			errc <- fmt.Errorf("gateway: mqtt: %w", err)
		}
	})
	if writer != nil {
		outWG.Go(func() {
			if err := writer.Run(outCtx); err != nil {
				errc <- fmt.Errorf("gateway: influx: %w", err)
			}
		})
	}
	if g.opt.StatsEvery > 0 {
		outWG.Go(func() { g.logStats(outCtx) })
	}
	// The charts are saved last after the source and the checks stop (outCtx ends
	// after them), with every reading they saw.
	outWG.Go(func() { g.keepHistory(outCtx) })
	if g.ministry.store != nil && g.cfg.Registry.URL != "" {
		outWG.Go(func() { g.fetchRegistry(outCtx) })
	}
	ticks := check.Ticks{Checks: g.checks, Clock: g.opt.Clock, Log: g.log,
		Alive: func(t time.Time) { g.alive.Store(t.UnixNano()) }}
	srcWG.Go(func() { ticks.Run(srcCtx, thin) })
	for _, c := range g.checks {
		if r, ok := c.(check.Runner); ok {
			srcWG.Go(func() {
				if err := r.Run(srcCtx); err != nil && srcCtx.Err() == nil {
					errc <- fmt.Errorf("gateway: %s: %w", c.Name(), err)
				}
			})
		}
	}
	if poller != nil {
		srcWG.Go(func() {
			emit := func(ctx context.Context, samples []telemetry.Sample) error {
				return g.readings.Local(ctx, thin, samples)
			}
			if err := poller.Run(srcCtx, emit); err != nil {
				errc <- fmt.Errorf("gateway: local sensors: %w", err)
			}
		})
	}
	outWG.Go(func() {
		h, err := g.statusHandler()
		if err == nil {
			err = status.Serve(outCtx, g.cfg.Status.Listen, h, g.log, func(a net.Addr) {
				g.mu.Lock()
				g.statusAddr = a
				g.mu.Unlock()
			})
		}
		if err != nil {
			g.log.Error("status page unavailable", "err", err)
		}
	})
	g.log.Info("gateway running", "centre", g.cfg.Centre.ID, "registry", g.ministry.version, "sensors", len(g.cfg.Sensors),
		"topics", len(g.readings.Topics()), "spool", g.cfg.Spool.Dir, "influx", g.cfg.Influx.URL)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	stopSrc()
	srcWG.Wait()
	stopOut()
	outWG.Wait()
	g.log.Info("gateway stopped", "stats", g.Stats().String())
	return runErr
}

// localPoller returns the poller of the sensors wired to the Pi, or nil if none are
// configured. A probe that cannot be opened is logged and skipped; it never stops
// the gateway.
func (g *Gateway) localPoller() (*localsensor.Poller, error) {
	targets, err := localsensor.Targets(g.cfg.Sensors, g.opt.Local)
	if err != nil {
		g.log.Error("some sensors wired to the Pi cannot be read", "err", err)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	p, err := localsensor.NewPoller(targets, localsensor.PollerOptions{
		Jitter:  0.1,
		OnError: g.readings.LocalError,
		Now:     g.opt.Clock.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: local sensors: %w", err)
	}
	return p, nil
}

func (g *Gateway) mqttOptions() (mqttsrc.Options, error) {
	c := g.cfg.MQTT
	pass := g.opt.MQTTPassword
	if pass == "" && (c.PasswordFile != "" || os.Getenv(config.EnvMQTTPassword) != "") {
		var err error
		if pass, err = g.cfg.MQTTPassword(); err != nil {
			return mqttsrc.Options{}, fmt.Errorf("gateway: %w", err)
		}
	}
	var tlsCfg *tls.Config
	if c.CAFile != "" || c.CertFile != "" {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return mqttsrc.Options{}, fmt.Errorf("gateway: mqtt.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return mqttsrc.Options{}, fmt.Errorf("gateway: mqtt.ca_file %s: no PEM certificates", c.CAFile)
			}
			tlsCfg.RootCAs = pool
		}
		if c.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
			if err != nil {
				return mqttsrc.Options{}, fmt.Errorf("gateway: mqtt.cert_file/key_file: %w", err)
			}
			tlsCfg.Certificates = []tls.Certificate{cert}
		}
	}
	prefix := "saqshy/" + g.cfg.Centre.ID + "/gateway/"
	return mqttsrc.Options{
		URL: c.URL, ClientID: c.ClientID, Username: c.Username, Password: pass, TLS: tlsCfg,
		Topics:         g.readings.Topics(),
		MaxInflight:    c.MaxInflight,
		KeepAlive:      c.KeepAlive.Std(),
		SilenceTimeout: c.SilenceTimeout.Std(),
		HeartbeatTopic: prefix + "heartbeat",
		StatusTopic:    prefix + "status",
		Logger:         g.log,
		Now:            g.opt.Clock.Now,
	}, nil
}

// Stats is a snapshot of the gateway's state and counters.
type Stats struct {
	Uptime        time.Duration
	MQTTConnected bool
	Received      uint64 // MQTT messages received
	Acked         uint64 // MQTT messages acknowledged after their events were durable
	Rejected      uint64 // messages or samples rejected (see readings.Counters)
	Spooled       uint64 // events appended to the spool
	SpoolBacklog  int64  // events not yet in InfluxDB
	SpoolBytes    int64
	SpoolDropped  uint64    // events dropped because the spool was full
	SpoolOldest   time.Time // time of the oldest event not yet in InfluxDB; zero if none
	Written       uint64    // points InfluxDB accepted
	WriterBatches uint64    // write requests InfluxDB accepted
	WriterRetries uint64    // write requests that failed and were retried
	DeadLettered  uint64
	InfluxError   string // last write error; "" when healthy
	InfluxRefused string // the ingest's last refusal with the fix (influxsink.Stats.RefusedWhy)
	ClockSynced   bool
	Counters      map[Key]uint64
	Spool         spool.Stats // the spool's own figures (disk, losses, write error)
	MQTTProblem   string      // what keeps MQTT from delivering, with the fix (mqttsrc.Stats.Problem)
}

// String is the one-line progress summary.
func (s Stats) String() string {
	influx := "ok"
	if s.InfluxError != "" {
		influx = "failing"
	}
	mqtt := "up"
	if !s.MQTTConnected {
		mqtt = "down"
	}
	return fmt.Sprintf("mqtt=%s received=%d acked=%d rejected=%d spooled=%d backlog=%d written=%d influx=%s clock_synced=%t",
		mqtt, s.Received, s.Acked, s.Rejected, s.Spooled, s.SpoolBacklog, s.Written, influx, s.ClockSynced)
}

// Stats returns a snapshot. Safe for concurrent use.
func (g *Gateway) Stats() Stats {
	g.mu.Lock()
	sp, src, w, started := g.spool, g.src, g.writer, g.started
	g.mu.Unlock()
	counters := g.readings.Counters()
	st := Stats{Rejected: counters.Rejected(), Counters: map[Key]uint64{}, ClockSynced: g.opt.Clock.Synced()}
	for k, n := range counters.Snapshot() {
		st.Counters[Key(k)] = n
	}
	if !started.IsZero() {
		st.Uptime = g.opt.Clock.Now().Sub(started)
	}
	st.MQTTConnected = g.replay
	if src != nil {
		ms := src.Stats()
		st.MQTTConnected, st.Received, st.Acked, st.MQTTProblem = ms.Connected, ms.Received, ms.Acked, ms.Problem
	}
	if sp != nil {
		ss := sp.Stats()
		st.Spooled, st.SpoolBacklog, st.SpoolBytes, st.SpoolDropped = ss.Appended, ss.Backlog, ss.Bytes, ss.Dropped
		st.SpoolOldest, st.Spool = ss.Oldest, ss
	}
	if w != nil {
		ws := w.Stats()
		st.Written, st.DeadLettered, st.InfluxError = ws.Points, ws.DeadLettered, ws.LastError
		st.InfluxRefused = ws.RefusedWhy
		st.WriterBatches, st.WriterRetries = ws.Batches, ws.Retries
	}
	return st
}

func (g *Gateway) logStats(ctx context.Context) {
	t := time.NewTicker(g.opt.StatsEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.log.Info("progress", "stats", g.Stats().String())
		}
	}
}

// Key names one counter of the reading path (Stats.Counters): a source ("tasmota",
// a check's name, "unknown") and an outcome ("decoded", "ignored", a reject reason).
type Key struct{ Source, Outcome string }

// Alive returns when, by the gateway's clock, its ticker last ran (zero before Run
// has started it): the liveness a service manager's watchdog can ask for. A gateway
// whose ticker stops — wedged on a lock or a dead disk — stops being alive.
func (g *Gateway) Alive() time.Time {
	if ns := g.alive.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}
