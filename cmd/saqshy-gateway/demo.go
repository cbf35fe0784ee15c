//go:build !nodemo

package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/sim"
)

const demoHelp = `Usage: saqshy-gateway demo [flags]

Runs everything on this machine with no setup: an embedded MQTT broker on a free
loopback port, a simulated centre (about 20 zones with sensors speaking every
supported format: Zigbee2MQTT, Tasmota, ESPHome, Shelly gen1 and gen2, Saqshy),
11 Frigate cameras, two of them flaky, and the gateway with its spool in a
temporary directory. Every 10 minutes, from the next whole minute, the kitchen
chiller warms to about 10 °C for 4 minutes (a demo limit: over 8 °C for 1 minute
is a warning): its alert fires, shows on the status page with an Acknowledge
button, and resolves when the chiller cools. It prints a line of counts and a line of camera coverage
every 10 seconds.

With an influxd at hand (on PATH, or in the source tree's .tools/bin, which
` + "`make tools`" + ` builds), the demo is the whole system: a private InfluxDB 1.8, the
verifying ingest (the gateway signs every write with a key made at start), and
saqshy-monitor with the ministry registry and the rating job, showing the demo
centre beside a few simulated centres with days of history (and simulated
ratings), which go on sending live through the ingest, each with its own key; one
of their gateways is simulated silent. The demo centre's own last days are
replayed through the gateway's code at start and sent through the ingest, so that
its rating and charts have a past: its registry entry gives the replay's start as
the gateway's installation, from which the ministry rates it, as the gateway does. Alerts e-mailed to the
ministry's duty officer reach a demo mailbox on loopback and are printed. saqshy-ingest and
saqshy-monitor are taken from beside this program or PATH, else built from the
source tree once. With --influx-url the gateway writes to that InfluxDB instead
(e.g. --influx-url http://127.0.0.1:8086 --influx-bucket saqshy/autogen after
CREATE DATABASE saqshy). Ctrl-C stops it.
`

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", demoHelp, stderr)
	influxURL := fs.String("influx-url", "", "InfluxDB `url` to write to (default: spool only)")
	bucket := fs.String("influx-bucket", "saqshy/autogen", "InfluxDB bucket (for 1.8: database/retention-policy)")
	org := fs.String("influx-org", "", "InfluxDB 2.x organisation")
	period := fs.Duration("period", 5*time.Second, "how often each simulated device reports")
	statsEvery := fs.Duration("stats-every", 10*time.Second, "how often to print a line of counts")
	keep := fs.Bool("keep", false, "keep the temporary spool directory at exit")
	realClock := fs.Bool("real-clock", false, "judge rounds, coverage and the score only while the system clock is synchronised (as run does); by default the demo takes it as synchronised")
	listen := fs.String("listen", "127.0.0.1:8080", "status page address (host:port, port 0 for any free port, or off)")
	central := fs.Bool("central", true, "with an influxd at hand (PATH or .tools/bin) and no --influx-url, also run a private InfluxDB, the verifying ingest and the monitor with its registry and rating job")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	log := newLogger(stderr, slog.LevelInfo, false)
	quiet := new(atomic.Bool)
	setPahoLoggersQuiet(log, quiet)
	if err := runDemo(ctx, log, stdout, demoOptions{stopping: quiet,
		influxURL: *influxURL, bucket: *bucket, org: *org, period: *period, statsEvery: *statsEvery, keep: *keep, listen: *listen, realClock: *realClock, central: *central,
	}); err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway demo: %v\n", err)
		return 1
	}
	return 0
}

type demoOptions struct {
	influxURL, bucket, org string
	listen                 string
	period, statsEvery     time.Duration
	keep, realClock        bool
	central                bool         // with an influxd at hand, run the ministry side too
	stopping               *atomic.Bool // set once the demo stops (paho's errors are then routine)
}

