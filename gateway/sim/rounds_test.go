package sim

import (
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/rounds"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

type countConds struct{ raised int }

func (n *countConds) Raise(telemetry.Condition)       { n.raised++ }
func (n *countConds) Clear(string, string, time.Time) {}

// TestDemoRounds: the demo's scans are all plausible, and the night's compliance is
// exactly the share of slots the simulator did not skip.
func TestDemoRounds(t *testing.T) {
	c := NewCentre("demo-centre", 42)
	now := time.Date(2026, 1, 10, 23, 20, 30, 0, c.loc)
	r := AddRounds(c, now, time.Hour, 10*time.Minute)
	r.MissEvery = 6
	c.Config.ApplyDefaults()
	if err := c.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Config.Rounds.Window != "23:22-00:22" {
		t.Errorf("window %q", c.Config.Rounds.Window)
	}
	conds := &countConds{}
	ck, err := rounds.New(rounds.Options{Config: c.Config, Conditions: conds})
	if err != nil {
		t.Fatal(err)
	}
	plan := r.Plan()
	tick := now
	var night map[string]any
	advance := func(to time.Time) {
		for ; !tick.After(to); tick = tick.Add(10 * time.Second) {
			for _, e := range ck.Tick(tick, true) {
				if e.Point.Measurement == "round_night" && len(e.Point.Tags) == 1 {
					night = map[string]any{}
					for _, f := range e.Point.Fields {
						night[f.Key] = f.Value()
					}
				}
			}
		}
	}
	for _, s := range plan {
		advance(s.At)
		evs, err := ck.Message(telemetry.Message{Topic: s.Message.Topic, Payload: s.Message.Payload, Received: s.At}, true)
		if err != nil || len(evs) == 0 {
			t.Fatalf("%s: %v", s.Message.Topic, err)
		}
		for _, f := range evs[len(evs)-1].Point.Fields {
			if f.Key == "flagged" && f.Value() == true {
				t.Errorf("demo scan flagged: %+v", evs[len(evs)-1].Point)
			}
		}
	}
	advance(now.Add(2 * time.Hour))
	// 7 checkpoints x 6 slots + the treatment room x 12 = 54 due.
	if night == nil || night["due"] != int64(54) || night["on_time"] != int64(len(plan)) || night["missed"] != int64(54-len(plan)) {
		t.Fatalf("night %v, %d scans", night, len(plan))
	}
	if len(plan) == 54 || conds.raised != 54-len(plan) {
		t.Errorf("%d scans, %d conditions: the simulator should miss a slot now and then", len(plan), conds.raised)
	}
}
