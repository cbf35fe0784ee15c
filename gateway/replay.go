package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/deadband"
	"github.com/saqshy/saqshy/gateway/readings"
	"github.com/saqshy/saqshy/gateway/score/scoreconfig"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Replay runs a centre's past through the gateway's own code, on a clock the
// caller drives: the messages its devices published go through the reading path
// (decoders, resolution, the checks that read MQTT: cameras, night rounds), and the
// checks tick (the heartbeat, coverage, rules and alerts, the safety score) every
// ReplayTick of the times the caller gives. Every event and point goes to the caller's appender
// through the live gateway's deadband, as the live gateway's go to the spool. The
// checks keep their state in memory (the alerts in a directory of their own,
// removed by Close); nothing is published and no notification is sent (nothing runs the outbox). The demo
// seeds its centre's past days with it.
type Replay struct {
	next  time.Time // the next tick
	g     *Gateway
	clock *replayClock
	app   readings.Appender
	ticks check.Ticks
	dir   string
}

// replayClock is a synchronised clock at the time the replay has reached.
type replayClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *replayClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *replayClock) Synced() bool { return true }

func (c *replayClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// NewReplay prepares the replay of cfg's centre from start (when its gateway
// started), writing to app. cfg is not changed; its spool directory is not used.
func NewReplay(cfg *config.Config, start time.Time, app readings.Appender, log *slog.Logger) (*Replay, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "saqshy-replay-")
	if err != nil {
		return nil, fmt.Errorf("gateway: replay: %w", err)
	}
	c := *cfg
	c.Spool.Dir = dir // the alerts' state and outbox
	clk := &replayClock{now: start}
	g, err := New(&c, Options{Logger: log, Clock: clk, inMemory: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	g.started, g.replay = start, true
	r := &Replay{g: g, clock: clk, dir: dir, app: deadband.New(app, deadband.Default(), clk.Now)}
	r.ticks = check.Ticks{Checks: g.checks, Clock: clk, Log: log}
	return r, nil
}

// At replays the messages received at or before t (each at its Received time, in
// order, after the previous call's t), then ticks the checks at t.
func (r *Replay) At(ctx context.Context, t time.Time, msgs []telemetry.Message) error {
	for i := 0; i < len(msgs); {
		j := i + 1
		for j < len(msgs) && msgs[j].Received.Equal(msgs[i].Received) {
			j++
		}
		r.clock.set(msgs[i].Received)
		if err := r.g.readings.Batch(ctx, r.app, msgs[i:j]); err != nil {
			return fmt.Errorf("gateway: replay at %s: %w", msgs[i].Received.Format(time.RFC3339), err)
		}
		i = j
	}
	r.clock.set(t)
	if t.Before(r.next) {
		return nil
	}
	return r.tick(ctx, t)
}

// End ticks the checks at t, the replay's end, however long since their last
// tick: the past then ends with t's heartbeat and scores (not up to ReplayTick
// before it, which the monitoring room showed as the gateway's last sign of life
// until the live gateway's first heartbeat came through).
func (r *Replay) End(ctx context.Context, t time.Time) error {
	r.clock.set(t)
	return r.tick(ctx, t)
}

func (r *Replay) tick(ctx context.Context, t time.Time) error {
	r.next = t.Truncate(ReplayTick).Add(ReplayTick)
	return r.ticks.Once(ctx, r.app, t, true)
}

// ReplayTick is how often the checks tick in a replay (the live gateway's tick
// every second): each tick the score computes the day so far, which is most of
// a replay's time.
const ReplayTick = 5 * time.Minute

// Handover writes the state of the checks that a gateway on the spool directory
// dir goes on from, as that gateway keeps them there: the score's days, the
// cameras' coverage (the rolling 24 hours with it) and the night rounds (not their
// summaries not yet published), so that its live score is computed over the
// replayed day, not from its own start; and the status page's 24 h charts of the
// replayed readings. Not the alerts': the gateway would send
// the past's notifications again. Call it after the last At, before that gateway
// is made.
func (r *Replay) Handover(dir string) error {
	if sc := r.g.score; sc != nil {
		if err := sc.SaveTo(filepath.Join(dir, scoreconfig.StateFile)); err != nil {
			return fmt.Errorf("gateway: replay: %w", err)
		}
	}
	if rc := r.g.rounds; rc != nil {
		if err := rc.SavePast(filepath.Join(dir, roundsStateFile)); err != nil {
			return fmt.Errorf("gateway: replay: %w", err)
		}
	}
	if cc := r.g.camera; cc != nil {
		if err := cc.SaveTo(filepath.Join(dir, cameraStateFile)); err != nil {
			return fmt.Errorf("gateway: replay: %w", err)
		}
	}
	if err := r.g.latest.hist.SaveTo(filepath.Join(dir, historyStateFile), r.clock.Now()); err != nil {
		return fmt.Errorf("gateway: replay: %w", err)
	}
	return nil
}

// Close removes the checks' state.
func (r *Replay) Close() error { return os.RemoveAll(r.dir) }
