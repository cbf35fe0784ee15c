package gateway

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/score"
)

// simClock is a synchronised clock the test moves by hand.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *simClock) Synced() bool    { return true }
func (c *simClock) set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// TestScoreEndToEnd: a simulated day of a centre (clock compressed: the test moves
// it 10 minutes per step) goes through a real Mosquitto into the gateway; after
// local midnight plus the grace hour a safety_score day point lands in a real
// InfluxDB, and its temperature and availability match a recomputation from the raw
// climate points read back from InfluxDB. The live score is published retained.
func TestScoreEndToEnd(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "score")
	loc, _ := time.LoadLocation("Asia/Almaty")
	dayStart := time.Date(2025, 3, 10, 0, 0, 0, 0, loc)
	clock := &simClock{now: dayStart.Add(-time.Minute)}

	cfg := e2eConfig(t, mq, in, "c1")
	cfg.Centre.Timezone, cfg.Centre.Location = "Asia/Almaty", loc
	cfg.Zones = []config.Zone{{ID: "mf", Kind: "med-fridge"}, {ID: "corr", Kind: "corridor"}, {ID: "kit", Kind: "kitchen"}}
	cfg.Sensors = []config.Sensor{
		{ID: "fridge", Zone: "mf", Source: "saqshy", Interval: config.Duration(10 * time.Minute)},
		{ID: "hall", Zone: "corr", Source: "saqshy", Interval: config.Duration(10 * time.Minute)},
		{ID: "kitchen", Zone: "kit", Source: "saqshy", Interval: config.Duration(40 * time.Minute)},
	}
	g := runE2E(t, cfg, Options{Clock: clock})
	wait := func(what string, cond func() bool) { t.Helper(); waitE2E(t, g, 60*time.Second, what, cond) }
	pub := mqttClient(t, mq.URL(), "score-pub")
	decoded := func() uint64 { return g.Stats().Counters[Key{"saqshy", "decoded"}] }
	sent := uint64(0)
	send := func(sensor string, temp float64) {
		t.Helper()
		topic := "saqshy/c1/sensor/" + sensor + "/state"
		if tok := pub.Publish(topic, 1, false, fmt.Sprintf(`{"temperature_c": %g}`, temp)); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		sent++
	}
	// The day, 10 simulated minutes per step; readings carry no time, so the
	// gateway stamps them with its (simulated) clock on arrival.
	for step := 0; step < 144; step++ {
		now := dayStart.Add(time.Duration(step)*10*time.Minute + 30*time.Second)
		clock.set(now)
		h := now.Hour()
		switch {
		case h >= 9 && h < 11: // fridge unplugged for two hours
		case h >= 14 && h < 16:
			send("fridge", 9.5) // warm
		default:
			send("fridge", 4.5)
		}
		if step%3 != 2 {
			send("hall", 17.5+float64(step%4)) // 17.5 (out of band), 18.5, 19.5, 20.5
		}
		if step%4 == 0 {
			send("kitchen", 24)
		}
		wait("readings decoded", func() bool { return decoded() >= sent })
	}
	clock.set(dayStart.Add(25*time.Hour + 2*time.Minute)) // past midnight and the grace hour

	q := fmt.Sprintf(`SELECT "total","temperature","availability","caps","capped","weights_version" FROM "safety_score" WHERE "period" = 'day' AND "centre" = 'c1' AND time = '%s'`,
		dayStart.UTC().Format(time.RFC3339))
	var row []any
	wait("the day point in InfluxDB", func() bool {
		series, err := in.Query(t.Context(), q)
		if err != nil || len(series) == 0 || len(series[0].Values) == 0 {
			return false
		}
		row = series[0].Values[0]
		return true
	})

	// Recompute from the raw climate points, independently of the score package
	// (docs/SAFETY_SCORE.md): a reading is confirmed when the sensor's next one
	// comes within its interval plus 10 %; a slot has data when a confirmed
	// reading is in it; a confirmed in-band reading is held until the next one.
	bands := map[string][2]float64{"fridge": {2, 8}, "hall": {18, math.Inf(1)}}
	weights := map[string]float64{"fridge": 3, "hall": 1}
	intervals := map[string]time.Duration{"fridge": 10 * time.Minute, "hall": 10 * time.Minute, "kitchen": 40 * time.Minute}
	var availSum, tempSum, weightSum float64
	for sensor, iv := range intervals {
		series, err := in.Query(t.Context(), fmt.Sprintf(`SELECT "temperature_c" FROM "climate" WHERE "sensor" = '%s' AND time >= '%s' AND time < '%s'`,
			sensor, dayStart.UTC().Format(time.RFC3339), dayStart.Add(24*time.Hour).UTC().Format(time.RFC3339)))
		if err != nil {
			t.Fatal(err)
		}
		slots := int(24 * time.Hour / iv)
		type reading struct {
			t time.Time
			c float64
		}
		var rs []reading
		for _, s := range series {
			for _, v := range s.Values {
				ns, err := v[0].(json.Number).Int64()
				if err != nil {
					t.Fatal(err)
				}
				c, _ := v[1].(json.Number).Float64()
				rs = append(rs, reading{time.Unix(0, ns), c})
			}
		}
		if len(rs) == 0 {
			t.Fatalf("no climate points for %s", sensor)
		}
		got := map[int]bool{}
		var held time.Duration
		for i := 0; i+1 < len(rs); i++ { // the last reading: nothing confirms it
			gap := rs[i+1].t.Sub(rs[i].t)
			if gap > iv+iv/10 {
				continue
			}
			got[int(rs[i].t.Sub(dayStart)/iv)] = true
			if b, ok := bands[sensor]; ok && rs[i].c >= b[0] && rs[i].c <= b[1] {
				held += gap
			}
		}
		availSum += float64(len(got)) / float64(slots)
		if w, ok := weights[sensor]; ok {
			tempSum += w * held.Seconds() / (24 * time.Hour).Seconds()
			weightSum += w
		}
	}
	wantAvail, wantTemp := availSum/3, tempSum/weightSum
	num := func(i int) float64 { f, _ := row[i].(json.Number).Float64(); return f }
	if math.Abs(num(2)-wantTemp) > 1e-9 || math.Abs(num(3)-wantAvail) > 1e-9 {
		t.Errorf("day point temperature %v availability %v; recomputed from raw points %v %v", row[2], row[3], wantTemp, wantAvail)
	}
	// The fridge was silent for two hours: the freeze cap's no-data twin applies
	// (missing data is the worst case, but the page must not say the medicines
	// froze) and caps the total at 70 — here the total is lower anyway.
	wantTotal := 100 * (0.35*math.Min(wantTemp, 0.6) + 0.15*wantAvail) / 0.5
	if math.Abs(num(1)-wantTotal) > 1e-9 || row[4] != score.CapFreezeNoData || row[5] != true || row[6] != "2025.1" {
		t.Errorf("day point %v; want total %v, caps %s", row, wantTotal, score.CapFreezeNoData)
	}
	// Live points are written once per simulated minute the ticker (once a real
	// second) sees; the last one is at the final clock's minute.
	liveAt := dayStart.Add(25*time.Hour + 2*time.Minute).UTC().Format(time.RFC3339)
	wait("the live point", func() bool {
		return in.Count(t, "safety_score", "total", `"period" = 'live' AND time = '`+liveAt+`'`) == 1
	})

	// The live score is retained on saqshy/c1/score.
	got := make(chan []byte, 1)
	sub := mqttClient(t, mq.URL(), "score-sub")
	sub.Subscribe("saqshy/c1/score", 1, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case got <- m.Payload():
		default:
		}
	})
	select {
	case p := <-got:
		var live struct {
			Total      float64            `json:"total"`
			Period     string             `json:"period"`
			Components map[string]float64 `json:"components"`
		}
		if err := json.Unmarshal(p, &live); err != nil || live.Period != "live" || len(live.Components) != 2 {
			t.Errorf("retained score %s: %v", p, err)
		}
	case <-time.After(30 * time.Second):
		t.Error("no retained score on saqshy/c1/score")
	}
	if snap, ok := g.Score(); !ok || snap.Live == nil || len(snap.Days) != 1 {
		t.Errorf("score snapshot %+v %t", snap, ok)
	}
}
