// Package monitor is the ministry's monitoring room as one program (run by
// cmd/saqshy-monitor): it reads the config (centres, users, InfluxDB, notification
// channels, secrets from files or SAQSHY_MONITOR_* variables) and wires the central
// side's parts together — gateway/central/store (InfluxDB queries and rollups),
// gateway/central/jobs (silent-gateway watch, daily report, notifications) and
// gateway/central/web (the pages, behind gateway/webauth) — then serves and runs
// the background jobs until its context ends.
//
// The central side lives under gateway/central and imports nothing of the Pi's
// pipeline (spool, mqttsrc, readings, localsensor, influxsink, rules, camera,
// rounds); it shares with the gateway only the pieces both sides need
// (gateway/alert/notify channels, gateway/webauth, and later gateway/score and
// gateway/registry). Imports go downwards only: monitor → web, jobs → store.
package monitor
