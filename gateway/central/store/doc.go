// Package store is the central side's data: the InfluxDB queries the monitoring
// room reads (scores, coverage, rounds, alerts, heartbeats, climate), the two
// rollups it may write (climate_1h and centre_latest), the overview of every centre
// computed from them, and the plain types every central package shares (a
// registered centre, the attention thresholds, a gateway's state, the daily report's
// format). It imports nothing of the gateway's pipeline and nothing central above
// it (web, jobs, monitor).
package store
