package check

import (
	"context"
	"log/slog"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// TickEvery is the period of the checks' ticks.
const TickEvery = time.Second

// maxPendingPoints bounds the checks' points waiting for a failing spool.
const maxPendingPoints = 10_000

// Ticks calls every Ticker's Tick once a period and appends what they return. A
// failed append is logged and the points are offered again at the next tick.
type Ticks struct {
	Checks []Check
	Clock  Clock
	Log    *slog.Logger
	Every  time.Duration // default TickEvery
	// Alive, when set, is told the clock's time at every tick: the gateway's
	// liveness.
	Alive func(time.Time)
}

// Run ticks until ctx is cancelled, appending the points to app.
func (t Ticks) Run(ctx context.Context, app Appender) {
	if len(t.Checks) == 0 {
		return
	}
	every := t.Every
	if every <= 0 {
		every = TickEvery
	}
	tk := time.NewTicker(every)
	defer tk.Stop()
	var pending []telemetry.Event
	for {
		select {
		case <-ctx.Done():
			if len(pending) > 0 {
				t.Log.Warn("points not written at shutdown", "points", len(pending))
			}
			return
		case <-tk.C:
		}
		now, synced := t.Clock.Now(), t.Clock.Synced()
		if t.Alive != nil {
			t.Alive(now)
		}
		// While the spool refuses a large backlog of points, the checks' time stands
		// still rather than points being dropped: nothing is confirmed (Committed)
		// that is not durable, and the checks count the gap when ticks resume.
		if len(pending) < maxPendingPoints {
			pending = t.collect(pending, now, synced)
		}
		if len(pending) == 0 {
			continue
		}
		if err := app.Append(ctx, pending...); err != nil {
			if ctx.Err() == nil {
				t.Log.Error("writing the checks' points to the spool", "err", err, "points", len(pending))
			}
			continue
		}
		clear(pending)
		pending = pending[:0]
		t.committed()
	}
}

// Once runs one tick at now, on a clock the caller drives (a replay of the past):
// the checks' points go to app, and once they are durable the checks are told.
func (t Ticks) Once(ctx context.Context, app Appender, now time.Time, synced bool) error {
	if t.Alive != nil {
		t.Alive(now)
	}
	pts := t.collect(nil, now, synced)
	if len(pts) == 0 {
		return nil
	}
	if err := app.Append(ctx, pts...); err != nil {
		return err
	}
	t.committed()
	return nil
}

// collect appends every Ticker's points at now to dst.
func (t Ticks) collect(dst []telemetry.Event, now time.Time, synced bool) []telemetry.Event {
	for _, c := range t.Checks {
		if c, ok := c.(Ticker); ok {
			dst = append(dst, c.Tick(now, synced)...)
		}
	}
	return dst
}

// committed tells every Committer that its points are durable.
func (t Ticks) committed() {
	for _, c := range t.Checks {
		if c, ok := c.(Committer); ok {
			c.Committed()
		}
	}
}
