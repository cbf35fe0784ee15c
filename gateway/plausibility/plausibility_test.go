package plausibility

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestObserveRejectsBadInput(t *testing.T) {
	s := NewSensor(Room, DefaultParams())
	cases := []struct {
		t    time.Time
		v    float64
		want string
	}{
		{day0, math.NaN(), "not a finite number"},
		{day0, math.Inf(1), "not a finite number"},
		{day0, -61, "out of range"},
		{day0, 126, "out of range"},
		{time.Unix(-1, 0), 20, "time 1969-12-31T23:59:59Z out of range"},
	}
	for _, c := range cases {
		err := s.Observe(c.t, c.v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Observe(%s, %v) = %v, want an error containing %q", c.t, c.v, err, c.want)
		}
	}
	if v := s.Verdict(day0); v.Readings != 0 {
		t.Errorf("bad readings were kept: %+v", v)
	}
}

func TestSensorBytes(t *testing.T) {
	t.Logf("one sensor: %d bytes; 300 sensors: %d KB", SensorBytes, 300*SensorBytes/1024)
	if SensorBytes > 2600 {
		t.Errorf("a sensor takes %d bytes, want ≤ 2600", SensorBytes)
	}
}

// steady feeds a sensor every minute for a day from f(minute).
func steady(class Class, f func(m int) float64) *Sensor {
	s := NewSensor(class, DefaultParams())
	for m := range 24 * 60 {
		if err := s.Observe(day0.Add(time.Duration(m)*time.Minute), f(m)); err != nil {
			panic(err)
		}
	}
	return s
}

var dayEnd = day0.Add(24*time.Hour - time.Second)

func TestFlatRoom(t *testing.T) {
	s := steady(Room, func(m int) float64 { return 22 + 0.1*float64(m%2) })
	v := s.Verdict(dayEnd)
	if !v.Judged || !v.Implausible || v.Code != Flat || !strings.Contains(v.Reason, "flat") {
		t.Fatalf("flat room: %+v", v)
	}
	// A day that moves 0.5 °C is not flat.
	s = steady(Room, func(m int) float64 { return 22 + 0.5*math.Sin(float64(m)/1440*2*math.Pi) })
	if v := s.Verdict(dayEnd); !v.Judged || v.Implausible {
		t.Fatalf("moving room: %+v", v)
	}
}

func TestFridgeCycles(t *testing.T) {
	// A 20-minute sawtooth of 1 °C: 72 cycles.
	saw := func(m int) float64 { return 5 + float64(m%20)/20 - 0.5 }
	v := steady(Cycling, saw).Verdict(dayEnd)
	if !v.Judged || v.Implausible || v.Cycles < 70 || v.Cycles > 73 {
		t.Fatalf("cycling fridge: %+v", v)
	}
	// A fridge probe that only drifts: no cycles.
	v = steady(Cycling, func(m int) float64 { return 4 + float64(m)/1440 }).Verdict(dayEnd)
	if !v.Implausible || v.Code != NoCycles || !strings.Contains(v.Reason, "no compressor cycles") {
		t.Fatalf("drifting probe: %+v", v)
	}
	// A sensor reporting every 10 minutes cannot show cycles: not judged for them.
	s := NewSensor(Cycling, DefaultParams())
	for m := 0; m < 24*60; m += 10 {
		feedOne(t, s, day0.Add(time.Duration(m)*time.Minute), 4+float64(m)/1440)
	}
	if v := s.Verdict(dayEnd); !v.Judged || v.Implausible {
		t.Fatalf("sparse sensor: %+v", v)
	}
}

func feedOne(t *testing.T, s *Sensor, at time.Time, v float64) {
	t.Helper()
	if err := s.Observe(at, v); err != nil {
		t.Fatal(err)
	}
}

func TestNotJudged(t *testing.T) {
	// Half a day of data: no verdict.
	s := NewSensor(Room, DefaultParams())
	for m := 0; m < 12*60; m++ {
		feedOne(t, s, day0.Add(time.Duration(m)*time.Minute), 22)
	}
	v := s.Verdict(day0.Add(12*time.Hour - time.Second))
	if v.Judged || v.Implausible || !strings.Contains(v.Reason, "only 12 of the last 24 hours") {
		t.Fatalf("half a day: %+v", v)
	}
	// An unjudged kind never is.
	if v := steady(ClassOf("boiler"), func(int) float64 { return 60 }).Verdict(dayEnd); v.Judged || v.Implausible {
		t.Fatalf("boiler: %+v", v)
	}
}

