// Package influxproc is how a private InfluxDB 1.8 server on loopback is started,
// by the tests (gateway/internal/testenv) and by the demo: its config file and its
// Go runtime settings. Running and stopping the process is the caller's.
package influxproc

import (
	"fmt"
	"os"
	"path/filepath"
)

// Config is what differs between the private servers.
type Config struct {
	Dir      string // data, WAL, meta and the config file
	HTTPAddr string // host:port of the HTTP API
	RPCAddr  string // host:port of the backup/restore RPC service
	Flux     bool   // flux-enabled (InfluxDB 1.8's default is off: Flux queries answer 403)
	LogLevel string // "error", "warn", "info"; default "warn"
}

// Text returns the server's config file: reporting off, one HTTP listener, no
// internal monitoring, query or HTTP access logs, continuous queries off.
func (c Config) Text() string {
	level := c.LogLevel
	if level == "" {
		level = "warn"
	}
	return fmt.Sprintf(`reporting-disabled = true
bind-address = %q
[meta]
  dir = "%[2]s/meta"
  logging-enabled = false
[data]
  dir = "%[2]s/data"
  wal-dir = "%[2]s/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = %[3]q
  log-enabled = false
  flux-enabled = %[4]t
  max-body-size = 25000000
[logging]
  level = %[5]q
  suppress-logo = true
[continuous_queries]
  enabled = false
`, c.RPCAddr, c.Dir, c.HTTPAddr, c.Flux, level)
}

// Write writes the config file into c.Dir and returns its path (for influxd run
// -config).
func (c Config) Write() (string, error) {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return "", fmt.Errorf("influxproc: %w", err)
	}
	path := filepath.Join(c.Dir, "influxdb.conf")
	if err := os.WriteFile(path, []byte(c.Text()), 0o600); err != nil {
		return "", fmt.Errorf("influxproc: %w", err)
	}
	return path, nil
}

// Env returns the Go runtime settings a quick start needs: InfluxDB 1.8
// type-checks the Flux standard library at start-up, which takes 40 s on two cores
// with the default GC and 3 s with the GC held back until the heap reaches 1 GiB
// (past that the server collects garbage continuously: a bulk load wants more).
func Env() []string { return []string{"GOGC=off", "GOMEMLIMIT=1GiB"} }
