//go:build !nodemo

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/saqshy/saqshy/gateway"
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
every 10 seconds. With --influx-url the gateway also writes to that
InfluxDB (e.g. a local InfluxDB 1.8: --influx-url http://127.0.0.1:8086
--influx-bucket saqshy/autogen after CREATE DATABASE saqshy). Ctrl-C stops it.
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
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	log := newLogger(stderr, slog.LevelInfo, false)
	setPahoLoggers(log)
	if err := runDemo(ctx, log, stdout, demoOptions{
		influxURL: *influxURL, bucket: *bucket, org: *org, period: *period, statsEvery: *statsEvery, keep: *keep, listen: *listen, realClock: *realClock,
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
}

func runDemo(ctx context.Context, log *slog.Logger, stdout io.Writer, o demoOptions) error {
	dir, err := os.MkdirTemp("", "saqshy-demo-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}

	// Embedded broker on a free loopback port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	broker := mochi.New(&mochi.Options{InlineClient: true, Logger: quiet.With("component", "broker")})
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
	cfg.ApplyDefaults()
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
	g, err := gateway.New(cfg, gateway.Options{Logger: log, StatsEvery: o.statsEvery, Clock: clock})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo: broker %s, %d zones, %d sensors (%v), %d Frigate cameras, spool %s\n",
		url, len(cfg.Zones), len(cfg.Sensors), sim.Formats, len(cfg.Cameras), dir)
	if o.influxURL == "" {
		fmt.Fprintln(stdout, "demo: no --influx-url: readings stay in the spool")
	}
	fmt.Fprintf(stdout, "demo: at %s and every %s after, the kitchen chiller warms to %.0f °C for %s: watch its alert fire on the status page, acknowledge it, and see it resolve\n",
		incident.First.In(cfg.Centre.Location).Format("15:04"), incident.Every, incident.Peak, incident.Warm)
	fmt.Fprintln(stdout, "demo: press Ctrl-C to stop")

	gwDone := make(chan error, 1)
	go func() { gwDone <- g.Run(ctx) }()
	go printCoverage(ctx, stdout, g, o.statsEvery)

	pub, err := sim.Connect(url, "saqshy-demo-sim")
	if err != nil {
		return err
	}
	defer pub.Close()
	simDone := make(chan error, 1)
	go func() { simDone <- centre.Run(ctx, pub, o.period) }()
	go func() {
		if err := nightRounds.Run(ctx, pub); err != nil {
			log.Error("night-round simulator", "err", err)
		}
	}()

	select {
	case err := <-simDone:
		if err != nil {
			return err
		}
		return <-gwDone
	case err := <-gwDone:
		return err
	}
}
