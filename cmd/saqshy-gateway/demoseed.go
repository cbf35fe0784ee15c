//go:build !nodemo

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// demoOwnDays is how many days before the start the demo centre's past reaches.
const demoOwnDays = 3

// seedFrom is when the demo centre's replayed past begins, for a demo started at
// now: its gateway's installation, as the registry entry says (the central
// rating scores the centre from then, as the replayed gateway does).
func seedFrom(now time.Time) time.Time {
	return now.AddDate(0, 0, -demoOwnDays).Truncate(time.Hour)
}

// seedStep is the replay's step: the shortest sensor interval and Frigate's stats
// period.
const seedStep = time.Minute

// seedPast replays the demo centre's last days through the gateway's own code
// (gateway.Replay: its decoders, its checks for cameras, night rounds, rules,
// alerts and the score, its heartbeat and deadband), from the simulated devices,
// cameras and night rounds, and sends the result to the ingest as the first link
// of the gateway's chain, signed with its key: the ingest verifies it into
// InfluxDB like any later write, and the gateway continues the chain. It returns
// the number of points. It leaves the replay's checks' state in cfg's spool
// directory for the gateway to go on from (gateway.Replay.Handover). Call it
// before the gateway is made; from is seedFrom(now).
func seedPast(ctx context.Context, cfg *config.Config, centre *sim.Centre, rounds *sim.Rounds, ingestURL, bucket string, from, now time.Time) (int, error) {
	var past eventLog
	rp, err := gateway.NewReplay(cfg, from, &past, nil)
	if err != nil {
		return 0, err
	}
	defer rp.Close()
	scans := rounds.PlanBefore(demoOwnDays)
	var msgs []telemetry.Message
	err = centre.History(from, now, seedStep, func(t time.Time, sent []sim.Message) error {
		msgs = msgs[:0]
		for len(scans) > 0 && !scans[0].At.After(t) {
			if !scans[0].At.Before(from) {
				msgs = append(msgs, message(scans[0].Message, scans[0].At))
			}
			scans = scans[1:]
		}
		for _, m := range sent {
			msgs = append(msgs, message(m, t))
		}
		return rp.At(ctx, t, msgs)
	})
	if err == nil {
		err = rp.End(ctx, now)
	}
	if err != nil {
		return 0, fmt.Errorf("replaying the past: %w", err)
	}
	// The live gateway goes on from the replay's score, coverage and rounds (not
	// its alerts), so that its first minute is judged over the replayed day.
	if err := rp.Handover(cfg.Spool.Dir); err != nil {
		return 0, err
	}
	key, err := chain.LoadPrivateKey(cfg.Influx.Sign.KeyFile)
	if err != nil {
		return 0, err
	}
	ch, err := chain.Open(cfg.Influx.Sign.ChainFile, cfg.Centre.ID, key)
	if err != nil {
		return 0, err
	}
	c := influxsink.NewSignedClient(ingestURL, "", "", bucket, 2*time.Minute, ch)
	defer c.Close()
	lines := influxsink.Lines(cfg.Centre.ID, past.evs)
	if err := c.WriteRecord(ctx, lines); err != nil {
		return 0, fmt.Errorf("sending the past to the ingest (%d bytes): %w", len(lines), err)
	}
	return strings.Count(lines, "\n"), nil
}

// message is a simulated message as the MQTT source hands it over, received at t.
func message(m sim.Message, t time.Time) telemetry.Message {
	return telemetry.Message{Topic: m.Topic, Payload: m.Payload, Retained: m.Retained, Received: t}
}

// eventLog keeps what a replay appends, in order.
type eventLog struct{ evs []telemetry.Event }

func (l *eventLog) Append(_ context.Context, evs ...telemetry.Event) error {
	for _, ev := range evs {
		ev.Values = slices.Clone(ev.Values)
		l.evs = append(l.evs, ev)
	}
	return nil
}
