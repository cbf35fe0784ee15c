package rules

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
	"github.com/saqshy/saqshy/gateway/zonekind"
)

// recorder is a Raiser that keeps the open conditions and a log of transitions,
// like the gateway's registry (a raise of an open condition with the same
// severity is not a transition).
type recorder struct {
	mu   sync.Mutex
	open map[string]telemetry.Condition
	log  []string
}

func newRecorder() *recorder { return &recorder{open: map[string]telemetry.Condition{}} }

func (r *recorder) Raise(c telemetry.Condition) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := c.Kind + "/" + c.Subject
	if old, ok := r.open[k]; ok && old.Severity == c.Severity {
		return
	}
	r.open[k] = c
	r.log = append(r.log, fmt.Sprintf("raise %s %s", k, c.Severity))
}

func (r *recorder) Clear(kind, subject string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := kind + "/" + subject
	if _, ok := r.open[k]; !ok {
		return
	}
	delete(r.open, k)
	r.log = append(r.log, "clear "+k)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.log
	r.log = nil
	return l
}

var t0 = time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)

func temp(at time.Time, sensor string, v float64, flags telemetry.Flags) []telemetry.Event {
	return []telemetry.Event{{Time: at, Sensor: sensor, Values: []telemetry.Value{{Metric: telemetry.Temperature, V: v}}, Flags: flags}}
}

func fridge() Sensor {
	return Sensor{ID: "fridge-probe", Zone: "med-fridge", ZoneKind: "med-fridge", Interval: 5 * time.Minute, Limits: zonekind.DefaultLimits("med-fridge")}
}

func want(t *testing.T, r *recorder, step string, exp ...string) {
	t.Helper()
	got := r.take()
	if !slices.Equal(got, exp) {
		t.Fatalf("%s: transitions\n  got  %q\n  want %q", step, got, exp)
	}
}

// A medicine fridge warms: the warning waits for its 15-minute hold, the critical
// for its 60 minutes; a dip within the hysteresis changes nothing; the alert
// clears only once the value is back by the hysteresis.
func TestFridgeExcursionHoldHysteresis(t *testing.T) {
	r := newRecorder()
	c := New(r, Options{Sensors: []Sensor{fridge()}})
	c.Tick(t0, true)
	at := t0
	step := func(d time.Duration, v float64) {
		at = at.Add(d)
		c.Observe(temp(at, "fridge-probe", v, 0))
		c.Tick(at, true)
	}
	step(time.Minute, 5)
	want(t, r, "normal")
	step(time.Minute, 8.6) // beyond 8: hold starts
	step(10*time.Minute, 8.9)
	want(t, r, "11 min warm")
	step(4*time.Minute, 7.8) // back under 8 but within 0.5 hysteresis: hold goes on
	want(t, r, "dip within hysteresis")
	at = at.Add(time.Minute) // 16 min since 8.6
	c.Tick(at, true)
	want(t, r, "hold elapsed at a tick", "raise temperature_high/fridge-probe warning")
	cond := r.open["temperature_high/fridge-probe"]
	if !cond.Since.Equal(t0.Add(2*time.Minute)) || !cond.HasValue {
		t.Errorf("condition %+v: since should be the first warm reading, with a value", cond)
	}
	for range 8 { // hovering just under the limit, within the hysteresis
		step(5*time.Minute, 7.8)
	}
	want(t, r, "hovering")
	step(5*time.Minute, 9) // 60 min since the first warm reading: critical
	want(t, r, "60 min", "raise temperature_high/fridge-probe critical")
	step(time.Minute, 7.6) // within hysteresis: still open
	want(t, r, "7.6")
	step(time.Minute, 7.4) // back by the hysteresis
	want(t, r, "7.4", "clear temperature_high/fridge-probe")
}

// More than an hour out of range in 24 h, in short excursions none of which
// reaches a hold, is critical; it clears when the excursions age out of the day.
func TestFridgeCumulative(t *testing.T) {
	r := newRecorder()
	c := New(r, Options{Sensors: []Sensor{fridge()}})
	at := t0
	c.Tick(at, true)
	for round := range 7 { // 7 × 10 min warm, each followed by 50 min normal
		for m := range 60 {
			v := 5.0
			if m < 10 {
				v = 9
			}
			c.Observe(temp(at, "fridge-probe", v, 0))
			c.Tick(at, true)
			at = at.Add(time.Minute)
		}
		got := r.take()
		if round < 6 && len(got) > 0 {
			t.Fatalf("round %d (%d min out of range): %q", round, (round+1)*10, got)
		}
		if round == 6 && !slices.Equal(got, []string{"raise temperature_cumulative/fridge-probe critical"}) {
			t.Fatalf("70 min out of range in 7 h: %q", got)
		}
	}
	for range 24 * 60 {
		c.Observe(temp(at, "fridge-probe", 5, 0))
		c.Tick(at, true)
		at = at.Add(time.Minute)
	}
	want(t, r, "a day later", "clear temperature_cumulative/fridge-probe")
}

