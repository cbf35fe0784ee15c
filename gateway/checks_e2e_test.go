package gateway

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// echoCheck reads test/+/in: a payload "bad" is rejected, anything else becomes an
// `echo` point; each tick after the first writes one `tick` point; it remembers the
// sensor events it observed.
type echoCheck struct {
	mu       sync.Mutex
	ticks    int
	observed int
}

func (c *echoCheck) Name() string     { return "echo" }
func (c *echoCheck) Topics() []string { return []string{"test/+/in"} }
func (c *echoCheck) Message(m telemetry.Message, synced bool) ([]telemetry.Event, error) {
	if string(m.Payload) == "bad" {
		return nil, errors.New("bad payload")
	}
	return []telemetry.Event{telemetry.NewPoint(m.Received, "echo", []telemetry.Tag{{Key: "topic", Value: m.Topic}},
		telemetry.String("payload", string(m.Payload)), telemetry.Bool("synced", synced))}, nil
}
func (c *echoCheck) Observe(evs []telemetry.Event) {
	c.mu.Lock()
	c.observed += len(evs)
	c.mu.Unlock()
}
func (c *echoCheck) Tick(now time.Time, synced bool) []telemetry.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ticks++
	if c.ticks > 3 {
		return nil
	}
	return []telemetry.Event{telemetry.NewPoint(now, "tick", nil, telemetry.Int("n", int64(c.ticks)))}
}

// TestChecksWiring: a check's topics are subscribed, its messages' points land in
// InfluxDB, its rejects are counted under its name, its ticks' points land, it sees
// the sensor events, and its topics are not counted as unmapped.
func TestChecksWiring(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "checks")
	cfg := e2eConfig(t, mq, in, "c1")
	cfg.Zones = []config.Zone{{ID: "room-1", Kind: "living"}}
	cfg.Sensors = []config.Sensor{{ID: "t1", Zone: "room-1", Source: "saqshy", Topic: "saqshy/c1/sensor/t1"}}
	ck := &echoCheck{}
	g := runE2E(t, cfg, Options{Clock: FixedSync(true), checks: []check.Check{ck}})
	wait := func(what string, cond func() bool) { t.Helper(); waitE2E(t, g, 30*time.Second, what, cond) }
	pub := mqttClient(t, mq.URL(), "pub")
	for i, m := range []struct{ topic, payload string }{
		{"test/a/in", "hello"}, {"test/b/in", "bad"}, {"test/c/in", `say "hi", world`},
		{"saqshy/c1/sensor/t1/state", `{"temperature_c": 21.5}`}, {"test/a/out", "not ours"},
	} {
		if tok := pub.Publish(m.topic, 1, false, m.payload); tok.Wait() && tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	wait("echo and tick points", func() bool {
		return in.Count(t, "echo", "payload", "") == 2 && in.Count(t, "tick", "n", "") == 3 &&
			in.Count(t, "climate", "temperature_c", "") == 1
	})
	series, err := in.Query(t.Context(), `SELECT "payload" FROM "echo" WHERE "topic" = 'test/c/in' AND "centre" = 'c1'`)
	if err != nil || len(series) != 1 || fmt.Sprint(series[0].Values[0][1]) != `say "hi", world` {
		t.Fatalf("echo point for test/c/in: %+v, %v", series, err)
	}
	wait("the gateway's heartbeat", func() bool { return in.Count(t, "gateway", "uptime_s", "") >= 1 })
	hb, err := in.Query(t.Context(), `SELECT "clock_synced", "influx_ok" FROM "gateway" WHERE "centre" = 'c1'`)
	if err != nil || len(hb) != 1 || fmt.Sprint(hb[0].Values[0][1:]) != "[true true]" {
		t.Fatalf("gateway point: %+v, %v", hb, err)
	}
	wait("observed", func() bool { ck.mu.Lock(); defer ck.mu.Unlock(); return ck.observed == 1 })
	c := g.Stats().Counters
	if c[Key{"echo", "decoded"}] != 2 || rejectsOf(c, "echo") != 1 {
		t.Errorf("echo counters: %v", c)
	}
	if n := c[Key{"unknown", "unmapped_topic"}]; n != 0 {
		t.Errorf("%d check messages counted as unmapped: %v", n, c)
	}
}

// rejectsOf sums a source's counters other than decoded and ignored.
func rejectsOf(c map[Key]uint64, source string) uint64 {
	var n uint64
	for k, v := range c {
		if k.Source == source && k.Outcome != "decoded" && k.Outcome != "ignored" {
			n += v
		}
	}
	return n
}
