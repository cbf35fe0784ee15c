//go:build !nodemo

package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/influxproc"
	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/sim"
)

// The demo's ministry side: a private InfluxDB 1.8, the verifying ingest and the
// monitor (with the registry and the rating job), each a child process, since the
// gateway's binary links nothing of gateway/central.

// demoDatabase is the demo's InfluxDB database; demoBucket its v2-API bucket.
const (
	demoDatabase = "saqshy"
	demoBucket   = demoDatabase + "/autogen"
	demoUser     = "demo"
	demoRegion   = "Demo region"
	// demoFleet is how many simulated centres besides the demo centre the monitor
	// shows, with demoFleetDays days of history each; they go on sending live
	// every demoFleetStep.
	demoFleet     = 5
	demoFleetDays = 8
	demoFleetSeed = 19
	demoFleetStep = time.Minute
)

// central is the running ministry side.
type central struct {
	InfluxURL, IngestURL, MonitorURL string
	Password                         string // the monitor's demo login (user demoUser)
	Fleet                            []sim.FleetCentre
	procs                            []*child
	stopLive                         func() // stops the fleet's live data and waits
}

// child is a process the demo started.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan error
	log  *lockedBuf
	once sync.Once
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// findInfluxd returns an influxd from PATH or the repository's .tools/bin, or "".
func findInfluxd(root string) string {
	if p, err := exec.LookPath("influxd"); err == nil {
		return p
	}
	if root != "" {
		p := filepath.Join(root, ".tools", "bin", "influxd")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// moduleRoot returns the saqshy module's directory holding the working directory,
// or "".
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/saqshy/saqshy\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// findTool returns the path of the named command: next to this executable, on
// PATH, or built from the module into out (the demo's own directory: the demo runs
// with `go run`, so the toolchain and the source are at hand, and Go's build cache
// makes it quick; a directory shared by demos of other source trees could hand
// one another's program to a demo starting meanwhile).
func findTool(ctx context.Context, name, root, out string, progress io.Writer) (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if root == "" {
		return "", fmt.Errorf("%s: not next to this program nor on PATH, and no saqshy source tree holds the working directory to build it from", name)
	}
	fmt.Fprintf(progress, "demo: building %s from %s...\n", name, root)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out+string(filepath.Separator), "./cmd/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", name, err, b)
	}
	return filepath.Join(out, name), nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs a child process with its output kept for errors, until stop.
func start(name, bin string, env []string, args ...string) (*child, error) {
	c := &child{name: name, cmd: exec.Command(bin, args...), done: make(chan error, 1), log: &lockedBuf{}}
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	c.cmd.Env = append(os.Environ(), env...)
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	return c, nil
}

// stop ends the child with SIGTERM (SIGKILL after 15 s) and waits for it.
func (c *child) stop() {
	c.once.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(15 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
}

// waitHTTP waits until GET u answers with status 2xx (or any status when any).
func (c *child) waitHTTP(ctx context.Context, u string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return nil
			}
		}
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("%s exited at start (%v):\n%s", c.name, err, tail(c.log.String(), 2000))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %s within %s:\n%s", c.name, u, within, tail(c.log.String(), 2000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// Stop stops the ministry side: the fleet's live data, then the monitor, InfluxDB
// last.
func (c *central) Stop() {
	if c.stopLive != nil {
		c.stopLive()
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].stop()
	}
}

