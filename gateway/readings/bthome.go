package readings

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/decode"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Shelly BLU sensors (bthomesensor:N components of a Shelly gen2+ device) say only
// a value; what it measures is in the component's config. The gateway asks each
// Shelly device that has such sensors in the centre config (Shelly.GetComponents
// on <prefix>/rpc, answered on saqshy/bthome/<prefix>/rpc) and remembers the
// answers; a sensor's quantity: in the config wins over the answer.

// bthomeQuantities knows what each Shelly BLU sensor measures: configured, or
// learnt from its device's answer. Safe for concurrent use.
type bthomeQuantities struct {
	configured map[[2]string]telemetry.Metric // immutable after newRouter
	devices    []string                       // Shelly prefixes with BLU sensors in the config, sorted

	mu       sync.Mutex
	learnt   map[[2]string]telemetry.Metric
	answered map[string]bool // devices whose whole listing arrived
	next     chan bthomePage // further pages to ask for
}

// bthomePage is one page of a device's component listing.
type bthomePage struct {
	device string
	offset int
}

func newBTHomeQuantities() *bthomeQuantities {
	return &bthomeQuantities{
		configured: map[[2]string]telemetry.Metric{},
		learnt:     map[[2]string]telemetry.Metric{},
		answered:   map[string]bool{},
		next:       make(chan bthomePage, 16),
	}
}

// add records a configured sensor: its device is asked, its quantity: wins.
func (q *bthomeQuantities) add(s config.Sensor) {
	if s.Source != config.SourceShelly || !decode.IsBTHomeSensor(s.Key) {
		return
	}
	dev := s.Device()
	if m := s.QuantityMetric(); m != 0 {
		q.configured[[2]string{dev, s.Key}] = m
	}
	for _, d := range q.devices {
		if d == dev {
			return
		}
	}
	q.devices = append(q.devices, dev)
}

// BTHomeQuantity implements decode.BTHomeQuantities.
func (q *bthomeQuantities) BTHomeQuantity(device, comp string) (telemetry.Metric, bool) {
	k := [2]string{device, comp}
	if m, ok := q.configured[k]; ok {
		return m, true
	}
	q.mu.Lock()
	m, ok := q.learnt[k]
	q.mu.Unlock()
	return m, ok
}

// learn reads a device's answer. Components whose object id the gateway does not
// record (a button, a window contact) are remembered as nothing: their values stay
// unknown_quantity.
func (q *bthomeQuantities) learn(device string, payload []byte) error {
	r, err := decode.ParseShellyRPCReply(payload)
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range r.Components {
		if m, ok := c.Metric(); ok {
			q.learnt[[2]string{device, c.Key}] = m
		}
	}
	if r.Next > 0 {
		select {
		case q.next <- bthomePage{device, r.Next}:
		default: // asked again at the next round
		}
		return nil
	}
	q.answered[device] = true
	return nil
}

// unanswered returns the devices whose listing has not (all) arrived.
func (q *bthomeQuantities) unanswered() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, d := range q.devices {
		if !q.answered[d] {
			out = append(out, d)
		}
	}
	return out
}

// forget marks every device unanswered, so that the next round asks all again
// (a BLU sensor added on the device since).
func (q *bthomeQuantities) forget() {
	q.mu.Lock()
	clear(q.answered)
	q.mu.Unlock()
}

// Publisher publishes one MQTT message (the gateway's connection).
type Publisher interface {
	Publish(ctx context.Context, topic string, retained bool, payload []byte) error
}

// ShellyAsker asks the Shelly devices with BLU sensors in the config what each
// sensor measures. It is a check.Runner; see [Path.ShellyAsker].
type ShellyAsker struct {
	q   *bthomeQuantities
	pub Publisher
	log *slog.Logger
	// Retry is how often devices that have not answered are asked again; Refresh
	// how often all are asked again.
	Retry, Refresh time.Duration
}

// ShellyAsker returns the asker of the Shelly devices with BLU sensors in the
// config, or nil when there are none. Run it (check.Runner) beside the MQTT source.
func (p *Path) ShellyAsker(pub Publisher, log *slog.Logger) *ShellyAsker {
	q := p.router.bthome
	if len(q.devices) == 0 {
		return nil
	}
	return &ShellyAsker{q: q, pub: pub, log: log, Retry: time.Minute, Refresh: time.Hour}
}

// Name implements check.Check.
func (a *ShellyAsker) Name() string { return "shelly_bthome" }

// Run asks until ctx ends: the unanswered devices every Retry, all every Refresh,
// and the next page of a long listing at once. A device that never answers (RPC
// over MQTT off) keeps being asked; its sensors need quantity: in the config.
func (a *ShellyAsker) Run(ctx context.Context) error {
	retry := time.NewTicker(a.Retry)
	defer retry.Stop()
	refresh := time.NewTicker(a.Refresh)
	defer refresh.Stop()
	id := 0
	ask := func(dev string, offset int) {
		id++
		topic, payload := decode.ShellyRPCRequest(dev, id, offset)
		if err := a.pub.Publish(ctx, topic, false, payload); err != nil && ctx.Err() == nil {
			a.log.Debug("asking a Shelly device for its BLU sensors", "device", dev, "err", err)
		}
	}
	askAll := func() {
		for _, dev := range a.q.unanswered() {
			ask(dev, 0)
		}
	}
	askAll()
	for {
		select {
		case <-ctx.Done():
			return nil
		case p := <-a.q.next:
			ask(p.device, p.offset)
		case <-retry.C:
			askAll()
		case <-refresh.C:
			a.q.forget()
			askAll()
		}
	}
}
