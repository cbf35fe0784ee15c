// Package telemetry defines the event types every stage of the gateway speaks:
// decoded samples from devices, and resolved events that are spooled and written.
//
// # Concepts
//
// A decoder turns one MQTT message (topic, payload) into zero or more [Sample]s. A
// Sample names the device the way its firmware does (the device's base topic and an
// optional sub-sensor key) and carries [Value]s. The gateway's router then resolves a
// Sample against the centre config (which configured sensor, which zone) and produces
// an [Event], which is what the spool stores and the InfluxDB sink writes.
package telemetry
