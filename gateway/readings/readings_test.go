package readings

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/localsensor"
	"github.com/saqshy/saqshy/gateway/mqttsrc"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

type fixedClock struct {
	now    time.Time
	synced bool
}

func (c fixedClock) Now() time.Time { return c.now }
func (c fixedClock) Synced() bool   { return c.synced }

// memSpool keeps what it is given; it refuses while fail is set.
type memSpool struct {
	fail bool
	evs  []telemetry.Event
}

func (s *memSpool) Append(_ context.Context, evs ...telemetry.Event) error {
	if s.fail {
		return errors.New("disk full")
	}
	s.evs = append(s.evs, evs...)
	return nil
}

// condLog records the conditions raised and cleared.
type condLog struct{ got []string }

func (l *condLog) Raise(c telemetry.Condition) { l.got = append(l.got, "raise "+c.Kind+" "+c.Subject) }
func (l *condLog) Clear(kind, subject string, _ time.Time) {
	l.got = append(l.got, "clear "+kind+" "+subject)
}

// topicCheck reads one topic and observes the sensor events.
type topicCheck struct{ observed int }

func (c *topicCheck) Name() string     { return "door" }
func (c *topicCheck) Topics() []string { return []string{"door/+/state"} }
func (c *topicCheck) Message(m telemetry.Message, _ bool) ([]telemetry.Event, error) {
	if string(m.Payload) != "open" && string(m.Payload) != "closed" {
		return nil, &telemetry.RejectError{Source: "door", Topic: m.Topic, Reason: "bad_value"}
	}
	return []telemetry.Event{telemetry.NewPoint(m.Received, "door", nil, telemetry.String("state", string(m.Payload)))}, nil
}
func (c *topicCheck) Observe(evs []telemetry.Event) { c.observed += len(evs) }

func testConfig() *config.Config {
	cfg := config.Default()
	cfg.Centre.ID = "c1"
	cfg.Zones = []config.Zone{{ID: "room-1", Kind: "living"}, {ID: "boiler", Kind: "hot-water"}}
	cfg.Sensors = []config.Sensor{
		{ID: "t1", Zone: "room-1", Source: "saqshy", Topic: "saqshy/c1/sensor/t1"},
		{ID: "hw", Zone: "boiler", Source: "ds18b20", Address: "28-0316a2795eff"},
	}
	return cfg
}