// tickTo ticks every 30 s from..to, like the gateway does every second.
func tickTo(c *Check, from, to time.Time) {
	for at := from; !at.After(to); at = at.Add(30 * time.Second) {
		c.Tick(at, true)
	}
	c.Tick(to, true)
}

// A value hovering at the limit raises once and does not flap.
func TestFlappingValue(t *testing.T) {
	r := newRecorder()
	s := Sensor{ID: "room", Zone: "room-101", ZoneKind: "living", Interval: time.Minute,
		Limits: []Limit{{Metric: telemetry.Temperature, Above: true, Value: 26, Hold: 0, Severity: telemetry.Critical}}}
	c := New(r, Options{Sensors: []Sensor{s}})
	c.Tick(t0, true)
	for i := range 100 {
		v := 26.1
		if i%2 == 1 {
			v = 25.8
		}
		at := t0.Add(time.Duration(i) * 30 * time.Second)
		c.Observe([]telemetry.Event{{Time: at, Sensor: "room", Values: []telemetry.Value{{Metric: telemetry.Temperature, V: v}}}})
		c.Tick(at, true)
	}
	want(t, r, "hovering", "raise temperature_high/room critical")
}

// Zero-hold limits fire at the reading; the freeze rule of a medicine fridge is
// critical at once at 0 °C.
func TestFreezeAtOnce(t *testing.T) {
	r := newRecorder()
	c := New(r, Options{Sensors: []Sensor{fridge()}})
	c.Tick(t0, true)
	c.Observe(temp(t0.Add(time.Second), "fridge-probe", 0, 0))
	want(t, r, "0 °C", "raise temperature_freeze/fridge-probe critical")
	c.Observe(temp(t0.Add(2*time.Second), "fridge-probe", 0.3, 0))
	want(t, r, "0.3 (hysteresis)")
	c.Observe(temp(t0.Add(3*time.Second), "fridge-probe", 0.6, 0))
	want(t, r, "0.6", "clear temperature_freeze/fridge-probe")
	c.Observe(temp(t0.Add(4*time.Second), "fridge-probe", 12.5, 0))
	want(t, r, "12.5: above 12 at once", "raise temperature_high/fridge-probe critical")
}

// Retained and replayed readings never fire anything on their own.
func TestRetainedAndReplayedDoNotFire(t *testing.T) {
	r := newRecorder()
	c := New(r, Options{Sensors: []Sensor{fridge()}})
	c.Tick(t0, true)
	c.Observe(temp(t0, "fridge-probe", -3, telemetry.Retained))
	c.Observe(temp(t0, "fridge-probe", 15, telemetry.Replayed))
	c.Observe(temp(t0, "fridge-probe", 15, telemetry.Replayed|telemetry.DeviceTime))
	c.Tick(t0.Add(2*time.Hour), true)
	for _, l := range r.take() {
		if !strings.Contains(l, KindStale) {
			t.Errorf("a retained or replayed reading fired: %s", l)
		}
	}
}

// A sensor that stops: a warning after 3 × its interval, critical after 60 min,
// cleared by the next reading; a device going offline likewise.
func TestStaleSensorAndOffline(t *testing.T) {
	r := newRecorder()
	s := fridge()
	c := New(r, Options{Sensors: []Sensor{s}})
	c.Tick(t0, true)
	c.Observe(temp(t0, "fridge-probe", 5, 0))
	tickTo(c, t0, t0.Add(15*time.Minute))
	want(t, r, "15 min silent")
	c.Tick(t0.Add(15*time.Minute+time.Second), true)
	want(t, r, "just over 3 × 5 min", "raise sensor_stale/fridge-probe warning")
	tickTo(c, t0.Add(15*time.Minute+time.Second), t0.Add(61*time.Minute))
	// the silence counts as out of range for the cumulative rule once stale
	want(t, r, "61 min", "raise sensor_stale/fridge-probe critical", "raise temperature_cumulative/fridge-probe critical")
	c.Observe(temp(t0.Add(62*time.Minute), "fridge-probe", 5, 0))
	want(t, r, "reading", "clear sensor_stale/fridge-probe")
	tickTo(c, t0.Add(62*time.Minute), t0.Add(100*time.Minute))
	want(t, r, "38 min silent again", "raise sensor_stale/fridge-probe warning")
	if _, ok := r.open["temperature_cumulative/fridge-probe"]; !ok {
		t.Error("the 62 min without data should still count as out of range")
	}

	r2 := newRecorder()
	c2 := New(r2, Options{Sensors: []Sensor{{ID: "plug", Zone: "z", ZoneKind: "other", Interval: time.Minute}}})
	c2.Tick(t0, true)
	off := []telemetry.Event{{Time: t0, Sensor: "plug", Values: []telemetry.Value{{Metric: telemetry.Online, V: 0}}}}
	c2.Observe(off)
	tickTo(c2, t0, t0.Add(2*time.Minute))
	want(t, r2, "2 min offline")
	tickTo(c2, t0.Add(2*time.Minute), t0.Add(3*time.Minute+time.Second))
	want(t, r2, "3 min offline", "raise device_offline/plug warning", "raise sensor_stale/plug warning")
	on := []telemetry.Event{{Time: t0.Add(4 * time.Minute), Sensor: "plug", Values: []telemetry.Value{{Metric: telemetry.Online, V: 1}}}}
	c2.Observe(on)
	want(t, r2, "online", "clear device_offline/plug", "clear sensor_stale/plug")
}

