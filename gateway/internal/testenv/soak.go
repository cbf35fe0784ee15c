//go:build soak

package testenv

// What only the soak test (gateway/soak_test.go, `make soak`) does to the servers.

import (
	"fmt"
	"os"
)

// signal sends sig to the running process (SIGSTOP/SIGCONT for a hung server).
func (p *process) signal(sig os.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("testenv: %s is not running", p.name)
	}
	return p.cmd.Process.Signal(sig)
}

// Kill stops the broker with SIGKILL: it saves nothing, so what it acknowledged
// since its last autosave (every second) is lost with it.
func (m *Mosquitto) Kill() { m.p.stop(true) }

// Signal sends sig to the running server: SIGSTOP hangs it with its sockets open,
// SIGCONT resumes it.
func (in *Influx) Signal(sig os.Signal) error { return in.p.signal(sig) }
