package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"periph.io/x/host/v3"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/config"
)

const runHelp = `Usage: saqshy-gateway run --config FILE [flags]

Runs the gateway: subscribes to every configured sensor's MQTT topics, keeps each
reading in the spool on disk (acknowledging the broker only once it is safe there),
and streams the spool to InfluxDB. Stops cleanly on Ctrl-C or SIGTERM; anything not
yet acknowledged is delivered again by the broker on the next start.

Secrets: the MQTT password and InfluxDB token are read from the files the config
names, or from SAQSHY_MQTT_PASSWORD and SAQSHY_INFLUX_TOKEN.
`

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", runHelp, stderr)
	cfgPath := fs.String("config", "/etc/saqshy/centre.yaml", "centre config `file`")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	jsonLog := fs.Bool("log-json", false, "log as JSON lines (for journald/log shippers)")
	statsEvery := fs.Duration("stats-every", time.Minute, "log a line of counts this often (0 disables)")
	assumeSynced := fs.Bool("assume-clock-synced", false, "trust the system clock even if the kernel reports it unsynchronised (containers)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file` (for benchmarks; see docs/BENCHMARKS.md)")
	memProfile := fs.String("memprofile", "", "write a heap profile to `file` when the gateway stops, and to file.N on each SIGUSR1 (for benchmarks; see docs/BENCHMARKS.md)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 4096 // every 4 kB allocated: fine enough for small owners
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway run: --log-level: %v\n", err)
		return 2
	}
	log := newLogger(stderr, lvl, *jsonLog)
	setPahoLoggers(log)
	if *memProfile != "" {
		defer heapProfileOnSignal(*memProfile, log)()
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		fmt.Fprintf(stderr, "saqshy-gateway run: the config has errors; fix them (saqshy-gateway check-config %s)\n", *cfgPath)
		return 1
	}
	if err := spoolWritable(cfg.Spool.Dir); err != nil {
		fmt.Fprint(stderr, spoolAdvice(*cfgPath, cfg.Spool.Dir, err))
		return 1
	}
	for _, w := range cfg.SecretWarnings() {
		log.Warn("secret file readable by others", "problem", w)
	}
	opt := runOptions(cfg, log, *statsEvery)
	if buses := localI2C(cfg, log); buses != nil {
		defer func() {
			if err := buses.Close(); err != nil {
				log.Error("closing I2C buses", "err", err)
			}
		}()
		opt.Local.OpenI2C = buses.Open
	}
	if *assumeSynced {
		opt.Clock = gateway.FixedSync(true)
	}
	g, err := gateway.New(cfg, opt)
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-gateway run: %v\n", err)
		return 1
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "saqshy-gateway run: --cpuprofile: %v\n", err)
			return 1
		}
		defer stop()
	}
	if *memProfile != "" {
		defer writeHeapProfile(*memProfile, log)
	}
	notified := make(chan struct{})
	notifyCtx, stopNotify := context.WithCancel(ctx)
	go func() { notifySystemd(notifyCtx, g, log); close(notified) }()
	defer func() { stopNotify(); <-notified }()
	if err := g.Run(ctx); err != nil {
		log.Error("gateway failed", "err", err)
		return 1
	}
	return 0
}

// startCPUProfile starts profiling the process's CPU into path; the returned func
// stops the profile and closes the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// heapProfileOnSignal writes a heap profile of what is live now to path.N (N = 1,
// 2, …) on each SIGUSR1, after a collection; the returned func stops it.
func heapProfileOnSignal(path string, log *slog.Logger) func() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 1; ; n++ {
			if _, ok := <-sig; !ok {
				return
			}
			runtime.GC()
			writeHeapProfile(fmt.Sprintf("%s.%d", path, n), log)
		}
	}()
	return func() { signal.Stop(sig); close(sig); <-done }
}

// writeHeapProfile writes the heap profile (in use at the last collection, and every
// allocation since the start) to path.
func writeHeapProfile(path string, log *slog.Logger) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		log.Error("writing the heap profile", "file", path, "err", err)
	}
}

// localI2C prepares periph's host drivers when the config has I2C sensors wired to
// the Pi, and returns the bus opener (nil when none are configured). host.Init is
// process-global, so it is done here in main, once. A failure is logged; the
// gateway then reports each I2C probe's read error instead of stopping.
func localI2C(cfg *config.Config, log *slog.Logger) *i2cBuses {
	need := false
	for _, s := range cfg.Sensors {
		if s.Local() && s.Source != config.SourceDS18B20 {
			need = true
		}
	}
	if !need {
		return nil
	}
	if _, err := host.Init(); err != nil {
		log.Error("periph host init failed; I2C sensors cannot be read", "err", err)
	}
	return &i2cBuses{}
}

// spoolWritable creates dir if needed and checks that this user can write a file in it.
func spoolWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// spoolAdvice says what to do when the spool dir cannot be written: give it to the
// user the gateway runs as, or point spool.dir at a directory the user owns.
func spoolAdvice(cfgPath, dir string, err error) string {
	who := "this user"
	if u, uerr := user.Current(); uerr == nil {
		who = "user " + u.Username
	}
	own := "saqshy-spool"
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		own = filepath.Join(d, "saqshy", "spool")
	} else if h, herr := os.UserHomeDir(); herr == nil && filepath.IsAbs(h) {
		own = filepath.Join(h, ".local", "state", "saqshy", "spool")
	}
	return fmt.Sprintf(`saqshy-gateway run: the spool directory %s cannot be written by %s: %v
  The gateway keeps every reading there before it is sent, so it cannot start without it.
  Installed as a service: create it for the service user, e.g.
      sudo install -d -o saqshy -g saqshy -m 0750 %s
  Trying it as yourself: set spool.dir in %s to a directory you own, e.g.
      spool: {dir: %s}
`, dir, who, err, dir, cfgPath, own)
}

// runOptions are the daemon's gateway.Options from its config. Live points go out
// at most every influx.flush_interval (default 10 s): a POST's request head costs
// more of a mobile uplink than its points (docs/BENCHMARKS.md, the centre-day table).
func runOptions(cfg *config.Config, log *slog.Logger, statsEvery time.Duration) gateway.Options {
	return gateway.Options{Logger: log, StatsEvery: statsEvery, InfluxFlush: cfg.Influx.FlushInterval.Std()}
}
