//go:build soak

package testenv

// What only the soak test (gateway/soak_test.go, `make soak`) does to the servers.

// Kill stops the broker with SIGKILL: it saves nothing, so what it acknowledged
// since its last autosave (every second) is lost with it.
func (m *Mosquitto) Kill() { m.p.stop(true) }
