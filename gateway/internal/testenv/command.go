package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildCommand builds the repository's cmd/<name> into a temp dir and returns the
// binary's path (CGO off, as the release builds it).
func BuildCommand(tb testing.TB, name string) string {
	tb.Helper()
	root := repoRoot()
	if root == "" {
		tb.Fatalf("testenv: go.mod not found above the testenv package")
	}
	bin := filepath.Join(tb.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("testenv: go build ./cmd/%s: %v\n%s", name, err, out)
	}
	return bin
}

// Process is one of the repository's own servers (a built command) run as a child
// process, like the broker and the database: started again on the same arguments
// after a Kill, its output kept and shown when the test fails.
type Process struct{ p *process }

// StartProcess runs bin with args, waits until it listens on addr (host:port) and
// stops it at cleanup.
func StartProcess(tb testing.TB, name, bin, addr string, args ...string) *Process {
	tb.Helper()
	p := &Process{p: &process{tb: tb, name: name, bin: bin, args: args, addr: addr, log: &LogBuffer{}}}
	p.p.start()
	tb.Cleanup(func() {
		p.p.stop(false)
		if tb.Failed() {
			tb.Logf("%s log:\n%s", name, tail(p.p.log.String(), 4000))
		}
	})
	return p
}

// Kill stops the process with SIGKILL, as a power cut or the OOM killer would.
func (p *Process) Kill() { p.p.stop(true) }

// Stop stops the process with SIGTERM and waits for it to exit.
func (p *Process) Stop() { p.p.stop(false) }

// Start starts a stopped process again and waits until it listens.
func (p *Process) Start() { p.p.tb.Helper(); p.p.start() }

// Signal sends sig to the running process: SIGSTOP freezes it with its sockets
// open, SIGCONT resumes it.
func (p *Process) Signal(sig os.Signal) error { return p.p.signal(sig) }