// startCentral starts InfluxDB, the ingest (knowing the demo gateway's key) and the
// monitor (serving the demo centre's registry bundle, running the rating job), and
// writes the fleet's history. On error what was started is stopped.
//
// seed writes the demo centre's past through the ingest (at ingestURL) before the
// monitor starts, so that the rating's first cycle finds it; it returns the number
// of points.
func startCentral(ctx context.Context, log *slog.Logger, progress io.Writer, dir, influxd, root string, centreID, centreName, tz string, gwKey ed25519.PublicKey, bundle []byte,
	seed func(ctx context.Context, ingestURL string) (int, error)) (_ *central, err error) {
	c := &central{}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	ingestBin, err := findTool(ctx, "saqshy-ingest", root, filepath.Join(dir, "bin"), progress)
	if err != nil {
		return nil, err
	}
	monitorBin, err := findTool(ctx, "saqshy-monitor", root, filepath.Join(dir, "bin"), progress)
	if err != nil {
		return nil, err
	}

	// InfluxDB 1.8 with Flux (the monitor and the rating read with Flux).
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	rpcAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	confPath, err := influxproc.Config{Dir: filepath.Join(dir, "influxdb"), HTTPAddr: httpAddr, RPCAddr: rpcAddr, Flux: true, LogLevel: "error"}.Write()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "demo: starting InfluxDB (%s) on %s...\n", influxd, httpAddr)
	in, err := start("influxd", influxd, influxproc.Env(), "run", "-config", confPath)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, in)
	c.InfluxURL = "http://" + httpAddr
	if err := in.waitHTTP(ctx, c.InfluxURL+"/ping", 60*time.Second); err != nil {
		return nil, err
	}
	if err := influxQL(ctx, c.InfluxURL, "CREATE DATABASE "+demoDatabase); err != nil {
		return nil, err
	}

	// The ingest: the only writer of the demo centre's data, verifying its chain.
	gdir := filepath.Join(dir, "ingest")
	keys := filepath.Join(gdir, "gateway-keys")
	if err := os.MkdirAll(gdir, 0o700); err != nil {
		return nil, err
	}
	// The fleet's gateways have keys of their own: they send live through the
	// ingest too.
	fleetEnd := time.Now()
	fleet := sim.Fleet(demoFleet, demoFleetSeed, fleetEnd, demoFleet)
	keyLines := centreID + " " + chain.PublicKeyString(gwKey) + "\n"
	fleetKeys := make([]ed25519.PrivateKey, len(fleet))
	for i, f := range fleet {
		if fleetKeys[i], err = chain.GenerateKey(filepath.Join(gdir, f.ID+".key")); err != nil {
			return nil, err
		}
		keyLines += f.ID + " " + chain.PublicKeyString(fleetKeys[i].Public().(ed25519.PublicKey)) + "\n"
	}
	if err := os.WriteFile(keys, []byte(keyLines), 0o600); err != nil {
		return nil, err
	}
	ingestAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	icfg := fmt.Sprintf("listen: %s\ninflux: {url: %s, bucket: %s}\narchive_dir: %s\nheads_dir: %s\nkeys_file: %s\n",
		ingestAddr, c.InfluxURL, demoBucket, filepath.Join(gdir, "archive"), filepath.Join(gdir, "heads"), keys)
	if err := os.WriteFile(filepath.Join(gdir, "ingest.yaml"), []byte(icfg), 0o600); err != nil {
		return nil, err
	}
	ing, err := start("saqshy-ingest", ingestBin, nil, "serve", "--config", filepath.Join(gdir, "ingest.yaml"))
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, ing)
	c.IngestURL = "http://" + ingestAddr
	if err := ing.waitHTTP(ctx, c.IngestURL+"/ping", 30*time.Second); err != nil {
		return nil, err
	}

	// The demo centre's past, through the gateway's code and the ingest.
	fmt.Fprintf(progress, "demo: replaying the demo centre's last %d days through the gateway's code, signed to the ingest...\n", demoOwnDays)
	began := time.Now()
	n, err := seed(ctx, c.IngestURL)
	if err != nil {
		return nil, fmt.Errorf("the demo centre's past: %w", err)
	}
	fmt.Fprintf(progress, "demo: the ingest verified %d points of the demo centre's past into InfluxDB (%s)\n", n, time.Since(began).Round(100*time.Millisecond))

	// The fleet's history, written straight to InfluxDB (each centre's in several
	// passes, not in time order: the ingest would refuse it as backdated), with
	// simulated ratings; from its end on, the fleet sends live through the ingest.
	fmt.Fprintf(progress, "demo: writing %d days of %d simulated centres straight to InfluxDB...\n", demoFleetDays, demoFleet)
	fw := influxsink.NewClient(c.InfluxURL, "", "", demoBucket, 30*time.Second)
	fopt := sim.FleetOptions{Centres: demoFleet, Days: demoFleetDays, End: fleetEnd, Seed: demoFleetSeed, SilentEvery: demoFleet, Parallel: 2, Rated: true}
	c.Fleet, err = sim.WriteFleet(ctx, fw, fopt)
	fw.Close()
	if err != nil {
		return nil, fmt.Errorf("fleet history: %w", err)
	}
	if err := c.startFleetLive(ctx, log, fopt, fleetKeys, gdir); err != nil {
		return nil, err
	}

	// The monitor, with the registry (the demo centre's DEMO bundle) and a login.
	mdir := filepath.Join(dir, "monitor")
	for _, d := range []string{"state", "registry", "bundles"} {
		if err := os.MkdirAll(filepath.Join(mdir, d), 0o700); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(mdir, "bundles", centreID+"-v1.bundle"), bundle, 0o600); err != nil {
		return nil, err
	}
	priv, err := registry.ParsePrivateKey(demoMinistryKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(mdir, "ministry.pub"), registry.MarshalPublicKey(priv.Public().(ed25519.PublicKey)), 0o600); err != nil {
		return nil, err
	}
	c.Password = fmt.Sprintf("demo-%x", gwKey[:4])
	hash, err := bcrypt.GenerateFromPassword([]byte(c.Password), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	monitorAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var centres strings.Builder
	fmt.Fprintf(&centres, "  - {id: %s, name: %q, region: %q, timezone: %s}\n", centreID, centreName, demoRegion, tz)
	for _, f := range c.Fleet {
		fmt.Fprintf(&centres, "  - {id: %s, name: %q, region: %q, timezone: %s}\n", f.ID, f.Name, f.Region, f.Timezone)
	}
	mcfg := fmt.Sprintf(`listen: %s
influx: {url: %s, bucket: %s}
state_dir: %s
poll_every: 10s
latest: {every: 10s}
rollup: {enabled: true, backfill_days: %d}
centres:
%susers:
  - {name: %s, role: ministry, lang: en, password_hash: %q}
registry:
  dir: %s
  bundles_dir: %s
  ministry_key: %s
`, monitorAddr, c.InfluxURL, demoBucket, filepath.Join(mdir, "state"), demoFleetDays, centres.String(), demoUser, hash,
		filepath.Join(mdir, "registry"), filepath.Join(mdir, "bundles"), filepath.Join(mdir, "ministry.pub"))
	if err := os.WriteFile(filepath.Join(mdir, "monitor.yaml"), []byte(mcfg), 0o600); err != nil {
		return nil, err
	}
	mon, err := start("saqshy-monitor", monitorBin, nil, "run", "--config", filepath.Join(mdir, "monitor.yaml"))
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, mon)
	c.MonitorURL = "http://" + monitorAddr + "/"
	if err := mon.waitHTTP(ctx, c.MonitorURL+"login", 30*time.Second); err != nil {
		return nil, err
	}
	go c.watch(ctx, log)
	return c, nil
}

