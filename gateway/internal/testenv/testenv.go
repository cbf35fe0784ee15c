package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/influxproc"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// repoRoot walks up from this source file to the directory holding go.mod.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// findBinary looks for name on PATH, then in extra directories.
func findBinary(tb testing.TB, name, install string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	dirs := []string{"/usr/sbin", "/usr/local/sbin"}
	if d := os.Getenv("SAQSHY_TOOLS"); d != "" {
		dirs = append([]string{filepath.Join(d, "bin")}, dirs...)
	}
	if root := repoRoot(); root != "" {
		dirs = append([]string{filepath.Join(root, ".tools", "bin")}, dirs...)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	tb.Fatalf("testenv: %s not found on PATH, in .tools/bin or /usr/sbin; %s", name, install)
	return ""
}

// process is a child server process with its log captured for failure reports.
type process struct {
	tb   testing.TB
	name string
	bin  string
	args []string
	env  []string // added to the environment
	addr string   // host:port to wait for

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	log  *LogBuffer
}

// LogBuffer is a log sink safe for concurrent writers that keeps its last
// megabyte or so: a process's or a service's output, searched by a test.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep the tail only
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (p *process) start() {
	p.tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		p.tb.Fatalf("testenv: %s already running", p.name)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout = p.log
	cmd.Stderr = p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.tb.Fatalf("testenv: start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			p.cmd = nil
			p.tb.Fatalf("testenv: %s exited at start: %v\n%s", p.name, cmd.ProcessState, p.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			p.tb.Fatalf("testenv: %s did not listen on %s within 30s\n%s", p.name, p.addr, p.log.String())
		}
	}
}

// stop sends SIGTERM (or SIGKILL when kill is set) and waits for the process to exit.
func (p *process) stop(kill bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// signal sends sig to the running process (SIGSTOP/SIGCONT for a hung server).
// SIGSTOP and SIGCONT return once the process is stopped or running again: kill
// returns when the signal is queued, and on a busy machine the process could
// still answer a request sent right after a SIGSTOP.
func (p *process) signal(sig os.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("testenv: %s is not running", p.name)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	switch sig {
	case syscall.SIGSTOP:
		return waitStopped(p.name, p.cmd.Process.Pid, true)
	case syscall.SIGCONT:
		return waitStopped(p.name, p.cmd.Process.Pid, false)
	}
	return nil
}

// waitStopped waits, up to 10 s, until /proc says process pid is stopped (or, with
// stopped false, is not). Without /proc it returns at once.
func waitStopped(name string, pid int, stopped bool) error {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil // no /proc here
		}
		// The state follows the command's closing parenthesis: "pid (comm) S ...".
		i := bytes.LastIndexByte(b, ')')
		if i >= 0 && i+2 < len(b) && (b[i+2] == 'T') == stopped {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testenv: %s (pid %d) not %s after 10 s", name, pid, map[bool]string{true: "stopped", false: "running"}[stopped])
		}
	}
}

// Mosquitto is a running Mosquitto broker.
type Mosquitto struct {
	p    *process
	Port int
	Dir  string
}

// MosquittoOptions tune the broker; the zero value is fine.
type MosquittoOptions struct {
	// MaxInflight is max_inflight_messages (QoS 1 messages in flight per client);
	// default 1000, as firmware-config/mosquitto ships.
	MaxInflight int
	// Extra is appended to the generated mosquitto.conf.
	Extra string
}