func TestWindowSlides(t *testing.T) {
	// A flat first day, then a moving one: at the end of the second day only the
	// second counts.
	s := steady(Room, func(int) float64 { return 22 })
	if v := s.Verdict(dayEnd); !v.Implausible {
		t.Fatalf("first day: %+v", v)
	}
	for m := range 24 * 60 {
		feedOne(t, s, day0.Add(24*time.Hour+time.Duration(m)*time.Minute), 22+float64(m)/1440)
	}
	if v := s.Verdict(dayEnd.Add(24 * time.Hour)); !v.Judged || v.Implausible || v.Readings != 1440 {
		t.Fatalf("second day: %+v", v)
	}
	// A reading older than the window is ignored.
	feedOne(t, s, day0, 80)
	if v := s.Verdict(dayEnd.Add(24 * time.Hour)); v.Readings != 1440 {
		t.Fatalf("old reading kept: %+v", v)
	}
}

func TestLateReadingsDoNotTurn(t *testing.T) {
	// The same readings, once in order and once with every 7th held back and
	// delivered an hour late, give the same range; the late ones add no turns.
	saw := func(m int) float64 { return 5 + float64(m%20)/20 - 0.5 }
	a := steady(Cycling, saw)
	b := NewSensor(Cycling, DefaultParams())
	var late []int
	for m := range 24 * 60 {
		if m%7 == 0 {
			late = append(late, m)
			continue
		}
		feedOne(t, b, day0.Add(time.Duration(m)*time.Minute), saw(m))
	}
	for _, m := range late {
		feedOne(t, b, day0.Add(time.Duration(m)*time.Minute), saw(m))
	}
	va, vb := a.Verdict(dayEnd), b.Verdict(dayEnd)
	if va.Readings != vb.Readings || va.Hours != vb.Hours {
		t.Fatalf("in order %+v, late %+v", va, vb)
	}
	if vb.Implausible || vb.Cycles > va.Cycles {
		t.Fatalf("late readings: %+v (in order %+v)", vb, va)
	}
}

func TestDeterministic(t *testing.T) {
	run := func() Verdict {
		rng := rand.New(rand.NewPCG(7, 7))
		return dayVerdict(Cycling, randomStyle(rng).sample(rng, day0, 24*time.Hour, fridgeTruth(rng, "med-fridge")))
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("%+v != %+v", a, b)
	}
}

func TestFindTwins(t *testing.T) {
	p := DefaultParams()
	wave := func(m int) float64 { return 21 + math.Sin(float64(m)/1440*4*math.Pi) }
	a := steady(Room, wave)
	b := steady(Room, func(m int) float64 { return wave(m) + 1.3 })
	c := steady(Room, func(m int) float64 { return 21 + math.Cos(float64(m)/1440*6*math.Pi) })
	d := steady(Room, wave) // same zone as a: not compared
	list := []Named{{"a", "z1", a, ""}, {"b", "z2", b, ""}, {"c", "z3", c, ""}, {"d", "z1", d, ""}}
	got := FindTwins(list, dayEnd, p)
	if len(got) != 2 || got[0].A.ID != "a" || got[0].B.ID != "b" || got[1].A.ID != "b" || got[1].B.ID != "d" {
		t.Fatalf("twins: %+v", got)
	}
	pr := got[0].Pair
	if math.Abs(pr.Offset-1.3) > 0.01 || pr.Corr < 0.999 || !strings.Contains(pr.Reason, "offset +1.30") {
		t.Fatalf("pair: %+v", pr)
	}
	// Flat sensors are not judged by this rule.
	f1, f2 := steady(Room, func(int) float64 { return 20 }), steady(Room, func(int) float64 { return 21 })
	if pr := Twins(f1, f2, dayEnd, p); pr.Judged || pr.Twin {
		t.Fatalf("flat pair: %+v", pr)
	}
}
