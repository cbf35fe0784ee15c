// Package readings is the gateway's reading path: it routes each MQTT message to the
// decoder of the device that owns its topic (or to the checks that read it), resolves
// the decoded samples against the centre config (which sensor, which zone) into
// events, applies the time policy, counts every outcome, and appends the events to
// the spool before the batch is acknowledged. Readings of sensors wired to the Pi
// take the same path from the local poller.
//
// Timestamps: a payload's own time is used when it has one, unless the gateway clock
// is synchronised and the payload is more than [MaxSkew] away from it; then the
// gateway's receive time is used and the event is flagged [telemetry.ClockSkew].
// Events stamped while the clock is not synchronised are flagged
// [telemetry.ClockUnsynced]. A retained reading without a payload time is the
// broker's last known value of unknown age: it is counted and not written.
package readings

import (
	"context"
	"log/slog"
	"slices"

	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/localsensor"
	"github.com/saqshy/saqshy/gateway/mqttsrc"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Appender is the spool as the reading path sees it: Append returns once the events
// are durable.
type Appender interface {
	Append(ctx context.Context, evs ...telemetry.Event) error
}

// Options are the reading path's dependencies.
type Options struct {
	Clock  check.Clock
	Logger *slog.Logger // for the rate-limited log of rejects
	// Checks are offered the messages of the topics they read (check.Reader) and
	// shown the durable sensor events (check.Observer), in this order.
	Checks []check.Check
	// Latest, when set, sees the durable sensor events before the checks (the status
	// page's latest reading per sensor).
	Latest check.Observer
	// Conditions receives the probe_error conditions of wired probes.
	Conditions telemetry.Conditions
}

// RawObserver is an optional interface of Options.Latest: once a batch is durable
// it is shown, per sensor event, the MQTT message the event came from (the status
// page's last raw payload). m is reused after the call returns.
type RawObserver interface {
	ObserveRaw(sensor string, m *mqttsrc.Message)
}

// Path is the reading path of one centre. Batch is called from one goroutine (the
// MQTT handler); Local and LocalError from the local poller.
type Path struct {
	opt       Options
	counters  *Counters
	router    *router
	routes    []route          // the checks' topic filters
	observers []check.Observer // Latest, then the checks that observe
	events    []telemetry.Event
}

// route is one topic filter a check reads.
type route struct {
	filter string
	check  check.Reader
}

// New builds the reading path for cfg.
func New(cfg *config.Config, opt Options) (*Path, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Path{opt: opt, counters: newCounters(opt.Logger, opt.Clock.Now)}
	r, err := newRouter(cfg, p.counters, opt.Clock)
	if err != nil {
		return nil, err
	}
	p.router = r
	if opt.Latest != nil {
		p.observers = append(p.observers, opt.Latest)
	}
	for _, c := range opt.Checks {
		if o, ok := c.(check.Observer); ok {
			p.observers = append(p.observers, o)
		}
		rd, ok := c.(check.Reader)
		if !ok {
			continue
		}
		for _, f := range rd.Topics() {
			p.routes = append(p.routes, route{filter: f, check: rd})
			if !slices.Contains(r.topics, f) {
				r.topics = append(r.topics, f)
			}
		}
	}
	slices.Sort(r.topics)
	r.claimed = func(topic string) bool {
		for _, rt := range p.routes {
			if check.MatchTopic(rt.filter, topic) {
				return true
			}
		}
		return false
	}
	return p, nil
}

// Topics returns the MQTT topic filters to subscribe to: the sensors' and the
// checks'.
func (p *Path) Topics() []string { return p.router.topics }

// Counters returns the reading path's counters.
func (p *Path) Counters() *Counters { return p.counters }

// Batch is the MQTT source's handler: decode, resolve, append durably to app, then
// show the sensor events to the checks. An error leaves the batch unacknowledged.
func (p *Path) Batch(ctx context.Context, app Appender, msgs []mqttsrc.Message) error {
	p.events = p.router.route(p.events[:0], msgs)
	sensors := len(p.events)
	if len(p.routes) > 0 {
		p.events = p.routeChecks(p.events, msgs)
	}
	if len(p.events) == 0 {
		return nil
	}
	defer clear(p.events)
	// Chunks keep each append well under the spool's segment size. If a later chunk
	// fails, the batch is not acknowledged and the broker delivers it again: the
	// earlier chunks are then written twice, with the same timestamps, which InfluxDB
	// stores once.
	const chunk = 512
	for evs := p.events; len(evs) > 0; {
		n := min(len(evs), chunk)
		if err := app.Append(ctx, evs[:n]...); err != nil {
			return err
		}
		evs = evs[n:]
	}
	p.observe(p.events[:sensors])
	if ro, ok := p.opt.Latest.(RawObserver); ok {
		for i := range sensors {
			if j := p.router.from[i]; j >= 0 && j < len(msgs) {
				ro.ObserveRaw(p.events[i].Sensor, &msgs[j])
			}
		}
	}
	return nil
}

// routeChecks offers each message to the checks that read its topic and appends the
// points they return.
func (p *Path) routeChecks(dst []telemetry.Event, msgs []mqttsrc.Message) []telemetry.Event {
	synced := p.opt.Clock.Synced()
	for i := range msgs {
		m := &msgs[i]
		var last check.Reader
		for _, rt := range p.routes {
			if rt.check == last || !check.MatchTopic(rt.filter, m.Topic) {
				continue
			}
			last = rt.check
			pts, err := rt.check.Message(*m, synced)
			if err != nil {
				p.counters.reject(rt.check.Name(), telemetry.Reason(err), m.Topic, err)
				continue
			}
			p.counters.count(rt.check.Name(), "decoded")
			dst = append(dst, pts...)
		}
	}
	return dst
}

// observe shows durable sensor events to the status page and the checks.
func (p *Path) observe(evs []telemetry.Event) {
	if len(evs) == 0 {
		return
	}
	for _, o := range p.observers {
		o.Observe(evs)
	}
}

// condProbeError is the condition of a sensor wired to the Pi whose last read failed.
const condProbeError = "probe_error"

// Local makes readings of sensors wired to the Pi durable, like Batch does, and
// resolves their probe_error conditions.
func (p *Path) Local(ctx context.Context, app Appender, samples []telemetry.Sample) error {
	evs := p.router.local(nil, samples)
	if len(evs) == 0 {
		return nil
	}
	if err := app.Append(ctx, evs...); err != nil {
		return err
	}
	p.observe(evs)
	for _, e := range evs {
		p.opt.Conditions.Clear(condProbeError, e.Sensor, e.Time)
	}
	return nil
}

// LocalError counts and logs (rate-limited) a failed read of a wired probe and raises
// a probe_error condition on its sensors; the next good reading resolves it.
func (p *Path) LocalError(device string, err error) {
	source := "local"
	if d := p.router.devices[device]; d != nil {
		source = d.source
	}
	p.counters.reject(source, localsensor.Reason(err), device, err)
	if d := p.router.devices[device]; d != nil {
		now := p.opt.Clock.Now()
		for _, t := range d.targets {
			p.opt.Conditions.Raise(telemetry.Condition{
				Kind: condProbeError, Subject: t.sensor, Zone: t.zone, Severity: telemetry.Warning,
				Since: now, Reason: err.Error(),
			})
		}
	}
}