func TestBatteryLow(t *testing.T) {
	r := newRecorder()
	c := New(r, Options{Sensors: []Sensor{{ID: "th", Zone: "z", ZoneKind: "living"}}})
	bat := func(v float64) []telemetry.Event {
		return []telemetry.Event{{Time: t0, Sensor: "th", Values: []telemetry.Value{{Metric: telemetry.Battery, V: v}}}}
	}
	c.Observe(bat(19))
	want(t, r, "19 %", "raise battery_low/th warning")
	c.Observe(bat(22))
	want(t, r, "22 % (hysteresis)")
	c.Observe(bat(90))
	want(t, r, "new battery", "clear battery_low/th")
}

type health struct {
	mu sync.Mutex
	h  Health
}

func (h *health) Health() Health { h.mu.Lock(); defer h.mu.Unlock(); return h.h }

func TestGatewayHealth(t *testing.T) {
	r := newRecorder()
	hs := &health{h: Health{MQTTConnected: true, ClockSynced: true, SpoolMax: 100}}
	c := New(r, Options{Health: hs})
	c.Tick(t0, true)
	want(t, r, "healthy")
	hs.h.SpoolBytes, hs.h.InfluxError, hs.h.MQTTConnected, hs.h.ClockSynced = 85, "dial tcp: refused", false, false
	c.Tick(t0.Add(time.Second), true)
	want(t, r, "spool at once", "raise gateway_spool/gateway warning")
	tickTo(c, t0.Add(time.Second), t0.Add(61*time.Minute+time.Second))
	got := r.take()
	slices.Sort(got)
	exp := []string{"raise gateway_clock/gateway warning", "raise gateway_mqtt/gateway critical",
		"raise gateway_mqtt/gateway warning", "raise gateway_uplink/gateway warning"}
	if !slices.Equal(got, exp) {
		t.Fatalf("after an hour: %q, want %q", got, exp)
	}
	hs.h = Health{MQTTConnected: true, ClockSynced: true, SpoolMax: 100, SpoolBytes: 78}
	c.Tick(t0.Add(62*time.Minute), true)
	got = r.take()
	slices.Sort(got)
	exp = []string{"clear gateway_clock/gateway", "clear gateway_mqtt/gateway", "clear gateway_uplink/gateway"}
	if !slices.Equal(got, exp) {
		t.Fatalf("recovered (spool 78 %% stays within hysteresis): %q, want %q", got, exp)
	}
	hs.h.SpoolBytes = 70
	c.Tick(t0.Add(63*time.Minute), true)
	want(t, r, "spool 70 %", "clear gateway_spool/gateway")
}

// Conditions open before a restart are taken over: the next normal reading
// clears them.
func TestOpenConditionsTakenOver(t *testing.T) {
	r := newRecorder()
	r.open["temperature_high/fridge-probe"] = telemetry.Condition{Kind: "temperature_high", Subject: "fridge-probe", Severity: telemetry.Critical}
	c := New(r, Options{Sensors: []Sensor{fridge()}, Open: []telemetry.Condition{
		{Kind: "temperature_high", Subject: "fridge-probe", Severity: telemetry.Critical, Since: t0.Add(-time.Hour)},
	}})
	c.Tick(t0, true)
	c.Observe(temp(t0.Add(time.Minute), "fridge-probe", 9, 0))
	want(t, r, "still warm")
	c.Observe(temp(t0.Add(2*time.Minute), "fridge-probe", 5, 0))
	want(t, r, "back to normal", "clear temperature_high/fridge-probe")
}

func TestDefaultsCoverZoneKinds(t *testing.T) {
	for _, k := range []string{"living", "children-bedroom", "medical", "med-fridge", "food-fridge", "freezer", "boiler", "hot-water", "corridor"} {
		if len(zonekind.DefaultLimits(k)) == 0 {
			t.Errorf("zone kind %s has no default limits", k)
		}
	}
	if zonekind.DefaultLimits("office") != nil {
		t.Error("office should have no limits")
	}
}

