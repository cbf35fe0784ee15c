// Package spool is the gateway's on-disk, append-only, crash-safe queue of
// [telemetry.Event] between the sources (MQTT, local sensors) and the InfluxDB sink.
//
// # Concepts
//
// The MQTT source acknowledges a message to the broker only after [Spool.Append]
// returns nil, and Append returns nil only once the events are written and fsynced.
// The sink reads with [Spool.Read] (and [Spool.Wait] when it has caught up), writes to
// InfluxDB, then calls [Spool.Commit] with the seq after the last record it delivered.
// Delivery is at-least-once: after a crash the sink may see records again, never fewer.
//
// Every event gets a sequence number (seq), consecutive in the order events are
// committed. Events live in segment files named by the seq they start at
// (%020d.seg); a file "cursor" holds the first undelivered seq.
//
// Group commit: appenders encode and checksum their own events in parallel and hand
// them to one writer goroutine, which takes everything pending, assigns seqs, writes it
// with one write and fsyncs once, then releases every appender of the group. On a
// Raspberry Pi's SD card an fsync costs milliseconds, so this is what lets many MQTT
// messages per second through: the cost of one fsync is shared by every message that
// arrived while the previous one ran.
//
// # Durability
//
// What a power cut or crash can lose: nothing that Append acknowledged (returned nil
// for). Appends in flight at the cut (not yet acknowledged) may be lost wholly or in
// part, or kept; the broker redelivers them, so a kept one is delivered twice, never
// lost. A Commit that returned nil is durable; one in flight at the cut leaves the
// previous cursor, so some records are delivered again.
//
// Open recovers after a cut: a torn record at the end of a segment (a write cut
// short) is truncated away and counted in Stats.TruncatedBytes. A record with a bad
// CRC or framing in the middle of a segment (a page the disk did not write, bit rot)
// is skipped by searching for the next magic that starts a record with a valid CRC:
// every intact record after the damage is kept. Records lost to such damage are counted
// in Stats.Corrupt and logged at Warn with the segment and offset. A damaged or missing
// cursor file makes delivery start again at the oldest record on disk.
//
// The spool is bounded by Options.MaxBytes: when the uplink is down long enough to fill
// it, the oldest segments are deleted, delivered or not, and their undelivered events
// counted in Stats.Dropped. Producers are never blocked by a slow or absent sink.
//
// A write or fsync error (ENOSPC, EIO) fails the Appends of that group with an error
// wrapping the disk's error; the segment is truncated back to its last good size, so a
// later Append continues on a consistent file.
//
// A full disk does not stop delivery. Open lowers MaxBytes to what the file system has
// room for (logged) and makes sure the cursor file exists; when Commit cannot write a
// new cursor file for lack of space it overwrites the existing one in place, so the
// cursor moves, delivered segments are deleted and appends resume. Stats.WriteError,
// DiskFree and DiskLow tell the gateway. Open also finds holes between segment files
// (a file deleted, a damaged tail cut off): their undelivered records are counted in
// Stats.Lost (Corrupt after a cut tail) and logged, and the next file is renamed to
// close the hole so that it is reported once.
//
// # File format
//
// A segment is a sequence of records, each: magic F5 7E 53 51, payload length (uint32
// little endian), CRC-32C (Castagnoli) of the payload (uint32 LE), payload. The payload
// is the encoded event followed by its seq (uint64 LE). The event encoding is a version
// byte (1), the time as a varint of Unix nanoseconds, sensor, zone, zone kind and
// source as uvarint-length-prefixed strings, a uvarint count of values each stored as
// a metric byte and the float64 bits (uint64 LE), and the flags byte. Metric and flag
// numbers are stored as is: [telemetry] never renumbers them.
//
// # References
//
//   - Rebello et al., "Can applications recover from fsync failures?", USENIX ATC 2020:
//     why a failed fsync is answered by truncating back rather than retrying.
//   - Pillai et al., "All File Systems Are Not Created Equal", OSDI 2014: why the cursor
//     is replaced by write, fsync, rename, fsync of the directory.
package spool
