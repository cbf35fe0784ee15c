package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/saqshy/saqshy/gateway/localsensor"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// localPoller returns the poller of the sensors wired to the Pi, or nil if none are
// configured. A probe that cannot be opened is logged and skipped; it never stops
// the gateway.
func (g *Gateway) localPoller() (*localsensor.Poller, error) {
	targets, err := localsensor.Targets(g.cfg.Sensors, g.opt.Local)
	if err != nil {
		g.log.Error("some sensors wired to the Pi cannot be read", "err", err)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	p, err := localsensor.NewPoller(targets, localsensor.PollerOptions{
		Jitter:  0.1,
		OnError: g.localError,
		Now:     g.opt.Clock.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: local sensors: %w", err)
	}
	return p, nil
}

// emitLocal makes local readings durable, like the MQTT handler does.
func (g *Gateway) emitLocal(ctx context.Context, samples []telemetry.Sample) error {
	evs := g.router.local(nil, samples)
	if len(evs) == 0 {
		return nil
	}
	g.mu.Lock()
	sp := g.spool
	g.mu.Unlock()
	if err := sp.Append(ctx, evs...); err != nil {
		return err
	}
	g.states.update(evs)
	g.observe(evs)
	for _, e := range evs {
		g.conds.Clear(condProbeError, e.Sensor, e.Time)
	}
	return nil
}

// condProbeError is the condition of a sensor wired to the Pi whose last read failed.
const condProbeError = "probe_error"

// localError counts and logs (rate-limited) a failed read of a wired probe and raises
// a probe_error condition on its sensors; the next good reading resolves it.
func (g *Gateway) localError(device string, err error) {
	source := "local"
	if d := g.router.devices[device]; d != nil {
		source = d.source
	}
	g.counters.reject(source, localReason(err), device, err)
	if d := g.router.devices[device]; d != nil {
		now := g.opt.Clock.Now()
		for _, t := range d.targets {
			g.conds.Raise(telemetry.Condition{
				Kind: condProbeError, Subject: t.sensor, Zone: t.zone, Severity: telemetry.Warning,
				Since: now, Reason: err.Error(),
			})
		}
	}
}

func localReason(err error) string {
	switch {
	case errors.Is(err, localsensor.ErrCRC):
		return "crc"
	case errors.Is(err, localsensor.ErrPowerOn):
		return "power_on_value"
	case errors.Is(err, localsensor.ErrDisconnected):
		return "disconnected"
	case errors.Is(err, localsensor.ErrWrongChip):
		return "wrong_chip"
	case errors.Is(err, localsensor.ErrBus):
		return "bus_error"
	case errors.Is(err, localsensor.ErrBadData):
		return "bad_data"
	}
	return "read_error"
}
