package deadband

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

type spool struct {
	evs  []telemetry.Event
	fail bool
}

func (s *spool) Append(_ context.Context, evs ...telemetry.Event) error {
	if s.fail {
		return errors.New("disk full")
	}
	for _, e := range evs {
		e.Values = slices.Clone(e.Values) // the filter reuses its buffers
		s.evs = append(s.evs, e)
	}
	return nil
}

func (s *spool) take() []telemetry.Event {
	out := s.evs
	s.evs = nil
	return out
}

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func reading(sensor string, temp, battery, lqi float64) telemetry.Event {
	return telemetry.Event{Time: t0, Sensor: sensor, Values: []telemetry.Value{
		{Metric: telemetry.Temperature, V: temp}, {Metric: telemetry.Battery, V: battery},
		{Metric: telemetry.LinkQuality, V: lqi},
	}}
}

func metrics(e telemetry.Event) map[telemetry.Metric]float64 {
	m := map[telemetry.Metric]float64{}
	for _, v := range e.Values {
		m[v.Metric] = v.V
	}
	return m
}

func TestDeviceDeadband(t *testing.T) {
	sp := &spool{}
	now := t0
	f := New(sp, Default(), func() time.Time { return now })
	ctx := context.Background()
	step := func(e telemetry.Event) map[telemetry.Metric]float64 {
		t.Helper()
		if err := f.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
		got := sp.take()
		if len(got) != 1 {
			t.Fatalf("%d events written, want 1 (the climate value is always written)", len(got))
		}
		return metrics(got[0])
	}
	// The first value of every series is written.
	if got := step(reading("s1", 21, 80, 120)); len(got) != 3 {
		t.Fatalf("first reading: wrote %v, want all three values", got)
	}
	// Small changes are suppressed; the temperature is written.
	now = now.Add(time.Minute)
	if got := step(reading("s1", 21.01, 79, 125)); len(got) != 1 || got[telemetry.Temperature] != 21.01 {
		t.Fatalf("small device changes: wrote %v, want the temperature only", got)
	}
	// A change beyond the band is written, and only that metric.
	now = now.Add(time.Minute)
	if got := step(reading("s1", 21, 77, 126)); len(got) != 2 || got[telemetry.Battery] != 77 {
		t.Fatalf("battery -3: wrote %v, want temperature and battery 77", got)
	}
	// The band is measured from the last value written, not the last read.
	now = now.Add(time.Minute)
	if got := step(reading("s1", 21, 77, 131)); got[telemetry.LinkQuality] != 131 {
		t.Fatalf("link quality 120→125→126→131 (11 from the last written): wrote %v, want 131", got)
	}
	// Another sensor has its own state.
	if got := step(reading("s2", 21, 77, 131)); len(got) != 3 {
		t.Fatalf("a second sensor's first reading: wrote %v, want all three", got)
	}
	// After Every with no change, the value is written again (the heartbeat).
	now = now.Add(29 * time.Minute)
	if got := step(reading("s1", 21, 77, 131)); len(got) != 2 || got[telemetry.Battery] != 77 {
		t.Fatalf("29 min after the last battery value: wrote %v, want temperature and battery (heartbeat)", got)
	}
	now = now.Add(time.Minute)
	if got := step(reading("s1", 21, 77, 131)); len(got) != 2 || got[telemetry.LinkQuality] != 131 {
		t.Fatalf("30 min after the last link quality: wrote %v, want temperature and link quality", got)
	}
}

func TestOnlineEveryChange(t *testing.T) {
	sp := &spool{}
	now := t0
	f := New(sp, Default(), func() time.Time { return now })
	online := func(v float64) telemetry.Event {
		return telemetry.Event{Time: now, Sensor: "s1", Values: []telemetry.Value{{Metric: telemetry.Online, V: v}}}
	}
	for i, c := range []struct {
		v     float64
		wrote bool
	}{{1, true}, {1, false}, {0, true}, {0, false}, {1, true}} {
		now = now.Add(time.Second)
		if err := f.Append(context.Background(), online(c.v)); err != nil {
			t.Fatal(err)
		}
		if got := len(sp.take()); (got == 1) != c.wrote {
			t.Errorf("step %d online=%v: %d events written, want written=%v", i, c.v, got, c.wrote)
		}
	}
}

