package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// Rounds simulates the night rounds of a centre for the demo: a short window that
// begins a few minutes from now, checkpoints in the centre's rooms scanned in every
// slot through each kind of source (native reader with its own time, Zigbee button,
// Tasmota RFID reader with a staff card), and now and then a slot nobody scans.
type Rounds struct {
	centre     string
	cps        []config.Checkpoint
	start, end time.Time
	every      time.Duration
	rng        *rand.Rand
	// MissEvery: about one slot in MissEvery is not scanned (default 12).
	MissEvery int
}

// roundsPlan is the demo's checkpoints: zone, source.
var roundsPlan = []struct{ zone, source string }{
	{"room-101", config.RoundSaqshy}, {"room-102", config.RoundSaqshy}, {"room-103", config.RoundSaqshy},
	{"room-104", config.RoundSaqshy}, {"treatment", config.RoundSaqshy},
	{"corridor-1", config.RoundZigbee2MQTT}, {"corridor-2", config.RoundZigbee2MQTT}, {"entrance", config.RoundTasmota},
}

// AddRounds adds a night-round schedule to the centre's config: a window of length
// starting at the second whole minute after now, every checkpoint due every every
// (the treatment room twice as often), a grace of a fifth of the interval. Call it
// before the config is validated.
func AddRounds(c *Centre, now time.Time, length, every time.Duration) *Rounds {
	loc := c.loc
	if loc == nil {
		loc = time.UTC
	}
	start := now.In(loc).Truncate(time.Minute).Add(2 * time.Minute)
	end := start.Add(length)
	r := &Rounds{centre: c.Config.Centre.ID, start: start, end: end, every: every, rng: rand.New(rand.NewPCG(c.rng.Uint64(), 7)), MissEvery: 12}
	rc := &c.Config.Rounds
	rc.Window = start.Format("15:04") + "-" + end.Format("15:04")
	rc.Interval = config.Duration(every)
	rc.Grace = config.Duration(every / 5)
	rc.Overrides = []config.RoundOverride{{ZoneKind: "medical", Interval: config.Duration(every / 2)}}
	rc.Badges = []config.Badge{{ID: "nurse-aigul", UID: "04A1B2C3D4E580", Name: "Aigul", Role: "nurse"}}
	rc.Checkpoints = nil
	for i, p := range roundsPlan {
		cp := config.Checkpoint{ID: "cp-" + p.zone, Zone: p.zone, Source: p.source, Tag: fmt.Sprintf("04D3%04X", i)}
		switch p.source {
		case config.RoundZigbee2MQTT:
			cp.Topic = "zigbee2mqtt/cp-" + p.zone + "-button"
		case config.RoundTasmota:
			cp.Topic = "tele/cp-" + p.zone + "-reader/SENSOR"
		}
		rc.Checkpoints = append(rc.Checkpoints, cp)
	}
	r.cps = rc.Checkpoints
	return r
}

// Scan is one planned scan.
type Scan struct {
	At      time.Time
	Message Message
}

// Plan returns the night's scans in time order: in each slot the nurse walks the
// checkpoints a minute apart, starting a minute into the slot; about one slot in
// MissEvery is skipped.
func (r *Rounds) Plan() []Scan {
	var out []Scan
	for s := r.start; s.Before(r.end); s = s.Add(r.every / 2) {
		for i, cp := range r.cps {
			medical := cp.Zone == "treatment"
			if !medical && s.Sub(r.start)%r.every != 0 {
				continue // the half-interval slots are the treatment room's only
			}
			if r.MissEvery > 0 && r.rng.IntN(r.MissEvery) == 0 {
				continue
			}
			at := s.Add(time.Minute + time.Duration(i)*time.Minute/2)
			if at.After(r.end) {
				continue
			}
			out = append(out, Scan{At: at, Message: r.message(cp, at)})
		}
	}
	return sortScans(out)
}

func sortScans(s []Scan) []Scan {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].At.Before(s[j-1].At); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func (r *Rounds) message(cp config.Checkpoint, at time.Time) Message {
	switch cp.Source {
	case config.RoundZigbee2MQTT:
		return Message{Topic: cp.Topic, Payload: []byte(`{"action":"single","battery":93,"linkquality":120}`)}
	case config.RoundTasmota:
		return Message{Topic: cp.Topic, Payload: fmt.Appendf(nil, `{"Time":%q,"PN532":{"UID":"04A1B2C3D4E580","DATA":""}}`, at.Format("2006-01-02T15:04:05"))}
	}
	p, _ := json.Marshal(map[string]any{"tag": cp.Tag, "badge": "nurse-aigul", "reader": "demo-phone", "ts": at.Unix()})
	return Message{Topic: config.RoundsTopic(r.centre, cp.ID), Payload: p}
}

// Run publishes the planned scans at their times until the window ends or ctx does.
func (r *Rounds) Run(ctx context.Context, pub Publisher) error {
	for _, s := range r.Plan() {
		t := time.NewTimer(time.Until(s.At))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if err := pub.Publish(ctx, s.Message); err != nil && ctx.Err() == nil {
			return fmt.Errorf("sim: publish scan %s: %w", s.Message.Topic, err)
		}
	}
	return nil
}

// PlanBefore returns the scans of the days nights before this one, oldest first:
// the same window, days earlier (for a replay of the centre's past).
func (r *Rounds) PlanBefore(days int) []Scan {
	var out []Scan
	for k := days; k >= 1; k-- {
		p := *r
		p.start, p.end = r.start.AddDate(0, 0, -k), r.end.AddDate(0, 0, -k)
		out = append(out, p.Plan()...)
	}
	return out
}
