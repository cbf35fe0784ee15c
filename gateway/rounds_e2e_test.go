package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/rounds"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// fastClock stands at base until started, then runs speed times faster than the
// wall clock; always synced.
type fastClock struct {
	mu    sync.Mutex
	base  time.Time
	real  time.Time // zero until started
	speed float64
}

func (c *fastClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real.IsZero() {
		return c.base
	}
	return c.base.Add(time.Duration(float64(time.Since(c.real)) * c.speed))
}

func (c *fastClock) start() {
	c.mu.Lock()
	c.real = time.Now()
	c.mu.Unlock()
}

func (*fastClock) Synced() bool { return true }

// TestRoundsEndToEnd: 60 checkpoints (native scans, Zigbee2MQTT buttons, Tasmota
// readers) over a night compressed 300 times (3 h 15 min in about 40 s) through a
// real Mosquitto into a real InfluxDB: the scan, slot and night points land, the
// missed slots raise round_missed at once (critical on the second in a row) and the
// conditions clear at the window's end, and the summary is published retained.
func TestRoundsEndToEnd(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "rounds")
	loc, _ := time.LoadLocation("Asia/Almaty")
	cfg := config.Default()
	cfg.Centre.ID = "c1"
	cfg.MQTT.URL = mq.URL()
	cfg.MQTT.ClientID = "saqshy-rounds"
	cfg.Influx.URL, cfg.Influx.Bucket = in.URL(), in.Bucket()
	cfg.Spool.Dir = t.TempDir()
	cfg.Status.Listen = config.StatusOff
	cfg.Rounds.Window = "22:00-01:00"
	cfg.Rounds.Interval = config.Duration(time.Hour)
	cfg.Rounds.Grace = config.Duration(10 * time.Minute)
	cfg.Rounds.MaxSkew = config.Duration(15 * time.Minute) // 3 s of lag on a busy test machine
	cfg.Rounds.Overrides = []config.RoundOverride{{ZoneKind: "medical", Interval: config.Duration(30 * time.Minute)}}
	type cpPlan struct {
		id, topic, payload string
		medical            bool
	}
	var cps []cpPlan
	for i := 1; i <= 60; i++ {
		id, zone := fmt.Sprintf("cp-%02d", i), fmt.Sprintf("z-%02d", i)
		kind := "living"
		if i%3 == 0 {
			kind = "medical" // 20 medical checkpoints, every 30 min
		}
		cfg.Zones = append(cfg.Zones, config.Zone{ID: zone, Kind: kind})
		cp := config.Checkpoint{ID: id, Zone: zone}
		p := cpPlan{id: id, topic: config.RoundsTopic("c1", id), payload: "{}", medical: kind == "medical"}
		switch {
		case i > 50: // a Tasmota reader on the wall; each reads its own staff card
			cp.Source, cp.Topic = "tasmota", fmt.Sprintf("tele/reader-%02d/SENSOR", i)
			p.topic, p.payload = cp.Topic, fmt.Sprintf(`{"Time":"x","PN532":{"UID":"CA%06X","DATA":""}}`, i)
		case i > 40: // a Zigbee button
			cp.Source, cp.Topic = "zigbee2mqtt", fmt.Sprintf("zigbee2mqtt/button-%02d", i)
			p.topic, p.payload = cp.Topic, `{"action":"single","battery":97}`
		}
		cfg.Rounds.Checkpoints = append(cfg.Rounds.Checkpoints, cp)
		cps = append(cps, p)
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	// The plan, in night time: each hour, the first half-hour's medical slots and
	// half the living ones from hh:01 every 40 s, the second half-hour's from hh:31.
	type scan struct {
		at             time.Time
		topic, payload string
	}
	var plan []scan
	skip := map[string]bool{"cp-05@23": true, "cp-44@22": true, "cp-44@23": true} // 3 missed slots
	for _, h := range []time.Time{time.Date(2025, 1, 10, 22, 0, 0, 0, loc), time.Date(2025, 1, 10, 23, 0, 0, 0, loc), time.Date(2025, 1, 11, 0, 0, 0, 0, loc)} {
		var first, second []cpPlan
		living := 0
		for _, p := range cps {
			if skip[fmt.Sprintf("%s@%d", p.id, h.Hour())] {
				continue
			}
			switch {
			case p.medical:
				first, second = append(first, p), append(second, p)
			case living%2 == 0:
				first = append(first, p)
				living++
			default:
				second = append(second, p)
				living++
			}
		}
		for half, ps := range [][]cpPlan{first, second} {
			for i, p := range ps {
				at := h.Add(time.Duration(half)*30*time.Minute + time.Minute + time.Duration(i)*40*time.Second)
				payload := p.payload
				if payload == "{}" { // a native reader dates its scans (SNTP): arrival jitter does not matter
					payload = fmt.Sprintf(`{"ts":%d}`, at.Unix())
				}
				plan = append(plan, scan{at, p.topic, payload})
			}
		}
	}
	sortScans := func() {
		for i := 1; i < len(plan); i++ {
			for j := i; j > 0 && plan[j].at.Before(plan[j-1].at); j-- {
				plan[j], plan[j-1] = plan[j-1], plan[j]
			}
		}
	}
	// Two scans that cannot count: one before the window, one duplicate.
	plan = append(plan, scan{time.Date(2025, 1, 10, 21, 58, 0, 0, loc), cps[0].topic, `{"n":1}`})
	plan = append(plan, scan{time.Date(2025, 1, 10, 22, 1, 15, 0, loc), cps[0].topic, fmt.Sprintf(`{"ts":%d,"n":2}`, time.Date(2025, 1, 10, 22, 1, 15, 0, loc).Unix())})
	sortScans()

	clock := &fastClock{base: time.Date(2025, 1, 10, 21, 57, 0, 0, loc), speed: 300}
	g := runE2E(t, cfg, Options{Clock: clock})
	ctx := t.Context()
	wait := func(what string, limit time.Duration, cond func() bool) { t.Helper(); waitE2E(t, g, limit, what, cond) }

	// Watch the conditions as they come and go.
	var mu sync.Mutex
	seen := map[string]telemetry.Severity{}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		for watchCtx.Err() == nil {
			for _, c := range g.Conditions() {
				mu.Lock()
				if c.Kind == rounds.KindMissed && c.Severity > seen[c.Subject] {
					seen[c.Subject] = c.Severity
				}
				mu.Unlock()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	summary := make(chan []byte, 4)
	pub := mqttClient(t, mq.URL(), "walker")
	if tok := pub.Subscribe(rounds.SummaryTopic("c1"), 1, func(_ mqtt.Client, m mqtt.Message) { summary <- m.Payload() }); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	time.Sleep(1500 * time.Millisecond) // a tick or two at 21:57: the gateway watched the night begin
	clock.start()
	for _, s := range plan {
		if d := time.Duration(float64(s.at.Sub(clock.Now())) / clock.speed); d > 0 {
			time.Sleep(d)
		}
		if tok := pub.Publish(s.topic, 1, false, s.payload); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}

	var sum rounds.Summary
	select {
	case p := <-summary:
		if err := json.Unmarshal(p, &sum); err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no summary; stats %s", g.Stats())
	}
	// 40 living checkpoints x 3 slots + 20 medical x 6 = 240 due; 3 missed.
	if sum.Overall.Due != 240 || sum.Overall.OnTime != 237 || sum.Overall.Missed != 3 || sum.Unknown ||
		sum.Overall.Compliance != 237.0/240 || sum.ZoneKinds["medical"].Due != 120 || sum.Flagged != 1 || len(sum.Missed) != 3 {
		t.Errorf("summary %+v", sum)
		flagged, _ := in.Query(t.Context(), `SELECT "checkpoint", "reason" FROM "round" WHERE "flagged" = true`)
		t.Logf("flagged scans: %+v", flagged)
	}
	wait("round points in InfluxDB", 30*time.Second, func() bool {
		return in.Count(t, "round", "flagged", `"event" = 'scan'`) == 239 &&
			in.Count(t, "round", "on_time", `"event" = 'slot'`) == 240 &&
			in.Count(t, "round_night", "compliance", "") == 3
	})
	for _, q := range []struct {
		where string
		want  int64
	}{
		{`"event" = 'slot' AND "status" = 'missed'`, 3},
		{`"event" = 'slot' AND "status" = 'on_time'`, 237},
		{`"event" = 'scan' AND "reason" = 'duplicate'`, 1},
		{`"event" = 'scan' AND "reason" = 'outside_window'`, 1},
		{`"event" = 'scan' AND "source" = 'tasmota' AND "zone_kind" = 'medical'`, 4 * 6},
		{`"centre" = 'c1' AND "checkpoint" = 'cp-44' AND "status" = 'missed'`, 2},
	} {
		if n := in.Count(t, "round", "late_s", q.where); n != q.want {
			t.Errorf("round where %s: %d points, want %d", q.where, n, q.want)
		}
	}
	series, err := in.Query(t.Context(), `SELECT "compliance", "due", "missed" FROM "round_night" WHERE "zone_kind" = 'living'`)
	if err != nil || len(series) != 1 || fmt.Sprint(series[0].Values[0][1:]) != "[0.975 120 3]" {
		t.Errorf("living night: %+v %v", series, err)
	}
	mu.Lock()
	if len(seen) != 2 || seen["cp-05"] != telemetry.Warning || seen["cp-44"] != telemetry.Critical {
		t.Errorf("round_missed conditions seen: %v", seen)
	}
	mu.Unlock()
	for _, c := range g.Conditions() {
		if c.Kind == rounds.KindMissed {
			t.Errorf("still open after the window: %+v", c)
		}
	}
	if st, ok := g.RoundsStatus(); !ok || !st.Final || st.Night != "2025-01-10" || st.Missed != 3 || st.Pending != 0 {
		t.Errorf("status %+v", st)
	}
}
