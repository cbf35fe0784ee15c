// Package influxsink delivers spooled events to InfluxDB through
// influxdb-client-go/v2's blocking write API, advancing the spool's durable cursor only
// after InfluxDB accepted a batch.
//
// # Concepts
//
// The [Writer] reads the spool in order (the backlog lane), converts events to points
// (schema in DESIGN.md: climate and device measurements), and writes each batch with one
// POST. Failures are classified by status code:
//
//   - 429, 5xx, timeouts and network errors: the batch is kept and retried with
//     exponential backoff and jitter, honouring Retry-After.
//   - 400 and 422 (malformed): the batch is split in halves until the bad points are
//     isolated; good points are written, bad ones go to the dead-letter file with the
//     server's reason and are counted. A malformed point never blocks the points behind it.
//   - 413 (too large): the batch is split in halves.
//   - 401 and 403: kept and retried (a token may be fixed without restarting); the
//     error is reported in [Stats] so the gateway's health check raises it.
//   - 401, 403, 409 and 422 from the ministry's verifying ingest (saqshy-ingest, which
//     names its reason in X-Saqshy-Reason): refused for good. The batch goes to the
//     dead-letter file with the reason and the fix ([RefusalFix]), is counted in
//     [Stats].Refused and reported in [Stats].RefusedWhy, and is never retried.
//
// # Signed writes
//
// [NewSignedClient] signs every write as the next link of the gateway's chain
// (gateway/chain.Transport, outside the compression). The writer first sends the
// chain's pending link again, byte for byte (after a crash between send and answer,
// or a failed live-lane batch), so that the ingest's chain has no gap. Split batches
// and live-lane batches are links like any other.
//
// # Live data during a backlog
//
// After an outage the spool can hold days of data. Live data must not wait behind it,
// so while the backlog exceeds [Options.LiveLag] events the writer alternates: one batch
// from the backlog, then one batch of the newest events (the live lane). The cursor
// only ever advances through the backlog lane; the writer remembers which sequence
// ranges the live lane already delivered and skips them when the backlog lane reaches
// them. After a restart that memory is gone and those points are sent again, which is
// harmless: InfluxDB overwrites a point with the same series and timestamp, so
// re-delivery is idempotent. Live data therefore waits at most one backlog batch.
//
// # References
//
// https://docs.influxdata.com/influxdb/v1/tools/api/#write-http-endpoint (the 2.x-compatible
// /api/v2/write endpoint of 1.8) and https://github.com/influxdata/influxdb-client-go.
package influxsink
