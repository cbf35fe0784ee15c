// Package alert turns conditions into alerts people hear about: one alert per
// incident (an open condition of one kind on one subject), notified to the
// recipients of its severity's escalation chain in their language, re-notified
// while a critical alert is unacknowledged, climbing the chain step by step until
// somebody acknowledges it, and announced as resolved to everyone who was told.
//
// # Concepts
//
// An alert is firing, then acknowledged (through Telegram, the local HTTP API, or
// [Engine.Ack]), then resolved when its condition clears (resolved without an
// acknowledgement is possible). Every transition is written as an `alert` point
// and published on MQTT (saqshy/<centre>/alert/<id>, retained while open, cleared
// when resolved) and to the webhook.
//
// The engine is a reconciler: after every change and at every tick it computes
// which notifications the alert's state calls for, and enqueues in the outbox
// those it has not enqueued before. Notification IDs are deterministic (alert,
// step, recipient, channel), and the outbox delivers an ID once, so a crash at any
// point neither loses a notification nor sends one twice. The state is saved to a
// file atomically after every change and restored at start.
package alert