func runDemo(ctx context.Context, log *slog.Logger, stdout io.Writer, o demoOptions) error {
	dir, err := os.MkdirTemp("", "saqshy-demo-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}

	// Embedded broker on a free loopback port. Its log keeps only errors: a client
	// that goes away at the stop is no news.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	quiet := log.Handler()
	broker := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(levelFloor{quiet, slog.LevelError}).With("component", "broker")})
	if err := broker.AddHook(new(auth.AllowHook), nil); err != nil {
		return err
	}
	if err := broker.AddListener(listeners.NewNet("demo", ln)); err != nil {
		return err
	}
	if err := broker.Serve(); err != nil {
		return fmt.Errorf("broker: %w", err)
	}
	defer broker.Close()
	url := "tcp://" + ln.Addr().String()

	centre := sim.NewCentre("demo-centre", uint64(time.Now().UnixNano()))
	cfg := centre.Config
	nightRounds := sim.AddRounds(centre, time.Now(), time.Hour, 10*time.Minute) // a one-hour "night" from in two minutes
	incident, err := sim.AddIncident(centre, "food-fridge", time.Now(), 10*time.Minute, 4*time.Minute, 8, time.Minute)
	if err != nil {
		return err
	}
	cfg.MQTT.URL = url
	cfg.MQTT.ClientID = "saqshy-demo-centre"
	cfg.Spool.Dir = dir
	cfg.Status.Listen = o.listen
	cfg.Influx.URL, cfg.Influx.Bucket, cfg.Influx.Org = o.influxURL, o.bucket, o.org

	// The ministry side, when an influxd is at hand and no --influx-url is given.
	var ctr *central
	var gwKey ed25519.PublicKey
	var installed time.Time // with the ministry side: the replayed past's start
	root := moduleRoot()
	influxd := ""
	if o.influxURL == "" && o.central {
		influxd = findInfluxd(root)
	}
	if influxd != "" {
		priv, err := chain.GenerateKey(filepath.Join(dir, "gateway.key"))
		if err != nil {
			return err
		}
		gwKey = priv.Public().(ed25519.PublicKey)
		cfg.Influx.Sign.KeyFile = filepath.Join(dir, "gateway.key")
		installed = seedFrom(time.Now())
	}
	cfg.ApplyDefaults()
	entry, bundle, err := enrolDemoKey(cfg, dir, gwKey, installed)
	if err != nil {
		return err
	}
	mail, err := startMailbox(cfg, stdout)
	if err != nil {
		return err
	}
	defer mail.Close()
	if influxd != "" {
		seed := func(ctx context.Context, ingestURL string) (int, error) {
			cfg.Influx.URL, cfg.Influx.Bucket, cfg.Influx.Org = ingestURL, demoBucket, ""
			cfg.ApplyDefaults()
			if err := cfg.Validate(); err != nil {
				return 0, fmt.Errorf("simulated config: %w", err)
			}
			return seedPast(ctx, cfg, centre, nightRounds, ingestURL, demoBucket, installed, time.Now())
		}
		ctr, err = startCentral(ctx, log, stdout, dir, influxd, root, cfg.Centre.ID, entry.Centre.Name, cfg.Centre.Timezone, gwKey, bundle, seed)
		if err != nil {
			return fmt.Errorf("the ministry side: %w", err)
		}
		defer ctr.Stop()
		cfg.Influx.URL, cfg.Influx.Bucket, cfg.Influx.Org = ctr.IngestURL, demoBucket, ""
		cfg.ApplyDefaults()
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("simulated config: %w", err)
	}
	// The simulation's clock is taken as synchronised, so that coverage, night
	// rounds and the score are judged on any machine (a container or a laptop may
	// not report NTP); `run` asks the kernel.
	var clock gateway.Clock = gateway.FixedSync(true)
	if o.realClock {
		clock = &gateway.SystemClock{}
	}
	g, err := gateway.New(cfg, gateway.Options{Logger: log, StatsEvery: o.statsEvery, Clock: clock, SpoolOnly: cfg.Influx.URL == ""})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo: broker %s, %d zones, %d sensors (%v), %d Frigate cameras, spool %s\n",
		url, len(cfg.Zones), len(cfg.Sensors), sim.Formats, len(cfg.Cameras), dir)
	switch {
	case ctr != nil:
	case o.influxURL != "":
		fmt.Fprintf(stdout, "demo: the gateway writes to %s\n", o.influxURL)
	case !o.central:
		fmt.Fprintln(stdout, "demo: --central=false: readings stay in the spool")
	default:
		fmt.Fprintln(stdout, "demo: no influxd found (PATH, .tools/bin): readings stay in the spool; `make tools` builds InfluxDB 1.8 for the whole system (InfluxDB, ingest, monitor, rating)")
	}
	fmt.Fprintf(stdout, "demo: at %s and every %s after, the kitchen chiller warms to %.0f °C for %s: watch its alert fire on the status page, acknowledge it, and see it resolve\n",
		incident.First.In(cfg.Centre.Location).Format("15:04"), incident.Every, incident.Peak, incident.Warm)
	fmt.Fprintf(stdout, "demo: the centre runs under registry v%d, signed with the DEMO ministry key (firmware-config/registry/demo-ministry.key; never pin it on a real gateway): see \"registry v%d\" on the status page\n",
		entry.Version, entry.Version)

	gwCtx, gwStop := context.WithCancel(context.WithoutCancel(ctx))
	defer gwStop()
	gwDone := make(chan error, 1)
	go func() { gwDone <- g.Run(gwCtx) }()
	go printCoverage(ctx, stdout, g, o.statsEvery)
	statusURL := "off"
	if o.listen != "off" {
		for i := 0; i < 100 && g.StatusAddr() == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if a := g.StatusAddr(); a != nil {
			statusURL = "http://" + a.String() + "/"
		}
	}
	fmt.Fprintf(stdout, "demo: status page %s\n", statusURL)
	if ctr != nil {
		fmt.Fprintf(stdout, "demo: monitor %s (login %s / %s), InfluxDB %s (database %s), ingest %s\n",
			ctr.MonitorURL, demoUser, ctr.Password, ctr.InfluxURL, demoDatabase, ctr.IngestURL)
		fmt.Fprintf(stdout, "demo: the whole system: the gateway signs every write, the ingest verifies it into InfluxDB, the monitor shows %d centres: the demo centre, its last %d days replayed through the gateway's code and the ingest, rated by the ministry from its registered installation; %d simulated ones with %d days of history (their ratings simulated too) written straight to InfluxDB, going on live through the ingest with keys of their own (one gateway simulated silent)\n",
			len(ctr.Fleet)+1, demoOwnDays, len(ctr.Fleet), demoFleetDays)
	}
	fmt.Fprintln(stdout, "demo: press Ctrl-C to stop")

	pub, err := sim.Connect(url, "saqshy-demo-sim")
	if err != nil {
		return err
	}
	simCtx, simStop := context.WithCancel(ctx)
	defer simStop()
	var simWG sync.WaitGroup
	simDone := make(chan error, 1)
	simWG.Add(2)
	go func() { defer simWG.Done(); simDone <- centre.Run(simCtx, pub, o.period) }()
	go func() {
		defer simWG.Done()
		if err := nightRounds.Run(simCtx, pub); err != nil && simCtx.Err() == nil {
			log.Error("night-round simulator", "err", err)
		}
	}()

	// The stop, in order: the simulator, then the gateway (it drains and closes
	// its MQTT session), then the broker and the ministry side (deferred).
	var runErr error
	select {
	case runErr = <-simDone:
		simDone <- runErr
	case runErr = <-gwDone:
		gwDone <- runErr
	case <-ctx.Done():
	}
	if o.stopping != nil {
		o.stopping.Store(true)
	}
	simStop()
	simWG.Wait()
	pub.Close()
	gwStop()
	if err := <-gwDone; err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	if ctr != nil {
		ctr.Stop()
	}
	st := g.Stats()
	log.Info("demo stopped cleanly", "received", st.Received, "written", st.Written)
	return nil
}

// levelFloor is a slog handler that drops records below min.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(as), h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(name), h.min}
}