// StartMosquitto starts a broker on a free loopback port with persistence in a temp
// dir (so a persistent session survives a broker restart) and stops it at cleanup.
func StartMosquitto(tb testing.TB, opt MosquittoOptions) *Mosquitto {
	tb.Helper()
	bin := findBinary(tb, "mosquitto", "install it with `apt-get install -y mosquitto` (make test does)")
	if opt.MaxInflight == 0 {
		opt.MaxInflight = 1000
	}
	dir := tb.TempDir()
	port := FreePort(tb)
	user := ""
	if os.Geteuid() == 0 {
		// Mosquitto started as root switches to user "mosquitto", which cannot read
		// the test's private temp dir.
		user = "user root\n"
	}
	conf := user + fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
persistence true
persistence_location %s/
autosave_interval 1
max_inflight_messages %d
max_queued_messages 0
max_queued_bytes 0
log_dest stdout
log_type error
log_type warning
%s
`, port, dir, opt.MaxInflight, opt.Extra)
	confPath := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	m := &Mosquitto{Port: port, Dir: dir, p: &process{
		tb: tb, name: "mosquitto", bin: bin, args: []string{"-c", confPath},
		addr: fmt.Sprintf("127.0.0.1:%d", port), log: &LogBuffer{},
	}}
	m.p.start()
	tb.Cleanup(func() {
		m.p.stop(false)
		if tb.Failed() {
			tb.Logf("mosquitto log:\n%s", tail(m.p.log.String(), 4000))
		}
	})
	return m
}

// URL is the broker's address for paho, e.g. tcp://127.0.0.1:40123.
func (m *Mosquitto) URL() string { return fmt.Sprintf("tcp://127.0.0.1:%d", m.Port) }

// Stop stops the broker (SIGTERM: it saves its persistence file).
func (m *Mosquitto) Stop() { m.p.stop(false) }

// Start starts a stopped broker again on the same port and directory.
func (m *Mosquitto) Start() { m.p.tb.Helper(); m.p.start() }

// Influx is a running InfluxDB 1.8 server with one database.
type Influx struct {
	p        *process
	Port     int
	Dir      string
	Database string
}

// InfluxOptions tune StartInfluxWith; the zero value is StartInflux's behaviour.
type InfluxOptions struct {
	// Dir holds the server's data and config; it is kept after the test (so a
	// benchmark can load data once and reuse it). Default: a temp dir removed at
	// cleanup.
	Dir string
	// Env replaces the default Go runtime settings of influxd (GOGC=off,
	// GOMEMLIMIT=1GiB: a fast start-up, but once the heap reaches 1 GiB the server
	// collects garbage continuously, which makes loading millions of points crawl).
	// A bulk-loading benchmark wants e.g. GOGC=200 GOMEMLIMIT=6GiB.
	Env []string
	// NoFlux starts the server with flux-enabled = false, InfluxDB 1.8's own default:
	// writes work, Flux queries answer 403.
	NoFlux bool
}

// StartInflux starts influxd on free loopback ports with Flux enabled and reporting
// disabled, creates database db (retention policy "autogen"), and stops it at cleanup.
func StartInflux(tb testing.TB, db string) *Influx {
	tb.Helper()
	return StartInfluxWith(tb, db, InfluxOptions{})
}

// StartInfluxWith is StartInflux with options.
func StartInfluxWith(tb testing.TB, db string, opt InfluxOptions) *Influx {
	tb.Helper()
	bin := findBinary(tb, "influxd", "build it with `make tools` (go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10)")
	dir := opt.Dir
	if dir == "" {
		dir = tb.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	env := influxproc.Env()
	if opt.Env != nil {
		env = opt.Env
	}
	port := FreePort(tb)
	rpc := FreePort(tb)
	confPath, err := influxproc.Config{Dir: dir, HTTPAddr: fmt.Sprintf("127.0.0.1:%d", port), RPCAddr: fmt.Sprintf("127.0.0.1:%d", rpc), Flux: !opt.NoFlux}.Write()
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	in := &Influx{Port: port, Dir: dir, Database: db, p: &process{
		tb: tb, name: "influxd", bin: bin, args: []string{"run", "-config", confPath},
		env:  env,
		addr: fmt.Sprintf("127.0.0.1:%d", port), log: &LogBuffer{},
	}}
	in.p.start()
	tb.Cleanup(func() {
		in.p.stop(false)
		if tb.Failed() {
			tb.Logf("influxd log:\n%s", tail(in.p.log.String(), 4000))
		}
	})
	in.waitReady(tb)
	if db != "" {
		if _, err := in.Query(context.Background(), "CREATE DATABASE "+quoteIdent(db)); err != nil {
			tb.Fatalf("testenv: create database: %v", err)
		}
	}
	return in
}

func (in *Influx) waitReady(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := in.Query(context.Background(), "SHOW DATABASES")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testenv: influxd not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// URL is the server's HTTP address, e.g. http://127.0.0.1:40124.
func (in *Influx) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", in.Port) }

// Bucket is the v2-API bucket name of the database's default retention policy.
func (in *Influx) Bucket() string { return in.Database + "/autogen" }

// Stop stops the server; Start starts it again with the same data.
func (in *Influx) Stop() { in.p.stop(false) }

// Signal sends sig to the running server: SIGSTOP hangs it with its sockets open,
// SIGCONT resumes it.
func (in *Influx) Signal(sig os.Signal) error { return in.p.signal(sig) }

// Start starts a stopped server again on the same port and directory.
func (in *Influx) Start() {
	in.p.tb.Helper()
	in.p.start()
	in.waitReady(in.p.tb)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

var _ io.Writer = (*LogBuffer)(nil)
