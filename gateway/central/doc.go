// Package central is the ministry's side of Saqshy, in its own wing of the tree:
// store (InfluxDB queries, rollups, the overview), jobs (silent-gateway watch,
// daily report, notifications), web (the monitoring room's pages) and monitor (the
// config and wiring that cmd/saqshy-monitor runs). Later central services (the
// registry service, verifying ingest, the central rating) go beside them.
//
// Nothing here imports the Pi's pipeline, and the Pi's binary links nothing from
// here; pieces both sides need live in packages both import (gateway/alert/notify,
// gateway/webauth, gateway/score, gateway/registry). layout_test.go enforces it.
package central