// TestBatch: sensor messages become events resolved to sensor and zone, a check's
// topic goes to the check (its rejects counted under its name, not as unmapped), an
// unknown topic is counted, and everything lands in the spool before the observers
// see the sensor events.
func TestBatch(t *testing.T) {
	now := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	ck := &topicCheck{}
	p, err := New(testConfig(), Options{Clock: fixedClock{now, true}, Checks: []check.Check{ck}, Conditions: &condLog{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Topics(), " "); !strings.Contains(got, "door/+/state") || !strings.Contains(got, "saqshy/c1/sensor/t1/state") {
		t.Fatalf("topics %q lack the check's or the sensor's", got)
	}
	sp := &memSpool{}
	msgs := []mqttsrc.Message{
		{Topic: "saqshy/c1/sensor/t1/state", Payload: []byte(`{"temperature_c": 21.5}`), Received: now},
		{Topic: "door/d1/state", Payload: []byte("open"), Received: now},
		{Topic: "door/d2/state", Payload: []byte("ajar"), Received: now},
		{Topic: "nobody/listens", Payload: []byte("1"), Received: now},
	}
	if err := p.Batch(t.Context(), sp, msgs); err != nil {
		t.Fatal(err)
	}
	if len(sp.evs) != 2 || sp.evs[0].Sensor != "t1" || sp.evs[0].Zone != "room-1" || sp.evs[0].ZoneKind != "living" {
		t.Fatalf("spooled %+v, want t1's reading then the door's point", sp.evs)
	}
	if ck.observed != 1 {
		t.Fatalf("the check observed %d sensor events, want 1", ck.observed)
	}
	c := p.Counters().Snapshot()
	for k, want := range map[Key]uint64{{"saqshy", "decoded"}: 1, {"door", "decoded"}: 1, {"door", "bad_value"}: 1, {"unknown", "unmapped_topic"}: 1} {
		if c[k] != want {
			t.Errorf("counter %v = %d, want %d (all: %v)", k, c[k], want, c)
		}
	}
	if p.Counters().Rejected() != 2 {
		t.Errorf("rejected %d, want 2", p.Counters().Rejected())
	}

	// A spool that refuses fails the batch (it is not acknowledged) and shows the
	// observers nothing.
	sp.fail = true
	if err := p.Batch(t.Context(), sp, msgs[:1]); err == nil {
		t.Fatal("a batch the spool refused succeeded")
	}
	if ck.observed != 1 {
		t.Fatal("the check observed events the spool refused")
	}
}

// TestTimePolicy: a payload's own time is kept unless it is beyond MaxSkew of a
// synchronised clock; an unsynchronised clock flags the event.
func TestTimePolicy(t *testing.T) {
	now := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	msg := func(at time.Time) []mqttsrc.Message {
		return []mqttsrc.Message{{Topic: "saqshy/c1/sensor/t1/state", Received: now,
			Payload: []byte(`{"temperature_c": 21.5, "ts": ` + strconv.FormatInt(at.Unix(), 10) + `}`)}}
	}
	for _, tt := range []struct {
		name     string
		synced   bool
		at       time.Time
		wantTime time.Time
		want     telemetry.Flags
	}{
		{"device time close", true, now.Add(-time.Minute), now.Add(-time.Minute), telemetry.DeviceTime},
		{"device time skewed", true, now.Add(-time.Hour), now, telemetry.ClockSkew},
		{"clock unsynced", false, now.Add(-time.Hour), now.Add(-time.Hour), telemetry.DeviceTime | telemetry.ClockUnsynced},
	} {
		p, err := New(testConfig(), Options{Clock: fixedClock{now, tt.synced}, Conditions: &condLog{}})
		if err != nil {
			t.Fatal(err)
		}
		sp := &memSpool{}
		if err := p.Batch(t.Context(), sp, msg(tt.at)); err != nil {
			t.Fatal(err)
		}
		if len(sp.evs) != 1 || !sp.evs[0].Time.Equal(tt.wantTime) || sp.evs[0].Flags != tt.want {
			t.Errorf("%s: spooled %+v, want time %s flags %v", tt.name, sp.evs, tt.wantTime, tt.want)
		}
	}
}

// TestLocal: a wired probe's failed read raises probe_error on its sensor and is
// counted under its reason; its next good reading is spooled and clears it.
func TestLocal(t *testing.T) {
	now := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	conds := &condLog{}
	p, err := New(testConfig(), Options{Clock: fixedClock{now, true}, Conditions: conds})
	if err != nil {
		t.Fatal(err)
	}
	p.LocalError("28-0316a2795eff", localsensor.ErrCRC)
	sp := &memSpool{}
	s := telemetry.Sample{Device: "28-0316a2795eff", Values: []telemetry.Value{{Metric: telemetry.Temperature, V: 61}}}
	if err := p.Local(t.Context(), sp, []telemetry.Sample{s, {Device: "28-unknown", Values: s.Values}}); err != nil {
		t.Fatal(err)
	}
	if len(sp.evs) != 1 || sp.evs[0].Sensor != "hw" || !sp.evs[0].Time.Equal(now) {
		t.Fatalf("spooled %+v, want hw's reading at the clock's time", sp.evs)
	}
	if got := strings.Join(conds.got, "; "); got != "raise probe_error hw; clear probe_error hw" {
		t.Fatalf("conditions %q", got)
	}
	c := p.Counters().Snapshot()
	if c[Key{"ds18b20", "crc"}] != 1 || c[Key{"local", "unmapped_device"}] != 1 {
		t.Fatalf("counters %v", c)
	}
}

// TestNewRejectsTwoSourcesOnOneTopic: the error names the sensor and the topic.
func TestNewRejectsTwoSourcesOnOneTopic(t *testing.T) {
	cfg := testConfig()
	cfg.Sensors = append(cfg.Sensors, config.Sensor{ID: "z", Zone: "room-1", Source: "zigbee2mqtt", Topic: "saqshy/c1/sensor/t1"})
	_, err := New(cfg, Options{Clock: fixedClock{}, Conditions: &condLog{}})
	if err == nil || !strings.Contains(err.Error(), "sensor z") || !strings.Contains(err.Error(), "saqshy/c1/sensor/t1") {
		t.Fatalf("err = %v, want one naming sensor z and its topic", err)
	}
}

// rawLog is a Latest observer that keeps the raw messages it is shown.
type rawLog struct{ got []string }

func (r *rawLog) Observe([]telemetry.Event) {}
func (r *rawLog) ObserveRaw(sensor string, m *mqttsrc.Message) {
	r.got = append(r.got, sensor+" "+m.Topic+" "+string(m.Payload))
}

// TestRawObserver: once a batch is durable, the Latest observer is shown each
// sensor event's own message (not its neighbour's, not the ones that made none).
func TestRawObserver(t *testing.T) {
	now := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	cfg := testConfig()
	cfg.Sensors = append(cfg.Sensors, config.Sensor{ID: "t2", Zone: "room-1", Source: "saqshy", Topic: "saqshy/c1/sensor/t2"})
	lg := &rawLog{}
	p, err := New(cfg, Options{Clock: fixedClock{now, true}, Latest: lg, Conditions: &condLog{}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []mqttsrc.Message{
		{Topic: "nobody/listens", Payload: []byte("1"), Received: now},
		{Topic: "saqshy/c1/sensor/t1/state", Payload: []byte(`{"temperature_c": 21.5}`), Received: now},
		{Topic: "saqshy/c1/sensor/t2/state", Payload: []byte(`{"temperature_c": "bad"}`), Received: now},
		{Topic: "saqshy/c1/sensor/t2/state", Payload: []byte(`{"temperature_c": 19}`), Received: now},
	}
	if err := p.Batch(t.Context(), &memSpool{}, msgs); err != nil {
		t.Fatal(err)
	}
	want := []string{`t1 saqshy/c1/sensor/t1/state {"temperature_c": 21.5}`, `t2 saqshy/c1/sensor/t2/state {"temperature_c": 19}`}
	if strings.Join(lg.got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("raw messages shown:\n%s\nwant:\n%s", strings.Join(lg.got, "\n"), strings.Join(want, "\n"))
	}
}
