package gateway

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// A check runs beside the sensor path: camera health and coverage, night rounds, the
// alert rules, the safety score. It reads the MQTT topics it names and the sensor
// events, keeps its own state, raises and clears conditions through what it was given
// when built, and answers with points (telemetry.NewPoint) for the spool.
//
// Message and Observe are called from the MQTT handler and the local poller, Tick
// from the gateway's ticker: a check must be safe for concurrent use. A message whose
// batch fails to become durable is delivered again by the broker, so Message must
// take the same message twice without counting it twice.
type check interface {
	// Name labels the check's counters ("camera", "rounds", ...).
	Name() string
	// Topics returns the MQTT topic filters the check reads; they may overlap with
	// the sensors' topics (a Tasmota device with a probe and an RFID reader).
	Topics() []string
	// Message handles one message on one of its topics and returns the points to
	// make durable with it, before it is acknowledged. An error rejects the message;
	// telemetry.Reason(err) labels the counter.
	Message(m telemetry.Message, synced bool) ([]telemetry.Event, error)
	// Observe sees sensor events once they are durable.
	Observe(evs []telemetry.Event)
	// Tick advances the check's time to now and returns the points to write.
	Tick(now time.Time, synced bool) []telemetry.Event
}

// tickEvery is the period of the checks' ticks.
const tickEvery = time.Second

// maxPendingPoints bounds the checks' points waiting for a failing spool.
const maxPendingPoints = 10_000

// tickChecks calls every check's Tick once a second and appends what they return.
// A failed append is logged and the points are offered again at the next tick.
func (g *Gateway) tickChecks(ctx context.Context, app appender) {
	g.tickChecksEvery(ctx, app, tickEvery)
}

func (g *Gateway) tickChecksEvery(ctx context.Context, app appender, every time.Duration) {
	if len(g.checks) == 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var pending []telemetry.Event
	for {
		select {
		case <-ctx.Done():
			if len(pending) > 0 {
				g.log.Warn("points not written at shutdown", "points", len(pending))
			}
			return
		case <-t.C:
		}
		now, synced := g.opt.Clock.Now(), g.opt.Clock.Synced()
		g.alive.Store(time.Now().UnixNano())
		// While the spool refuses a large backlog of points, the checks' time stands
		// still rather than points being dropped: nothing is confirmed (Committed)
		// that is not durable, and the checks count the gap when ticks resume.
		if len(pending) < maxPendingPoints {
			for _, c := range g.checks {
				pending = append(pending, c.Tick(now, synced)...)
			}
		}
		if len(pending) == 0 {
			continue
		}
		if err := app.Append(ctx, pending...); err != nil {
			if ctx.Err() == nil {
				g.log.Error("writing the checks' points to the spool", "err", err, "points", len(pending))
			}
			continue
		}
		clear(pending)
		pending = pending[:0]
		for _, c := range g.checks {
			if c, ok := c.(committer); ok {
				c.Committed()
			}
		}
	}
}

// committer is a check that persists state saying what its Tick's points were
// (a night judged): Committed is called once those points are durable, so that a
// crash in between repeats the points rather than losing them.
type committer interface {
	Committed()
}

// appender is the spool as the checks' ticker sees it.
type appender interface {
	Append(ctx context.Context, evs ...telemetry.Event) error
}

// checkRoute is one topic filter a check reads.
type checkRoute struct {
	filter string
	check  check
}

// matchTopic reports whether an MQTT topic matches a subscription filter with the
// wildcards + (one level) and # (the rest, including none).
func matchTopic(filter, topic string) bool {
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

// runner is a check with work of its own beyond ticks (the camera prober's network
// probes): the gateway runs it until shutdown, beside the MQTT source.
type runner interface {
	Run(ctx context.Context) error
}

// publisher publishes on the gateway's MQTT connection, for checks that publish
// (alerts, night summaries, camera probes). It fails while the gateway is not
// connected; the caller keeps what it must not lose and retries.
type publisher struct{ g *Gateway }

// Publish sends payload on topic at QoS 1 and waits for the broker's acknowledgement.
func (p publisher) Publish(ctx context.Context, topic string, retained bool, payload []byte) error {
	p.g.mu.Lock()
	src := p.g.src
	p.g.mu.Unlock()
	if src == nil {
		return errors.New("gateway: MQTT not started")
	}
	return src.Publish(ctx, topic, retained, payload)
}

// Alive returns when the gateway's ticker last ran (zero before Run has started
// it): the liveness a service manager's watchdog can ask for. A gateway whose
// ticker stops — wedged on a lock or a dead disk — stops being alive.
func (g *Gateway) Alive() time.Time {
	if ns := g.alive.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}