func TestFailedAppendKeepsState(t *testing.T) {
	sp := &spool{}
	now := t0
	f := New(sp, Default(), func() time.Time { return now })
	sp.fail = true
	if err := f.Append(context.Background(), reading("s1", 21, 80, 120)); err == nil {
		t.Fatal("append to a failing spool succeeded")
	}
	sp.fail = false
	if err := f.Append(context.Background(), reading("s1", 21, 80, 120)); err != nil {
		t.Fatal(err)
	}
	if got := sp.take(); len(got) != 1 || len(got[0].Values) != 3 {
		t.Fatalf("after a failed append, the retried reading wrote %v, want all three values (nothing was written)", got)
	}
}

func TestRestartWritesFirstValueAgain(t *testing.T) {
	sp := &spool{}
	now := t0
	clock := func() time.Time { return now }
	f := New(sp, Default(), clock)
	_ = f.Append(context.Background(), reading("s1", 21, 80, 120))
	sp.take()
	f = New(sp, Default(), clock) // a restart: the state is in memory only
	_ = f.Append(context.Background(), reading("s1", 21, 80, 120))
	if got := sp.take(); len(got) != 1 || len(got[0].Values) != 3 {
		t.Fatalf("first reading after a restart wrote %v, want all three values", got)
	}
}

func cameraPoint(state string, fps float64) telemetry.Event {
	return telemetry.NewPoint(t0, telemetry.MeasurementCamera,
		[]telemetry.Tag{{Key: "camera", Value: "cam-1"}, {Key: "state", Value: state}},
		telemetry.Bool("online", state == "healthy"), telemetry.String("state", state), telemetry.Float("fps", fps))
}

func TestPointDeadband(t *testing.T) {
	sp := &spool{}
	now := t0
	f := New(sp, Default(), func() time.Time { return now })
	hb := telemetry.Heartbeat{Uptime: time.Minute}.Point(now)
	for i, c := range []struct {
		after time.Duration
		ev    telemetry.Event
		wrote bool
		what  string
	}{
		{0, cameraPoint("healthy", 5), true, "first point of the series"},
		{time.Minute, cameraPoint("healthy", 5.4), false, "fps within the band"},
		{time.Minute, cameraPoint("healthy", 6.1), true, "fps 1.1 from the last written"},
		{time.Minute, cameraPoint("offline", 0), true, "state changed (a new series)"},
		{time.Minute, cameraPoint("offline", 0), false, "unchanged"},
		{13 * time.Minute, cameraPoint("offline", 0), false, "unchanged, 14 min after the last written"},
		{time.Minute, cameraPoint("offline", 0), true, "unchanged, 15 min after (heartbeat)"},
		{time.Second, hb, true, "the gateway heartbeat has no rule"},
		{time.Second, hb, true, "the gateway heartbeat has no rule, twice"},
	} {
		now = now.Add(c.after)
		if err := f.Append(context.Background(), c.ev); err != nil {
			t.Fatal(err)
		}
		if got := len(sp.take()); (got == 1) != c.wrote {
			t.Errorf("step %d (%s): %d points written, want written=%v", i, c.what, got, c.wrote)
		}
	}
}

