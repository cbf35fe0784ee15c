// Command saqshy-sim simulates a care centre's sensors against an MQTT broker, with
// the exact payloads of Zigbee2MQTT, Tasmota, ESPHome, Shelly (gen1 and gen2) and
// Saqshy firmware — for trying a gateway, a broker or a dashboard without hardware.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/saqshy/saqshy/cmd/internal/cli"

	"go.yaml.in/yaml/v3"

	"github.com/saqshy/saqshy/gateway/sim"
)

const help = `Usage: saqshy-sim [flags]

Publishes a simulated centre's sensor readings to an MQTT broker every --period,
with retained availability messages first. The demo centre has about 20 zones (living
rooms, treatment room and medicine fridge, kitchen fridge and freezer, boiler ...),
one sensor each, speaking every supported format in turn. --fleet N instead makes N
sensors of each of the five network sources. "saqshy-sim history" writes 30 days of
a fleet of centres straight to InfluxDB (see saqshy-sim history -h).

  saqshy-sim --print-config > centre.yaml   # the matching centre config
  saqshy-gateway run --config centre.yaml   # in another terminal
  saqshy-sim --mqtt tcp://127.0.0.1:1883

Flags:
`

func main() {
	cli.Main(func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "history" {
		return runHistory(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("saqshy-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, help); fs.PrintDefaults() }
	url := fs.String("mqtt", "tcp://127.0.0.1:1883", "broker `url`")
	centreID := fs.String("centre", "sim-centre", "centre id (used in topics and the config)")
	period := fs.Duration("period", 10*time.Second, "how often each device reports")
	fleet := fs.Int("fleet", 0, "if > 0, `N` sensors per source instead of the demo centre")
	seed := fs.Uint64("seed", 1, "random seed (same seed, same centre and readings)")
	printConfig := fs.Bool("print-config", false, "print the simulated centre's config as YAML and exit")
	if code, ok := cli.ParseFlags(fs, args); !ok {
		return code
	}
	var c *sim.Centre
	if *fleet > 0 {
		c = sim.NewFleet(*centreID, *fleet, *seed)
	} else {
		c = sim.NewCentre(*centreID, *seed)
	}
	c.Config.MQTT.URL = *url
	c.Config.ApplyDefaults()
	if *printConfig {
		c.Config.Spool.Dir = userSpoolDir()
		b, err := yaml.Marshal(c.Config)
		if err != nil {
			fmt.Fprintf(stderr, "saqshy-sim: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "# Simulated centre %q: %d zones, %d sensors (saqshy-sim --print-config)\n", *centreID, len(c.Config.Zones), len(c.Config.Sensors))
		_, _ = stdout.Write(b)
		return 0
	}
	pub, err := sim.Connect(*url, "saqshy-sim-"+*centreID)
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-sim: %v\n", err)
		return 1
	}
	defer pub.Close()
	fmt.Fprintf(stdout, "saqshy-sim: %d devices publishing to %s every %v; Ctrl-C stops\n", len(c.Devices), sim.RedactURL(*url), *period)
	if err := c.Run(ctx, pub, *period); err != nil {
		fmt.Fprintf(stderr, "saqshy-sim: %v\n", err)
		return 1
	}
	return 0
}

// userSpoolDir is the spool directory --print-config writes: one the user running
// the simulator can create, so that the README's no-hardware path works without
// root ($XDG_STATE_HOME/saqshy/spool, else ~/.local/state/saqshy/spool, else
// ./saqshy-spool). An installed gateway uses /var/lib/saqshy/spool.
func userSpoolDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "saqshy", "spool")
	}
	if h, err := os.UserHomeDir(); err == nil && filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "state", "saqshy", "spool")
	}
	return "saqshy-spool"
}