// startFleetLive sends the fleet's live data (climate and heartbeats every
// demoFleetStep, the live score every hour) through the ingest, each centre
// signing with its own key (keys[i] for c.Fleet[i]), until Stop: the fleet's
// gateways are no more silent than the one simulated so. The data due now are
// sent before it returns.
func (c *central) startFleetLive(ctx context.Context, log *slog.Logger, opt sim.FleetOptions, keys []ed25519.PrivateKey, dir string) error {
	writers := make([]sim.LineWriter, len(c.Fleet))
	var clients []*influxsink.Client
	closeAll := func() {
		for _, cl := range clients {
			cl.Close()
		}
	}
	for i, f := range c.Fleet {
		ch, err := chain.Open(filepath.Join(dir, f.ID+".chain"), f.ID, keys[i])
		if err != nil {
			closeAll()
			return err
		}
		cl := influxsink.NewSignedClient(c.IngestURL, "", "", demoBucket, 30*time.Second, ch)
		clients = append(clients, cl)
		writers[i] = cl
	}
	live, err := sim.LiveFleet(opt, c.Fleet, writers, demoFleetStep)
	if err == nil {
		err = live.Until(ctx, time.Now())
	}
	if err != nil {
		closeAll()
		return fmt.Errorf("the fleet's live data: %w", err)
	}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer closeAll()
		t := time.NewTicker(demoFleetStep / 4)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case now := <-t.C:
				if err := live.Until(lctx, now); err != nil && lctx.Err() == nil {
					log.Error("demo: the fleet's live data", "err", err)
				}
			}
		}
	}()
	c.stopLive = func() { cancel(); <-done }
	return nil
}

// watch logs a child that ends before ctx does, with the end of its output.
func (c *central) watch(ctx context.Context, log *slog.Logger) {
	for _, p := range c.procs {
		go func() {
			select {
			case err := <-p.done:
				p.done <- err
				if ctx.Err() == nil {
					log.Error("demo: a ministry service stopped", "service", p.name, "err", err, "output", tail(p.log.String(), 1000))
				}
			case <-ctx.Done():
			}
		}()
	}
}

// influxQL runs one InfluxQL statement.
func influxQL(ctx context.Context, base, q string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", strings.NewReader(url.Values{"q": {q}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("influxdb: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(bufio.NewReader(io.LimitReader(resp.Body, 1000)))
		return fmt.Errorf("influxdb: %q: %s: %s", q, resp.Status, b)
	}
	return nil
}
