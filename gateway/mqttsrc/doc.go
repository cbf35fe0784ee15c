// Package mqttsrc receives sensor messages from an MQTT broker with paho.mqtt.golang
// and hands them, in batches, to a handler that makes them durable; each message is
// acknowledged to the broker only after its batch was handled.
//
// # Concepts
//
// The client uses a persistent session (clean session off, a stable client id) and
// subscribes at QoS 1, so messages that arrive while the gateway is down or before a
// batch was committed are kept by the broker and delivered again. Acknowledgement is
// manual: paho's callbacks only queue messages into a bounded channel; one goroutine
// takes every queued message, calls the [Handler] once for the whole batch, and acks
// them when it returns nil. While the handler works (a spool fsync), new messages
// queue up, so the next batch is larger: the fsync cost is shared (group commit). A
// handler error keeps the batch unacknowledged and retries it with backoff; messages
// already in the broker's in-flight window are not lost.
//
// Flow control does not rely on the broker's in-flight window: Mosquitto 2.0 stops
// enforcing max_inflight_messages when it drains a resumed session whose client acks
// in batches. paho's router calls the source's callback on one goroutine
// (SetOrderMatters(true)), so when the queue is full paho stops reading the socket and
// TCP holds the backlog at the broker. The connection to tcp:// and ssl:// brokers
// buffers reads and coalesces writes (paho writes each PUBACK with its own system
// call); see conn.
//
// A watchdog catches a connection that is up but silent (MQTT consumers are known to
// stall after a broker restart): the source publishes a heartbeat on its own topic
// every [Options.Heartbeat] and subscribes to it, and when nothing at all has arrived
// for [Options.SilenceTimeout] it drops and re-establishes the connection.
//
// # References
//
// https://github.com/eclipse/paho.mqtt.golang; MQTT 3.1.1 §4.1 (session state),
// §4.3.2 (QoS 1 delivery).
package mqttsrc