// A day's running coverage is stamped with the day's start and overwrites itself:
// suppressed minutes are fine, but the day's last value must reach the spool.
func TestFinalPointOfTheDayWritten(t *testing.T) {
	sp := &spool{}
	now := t0
	f := New(sp, Default(), func() time.Time { return now })
	day := func(start time.Time, covered float64) telemetry.Event {
		return telemetry.NewPoint(start, telemetry.MeasurementCoverage,
			[]telemetry.Tag{{Key: "period", Value: "day"}, {Key: "zone_kind", Value: "all"}},
			telemetry.Float("required_s", 43200), telemetry.Float("covered_s", covered), telemetry.Float("ratio", covered/43200))
	}
	d1, d2 := t0.Truncate(24*time.Hour), t0.Truncate(24*time.Hour).Add(24*time.Hour)
	_ = f.Append(context.Background(), day(d1, 100))
	if got := sp.take(); len(got) != 1 {
		t.Fatalf("first day point: %d written", len(got))
	}
	for i := range 5 {
		now = now.Add(time.Minute)
		_ = f.Append(context.Background(), day(d1, float64(160+60*i)))
	}
	if got := sp.take(); len(got) != 0 {
		t.Fatalf("running day points within 15 min: %d written, want 0", len(got))
	}
	// Midnight: the closing point of day 1 and the first of day 2 in one group.
	now = now.Add(time.Minute)
	_ = f.Append(context.Background(), day(d1, 500), day(d2, 0))
	got := sp.take()
	if len(got) != 2 || !got[0].Time.Equal(d1) || got[0].Point.Fields[1].Num != 500 || !got[1].Time.Equal(d2) {
		t.Fatalf("at the day's change wrote %v, want day 1's last point (covered 500) then day 2's first", got)
	}
}

func TestLiveCoverageBands(t *testing.T) {
	sp := &spool{}
	now := t0
	f := New(sp, Default(), func() time.Time { return now })
	live := func(req, cov float64) telemetry.Event {
		return telemetry.NewPoint(now, telemetry.MeasurementCoverage,
			[]telemetry.Tag{{Key: "period", Value: "live"}, {Key: "zone_kind", Value: "all"}},
			telemetry.Float("required_s", req), telemetry.Float("covered_s", cov), telemetry.Float("ratio", cov/req))
	}
	for i, c := range []struct {
		ev    func() telemetry.Event
		wrote bool
	}{
		{func() telemetry.Event { return live(3600, 3600) }, true},
		{func() telemetry.Event { return live(3660, 3660) }, false}, // seconds moved, ratio did not
		{func() telemetry.Event { return live(3600, 3550) }, true},  // ratio 0.986
	} {
		now = now.Add(time.Minute)
		_ = f.Append(context.Background(), c.ev())
		if got := len(sp.take()); (got == 1) != c.wrote {
			t.Errorf("step %d: %d written, want written=%v", i, got, c.wrote)
		}
	}
}

func TestBounded(t *testing.T) {
	sp := &spool{}
	now := t0
	f := New(sp, Default(), func() time.Time { return now })
	for i := range MaxSeries + 10 {
		_ = f.Append(context.Background(), reading(string(rune(0x1000+i)), 21, 80, 120))
	}
	if n := len(f.metrics) + len(f.series); n > MaxSeries {
		t.Fatalf("state holds %d series, bound is %d", n, MaxSeries)
	}
	// A sensor beyond the bound is written unthinned.
	sp.take()
	late := string(rune(0x1000 + MaxSeries + 5))
	_ = f.Append(context.Background(), reading(late, 21, 80, 120))
	if got := sp.take(); len(got) != 1 || len(got[0].Values) != 3 {
		t.Fatalf("a sensor beyond the bound: wrote %v, want every value", got)
	}
}

// Two readings of one sensor in one append: the second is judged against the first.
func TestSameSensorTwiceInOneAppend(t *testing.T) {
	sp := &spool{}
	now := t0
	f := New(sp, Default(), func() time.Time { return now })
	if err := f.Append(context.Background(), reading("s1", 21, 80, 120), reading("s1", 21.1, 80, 121),
		cameraPoint("healthy", 5), cameraPoint("healthy", 5)); err != nil {
		t.Fatal(err)
	}
	got := sp.take()
	if len(got) != 3 || len(got[0].Values) != 3 || len(got[1].Values) != 1 {
		t.Fatalf("wrote %v, want the first reading whole, the second's temperature only, one camera point", got)
	}
}
