// Package check is the contract between the gateway and the checks that run beside
// the sensor path (camera health and coverage, night rounds, the alert rules, the
// safety score, the gateway's own heartbeat), the ticker that drives them, and the
// registry of open conditions they raise and clear.
//
// A check is anything with a [Check.Name]; what else it does it says by the optional
// capabilities it implements, and the gateway uses only those:
//
//   - [Reader]: reads MQTT topics of its own and turns their messages into points;
//   - [Observer]: sees the sensor events once they are durable;
//   - [Ticker]: advances its time once a second and returns points to write;
//   - [Runner]: has work of its own (network probes, an outbox) until shutdown;
//   - [Committer]: persists state saying what its Tick's points were, and is told
//     when those points are durable.
//
// Message and Observe are called from the MQTT handler and the local poller, Tick
// from the ticker ([Ticks]): a check must be safe for concurrent use.
package check

import (
	"context"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Check is one check. Name labels its counters ("camera", "rounds", ...).
type Check interface {
	Name() string
}

// Reader is a check that reads MQTT topics. A message whose batch fails to become
// durable is delivered again by the broker, so Message must take the same message
// twice without counting it twice.
type Reader interface {
	Check
	// Topics returns the MQTT topic filters the check reads; they may overlap with
	// the sensors' topics (a Tasmota device with a probe and an RFID reader).
	Topics() []string
	// Message handles one message on one of its topics and returns the points to
	// make durable with it, before it is acknowledged. An error rejects the message;
	// telemetry.Reason(err) labels the counter.
	Message(m telemetry.Message, synced bool) ([]telemetry.Event, error)
}

// Observer is a check that sees sensor events once they are durable.
type Observer interface {
	Observe(evs []telemetry.Event)
}

// Ticker is a check whose time advances with the gateway's ticker.
type Ticker interface {
	// Tick advances the check's time to now and returns the points to write.
	Tick(now time.Time, synced bool) []telemetry.Event
}

// Runner is a check with work of its own beyond ticks (the camera prober's network
// probes, the alerts' outbox): the gateway runs it until shutdown, beside the MQTT
// source.
type Runner interface {
	Run(ctx context.Context) error
}

// Committer is a check that persists state saying what its Tick's points were (a
// night judged): Committed is called once those points are durable, so that a crash
// in between repeats the points rather than losing them.
type Committer interface {
	Committed()
}

// Appender is the spool as the checks' ticker sees it.
type Appender interface {
	Append(ctx context.Context, evs ...telemetry.Event) error
}

// Clock tells the time and whether it can be trusted.
type Clock interface {
	Now() time.Time
	Synced() bool
}

// MatchTopic reports whether an MQTT topic matches a subscription filter with the
// wildcards + (one level) and # (the rest, including none).
func MatchTopic(filter, topic string) bool {
	for {
		f, frest, fmore := strings.Cut(filter, "/")
		if f == "#" {
			return true
		}
		t, trest, tmore := strings.Cut(topic, "/")
		if f != "+" && f != t {
			return false
		}
		if !fmore || !tmore {
			return !fmore && !tmore || fmore && frest == "#"
		}
		filter, topic = frest, trest
	}
}
