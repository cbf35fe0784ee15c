// Package gateway wires the Saqshy gateway: MQTT sources → decoders → the durable
// spool → the InfluxDB writer, with the gateway's own counters.
//
// # Concepts
//
// [Gateway.Run] subscribes to the topics of every configured sensor, decodes each
// message with its source's decoder, resolves the samples against the centre config
// (which sensor, which zone) into events, and appends them to the spool. Only after
// the spool has made a batch durable (fsync) are its MQTT messages acknowledged, so a
// crash or power cut at any moment loses nothing the broker will not deliver again.
// The InfluxDB writer drains the spool independently; an outage of days only grows
// the spool (bounded by spool.max_bytes).
//
// Timestamps: a payload's own time is used when it has one, unless the gateway clock
// is synchronised and the payload is more than [MaxSkew] away from it; then the
// gateway's receive time is used and the event is flagged [telemetry.ClockSkew].
// Events stamped while the clock is not synchronised are flagged
// [telemetry.ClockUnsynced]. A retained reading without a payload time is the
// broker's last known value of unknown age: it is counted and not written.
package gateway
