package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/doctor"
)

const doctorHelp = `Usage: saqshy-gateway doctor [--config FILE] [--since 10m] [--listen 30s]

Checks everything the gateway needs and prints a checklist in plain words, with
✓ for what works, ✗ for what must be fixed (and how), ! for what is worth a look:

  - the config is valid;
  - the MQTT broker is reachable and accepts the user and password;
  - every configured sensor and camera has reported in the last --since, by name
    and zone (doctor listens on their topics for up to --listen; retained
    messages count), and which checkpoints were scanned;
  - InfluxDB is reachable, takes the token, and a test point written to the
    bucket (measurement "doctor") can be read back;
  - the system clock is synchronised and the Pi's time zone is the centre's;
  - the spool directory is writable and has free space;
  - the 1-Wire and I2C buses are there when probes are wired to the Pi;
  - the ministry registry: the bundle in force, whether the config weakens it,
    and what registry.url serves now (verified, not installed).

Run it as the saqshy user (sudo -u saqshy saqshy-gateway doctor) so that it reads
the same secret files and writes where the service does. It uses its own MQTT
client id, so it is safe to run next to the running gateway.

Exit status: 0 when everything needed passes, 1 when something marked ✗ must be
fixed, 2 on a usage error.
`

func doctorCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("doctor", doctorHelp, stderr)
	cfgPath := fs.String("config", "/etc/saqshy/centre.yaml", "centre config `file`")
	since := fs.Duration("since", 10*time.Minute, "a sensor, camera or checkpoint must have reported within this `duration`")
	listenFor := fs.Duration("listen", 30*time.Second, "listen on the broker at most this `long` for devices not yet heard")
	assumeSynced := fs.Bool("assume-clock-synced", false, "trust the system clock even if the kernel reports it unsynchronised (containers)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "saqshy-gateway doctor: unexpected argument %q (the config goes after --config)\n", fs.Arg(0))
		return 2
	}
	if *since <= 0 || *listenFor <= 0 {
		fmt.Fprintln(stderr, "saqshy-gateway doctor: --since and --listen must be positive")
		return 2
	}
	var clock doctor.Clock = &gateway.SystemClock{}
	if *assumeSynced {
		clock = gateway.FixedSync(true)
	}
	r := doctor.Run(ctx, *cfgPath, doctor.Options{
		Since: *since, Listen: *listenFor, Clock: clock, Progress: stderr,
	})
	if _, err := r.WriteTo(stdout); err != nil {
		return 1
	}
	if !r.OK() {
		return 1
	}
	return 0
}
