// Command saqshy-gateway is the Saqshy gateway for one care centre: it reads the
// centre's sensors over MQTT, keeps every reading in a crash-safe spool and streams
// it to InfluxDB. It also carries the technician's commands.
//
// Run `saqshy-gateway help` for the commands.
package main

import (
	"github.com/saqshy/saqshy/cmd/internal/cli"

	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sync/atomic"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

const usage = `saqshy-gateway — safety-monitoring gateway for a social-care centre.

Usage:
  saqshy-gateway <command> [flags]

Commands:
  run --config FILE        run the gateway (what the systemd unit starts)
  check-config FILE        validate a centre config; prints a summary, or every
                           error with its line and field, and exits 1; with a
                           registry bundle in force, also every local setting
                           that weakens it
  registry install BUNDLE  install the ministry's registry bundle from a file
  registry show            print the registry bundle in force (or "unrated")
  doctor --config FILE     check config, broker, sensors, cameras, InfluxDB, clock,
                           spool and buses; prints ✓/✗ and how to fix each ✗
  discover --mqtt URL      list the devices and cameras publishing to a broker, by
                           format, and print a sensors:/cameras: block to paste
  score --config FILE --from DATE --to DATE
                           print the centre's daily safety scores and their
                           components from InfluxDB (csv or json), for the rating
  deadletter replay --config FILE
                           send the dead-letter file (points InfluxDB refused)
                           to InfluxDB again once the cause is fixed
  sensors                  list the probes wired to this Pi (1-Wire, I2C) with a
                           reading each and the config line to paste
  demo                     run a simulated centre on an embedded broker, with
                           the gateway and its spool in a temporary directory
  example-config           print a complete, commented centre config
  hash-password            read a password on stdin, print the bcrypt hash for
                           status.password_file (the status page's login)
  keygen [--key PATH]      make the gateway's signing key (rated centres); prints
                           the public key and fingerprint for the registry
  version                  print the version and build information
  help [command]           show help

Run 'saqshy-gateway <command> --help' for a command's flags.
`

type command struct {
	name string
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", runCmd},
		{"check-config", checkConfigCmd},
		{"doctor", doctorCmd},
		{"discover", discoverCmd},
		{"demo", demoCmd},
		{"example-config", exampleConfigCmd},
		{"hash-password", hashPasswordCmd},
		{"keygen", keygenCmd},
		{"sensors", sensorsCmd},
		{"score", scoreCmd},
		{"deadletter", deadletterCmd},
		{"registry", registryCmd},
		{"version", versionCmd},
	}
}

func main() {
	cli.Main(func(ctx context.Context) int { return dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Dispatch("saqshy-gateway", usage, args, stdout, stderr, func(name string, args []string) (int, bool) {
		for _, c := range commands() {
			if c.name == name {
				return c.run(ctx, args, stdout, stderr), true
			}
		}
		return 0, false
	})
}

// newFlagSet returns a flag set that prints help text then its flags on --help.
var newFlagSet = cli.NewFlagSet

// parseFlags parses args; it returns the exit code to use when the command should
// stop (0 for --help, 2 for a usage error) and ok=false.
var parseFlags = cli.ParseFlags

// newLogger returns the process logger: text on stderr, at level.
func newLogger(w io.Writer, level slog.Level, json bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// setPahoLoggers routes paho's package-global loggers to slog. paho's loggers are
// process-global, so this is done once, here in main, never in a package.
func setPahoLoggers(log *slog.Logger) { setPahoLoggersQuiet(log, nil) }

// setPahoLoggersQuiet is setPahoLoggers whose errors are logged at debug level
// while quiet is set (a deliberate stop, where paho reports its own disconnect
// racing the broker's close as an error).
func setPahoLoggersQuiet(log *slog.Logger, quiet *atomic.Bool) {
	mqtt.ERROR = pahoLogger{log, slog.LevelError, quiet}
	mqtt.CRITICAL = pahoLogger{log, slog.LevelError, quiet}
	mqtt.WARN = pahoLogger{log, slog.LevelDebug, nil} // paho warns about routine things ("memorystore wiped")
}

type pahoLogger struct {
	log   *slog.Logger
	level slog.Level
	quiet *atomic.Bool
}

func (p pahoLogger) lvl() slog.Level {
	if p.quiet != nil && p.quiet.Load() {
		return slog.LevelDebug
	}
	return p.level
}

func (p pahoLogger) Println(v ...any) {
	p.log.Log(context.Background(), p.lvl(), fmt.Sprint(v...), "component", "paho")
}

func (p pahoLogger) Printf(format string, v ...any) {
	p.log.Log(context.Background(), p.lvl(), fmt.Sprintf(format, v...), "component", "paho")
}

func versionCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "Usage: saqshy-gateway version\n\nPrints the version, the Go toolchain and the build settings.\n", stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fmt.Fprintln(stdout, versionString())
	return 0
}

func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "saqshy-gateway (no build info)"
	}
	s := "saqshy-gateway " + bi.Main.Version + " " + bi.GoVersion
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH", "GOARM", "CGO_ENABLED":
			s += " " + kv.Key + "=" + kv.Value
		}
	}
	return s
}
