// Package gateway wires one centre's Saqshy gateway: it builds every part from the
// centre config, runs them until shutdown, and shows their state on the status page.
// It holds no pipeline logic of its own; each part lives in its own package.
//
// # Reading top to bottom
//
//   - gateway.go: [New] builds the gateway — the checks (wiring.go), then the
//     reading path (package readings) handed those checks; [Gateway.Run] opens the
//     spool, starts the MQTT source (its handler is the reading path's Batch, appending
//     to the spool), the InfluxDB writer draining the spool, the checks' ticker
//     (check.Ticks), every check that runs on its own (check.Runner), the poller of
//     sensors wired to the Pi (the reading path's Local) and the status page; on
//     shutdown the MQTT source stops first (unacknowledged messages stay with the
//     broker), then the writer, then the spool is closed. [Gateway.Stats] and
//     [Gateway.Alive] report progress and liveness, by the injected [Clock].
//   - wiring.go: the checks in the order they are built — the gateway's heartbeat
//     (health.go), night rounds, cameras and the camera prober, the alert rules and
//     engine (package alert/alertcheck, listening to the condition registry), and the
//     safety score (package score/scoreconfig), handed the other checks' components
//     by typed fields. A check the centre configures nothing for is absent.
//   - status.go: the status page's view (status.Provider): latest reading per sensor,
//     open conditions, counters, and the checks' snapshots as page sections.
//   - clock.go: [Clock], the time and whether it is synchronised (a Pi has no RTC).
//
// # Durability
//
// Only after the spool has made a batch durable (fsync) are its MQTT messages
// acknowledged, so a crash or power cut at any moment loses nothing the broker will
// not deliver again. The InfluxDB writer drains the spool independently; an outage of
// days only grows the spool (bounded by spool.max_bytes). The checks' points are
// written by the ticker; a check that persists what its points said (check.Committer)
// is told once they are durable.
//
// The reading path's time policy (payload time, clock skew, unsynchronised clock,
// retained readings) is described in package readings.
package gateway