// TestStaleAlertSurvivesRestart: a sensor silent (and alerted critical) before a
// restart is not taken as fresh by the restarted rules: nothing is cleared or raised
// anew at the first ticks, and its next reading clears the alert. A clock step does
// not make it fresh either.
func TestStaleAlertSurvivesRestart(t *testing.T) {
	r := newRecorder()
	open := telemetry.Condition{Kind: KindStale, Subject: "fridge-probe", Severity: telemetry.Critical, Since: t0.Add(-3 * time.Hour)}
	r.open[KindStale+"/fridge-probe"] = open
	c := New(r, Options{Sensors: []Sensor{fridge()}, Open: []telemetry.Condition{open}})
	c.Tick(t0, true)
	c.Tick(t0.Add(time.Second), true)
	c.Tick(t0.Add(30*time.Minute), true) // a 30 min gap: the clock stepped
	c.Tick(t0.Add(30*time.Minute+time.Second), true)
	want(t, r, "still silent after the restart")
	c.Observe(temp(t0.Add(31*time.Minute), "fridge-probe", 5, 0))
	c.Tick(t0.Add(31*time.Minute+time.Second), true)
	want(t, r, "heard again", "clear "+KindStale+"/fridge-probe")
}

// TestGatewaySpoolDisk: a full disk, a nearly full one and lost spool files raise
// gateway_spool although the spool is far below max_bytes.
func TestGatewaySpoolDisk(t *testing.T) {
	r := newRecorder()
	hs := &health{h: Health{MQTTConnected: true, ClockSynced: true, SpoolMax: 2 << 30, SpoolBytes: 1 << 20}}
	c := New(r, Options{Health: hs})
	c.Tick(t0, true)
	want(t, r, "healthy")
	hs.h.SpoolDiskLow, hs.h.SpoolDiskFree = true, 3<<20
	c.Tick(t0.Add(time.Second), true)
	want(t, r, "disk low", "raise gateway_spool/gateway warning")
	hs.h.SpoolWriteError = "no space left on device"
	c.Tick(t0.Add(2*time.Second), true)
	want(t, r, "disk full", "raise gateway_spool/gateway critical")
	hs.h.SpoolWriteError, hs.h.SpoolDiskLow = "", false
	c.Tick(t0.Add(3*time.Second), true)
	want(t, r, "disk freed", "clear gateway_spool/gateway")
	hs.h.SpoolLost = 7182
	c.Tick(t0.Add(4*time.Second), true)
	want(t, r, "files lost", "raise gateway_spool/gateway warning")
}

// TestGatewayMQTTProblem: a known MQTT problem (wrong password, session taken over,
// subscriptions denied) raises gateway_mqtt at once, critical, with the fix.
func TestGatewayMQTTProblem(t *testing.T) {
	r := newRecorder()
	hs := &health{h: Health{MQTTConnected: true, ClockSynced: true}}
	c := New(r, Options{Health: hs})
	c.Tick(t0, true)
	want(t, r, "healthy")
	hs.h.MQTTConnected, hs.h.MQTTProblem = false, "the MQTT broker refuses the gateway's login"
	c.Tick(t0.Add(time.Second), true)
	want(t, r, "refused at once", "raise gateway_mqtt/gateway critical")
	hs.h.MQTTConnected, hs.h.MQTTProblem = true, ""
	c.Tick(t0.Add(2*time.Second), true)
	want(t, r, "fixed", "clear gateway_mqtt/gateway")
	hs.h.MQTTProblem = "an ACL denies the gateway's reads"
	c.Tick(t0.Add(3*time.Second), true)
	want(t, r, "deaf while connected", "raise gateway_mqtt/gateway critical")
}

// TestGatewayIngestRefused: the ministry's ingest refusing the gateway's data (an
// unknown key, a backdate) raises gateway_uplink critical at once, with the
// reason; it clears once the ingest accepts a batch.
func TestGatewayIngestRefused(t *testing.T) {
	r := newRecorder()
	hs := &health{h: Health{MQTTConnected: true, ClockSynced: true}}
	c := New(r, Options{Health: hs})
	c.Tick(t0, true)
	want(t, r, "healthy")
	hs.h.InfluxError, hs.h.InfluxRefused = "unauthorized", "HTTP 401 unknown_key: …; fix: register this gateway's key fingerprint"
	c.Tick(t0.Add(time.Second), true)
	want(t, r, "refused at once", "raise gateway_uplink/gateway critical")
	hs.h.InfluxError, hs.h.InfluxRefused = "", ""
	c.Tick(t0.Add(2*time.Second), true)
	want(t, r, "accepted again", "clear gateway_uplink/gateway")
}
