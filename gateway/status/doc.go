// Package status serves the gateway's local status page for the technician and the
// night nurse, plus machine-readable /status.json, /healthz, /readyz and /metrics
// (Prometheus text format). It reads a [Snapshot] from its provider on every request
// and holds no state of its own.
package status
