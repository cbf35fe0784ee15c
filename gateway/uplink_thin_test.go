package gateway

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/deadband"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// thinAppender wraps the spool as Run does.
func thinAppender(next check.Appender, c check.Clock) check.Appender {
	return deadband.New(next, deadband.Default(), c.Now)
}

// flushEvery is the writer's FlushEvery that saqshy-gateway run sets.
const flushEvery = 10 * time.Second

// observed records every event a check is shown.
type observed struct{ evs []telemetry.Event }

func (o *observed) Name() string                  { return "observed" }
func (o *observed) Observe(evs []telemetry.Event) { o.evs = append(o.evs, evs...) }

// TestChecksSeeEveryReadingThroughDeadband: the deadband thins what reaches the
// spool, but the checks (rules, score, plausibility) observe every event of the
// reading path, with every value as read.
func TestChecksSeeEveryReadingThroughDeadband(t *testing.T) {
	c := sim.NewFleet("c1", 2, 7)
	for _, d := range c.Devices {
		d.TemperatureOnly = false
	}
	cfg := c.Config
	cfg.Spool.Dir = filepath.Join(t.TempDir(), "spool")
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clk := &dayClock{t: start}
	obs := &observed{}
	g, err := New(cfg, Options{Clock: clk, checks: []check.Check{obs}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &appends{}
	app := thinAppender(rec, clk)
	const rounds = 20
	var sent int
	for k := range rounds {
		now := start.Add(time.Duration(k) * time.Minute)
		clk.set(now)
		var msgs []telemetry.Message
		for _, d := range c.Devices {
			for _, m := range c.DeviceTick(d, now) {
				msgs = append(msgs, telemetry.Message{Topic: m.Topic, Payload: m.Payload, Received: now})
			}
		}
		sent += len(msgs)
		if err := g.readings.Batch(context.Background(), app, msgs); err != nil {
			t.Fatal(err)
		}
	}
	count := func(evs []telemetry.Event, m telemetry.Metric) int {
		n := 0
		for _, e := range evs {
			for _, v := range e.Values {
				if v.Metric == m {
					n++
				}
			}
		}
		return n
	}
	var spooled []telemetry.Event
	for _, gr := range rec.groups {
		spooled = append(spooled, gr...)
	}
	seenT, seenB := count(obs.evs, telemetry.Temperature), count(obs.evs, telemetry.Battery)
	spoolT, spoolB := count(spooled, telemetry.Temperature), count(spooled, telemetry.Battery)
	if seenT == 0 || seenB == 0 {
		t.Fatalf("the checks saw %d temperatures and %d battery values from %d messages", seenT, seenB, sent)
	}
	if spoolT != seenT {
		t.Errorf("the spool got %d temperatures, the checks saw %d: every climate reading must be written", spoolT, seenT)
	}
	if spoolB >= seenB {
		t.Errorf("the spool got %d battery values of %d: the deadband thinned nothing", spoolB, seenB)
	}
	batteries := 0
	for _, d := range c.Devices {
		if d.Format == "zigbee2mqtt" || d.Format == "shelly-gen2" || d.Format == "saqshy" {
			batteries++
		}
	}
	if seenB != batteries*rounds {
		t.Errorf("the checks saw %d battery values, want every one: %d sensors with a battery × %d rounds", seenB, batteries, rounds)
	}
}
