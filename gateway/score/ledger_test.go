package score

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

func newTestCheck(t *testing.T, sensors []Sensor, opt Options) *Check {
	t.Helper()
	opt.Centre, opt.Location, opt.Sensors = "c1", almaty, sensors
	c, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closeDay ticks through the minute after CloseAfter past the end of day 0 and
// returns day 0's point.
func closeDay(t *testing.T, c *Check) map[string]any {
	t.Helper()
	pts := tickRange(c, at(0, 23, 59), at(1, 1, 1), time.Minute)
	return lastDay(t, pts, at(0, 0, 0))
}

// TestComponents: temperature and availability over synthetic days, with exact
// expected values.
func TestComponents(t *testing.T) {
	fridge := Sensor{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: 5 * time.Minute}
	corr := Sensor{ID: "corr", Zone: "c", ZoneKind: "corridor", Interval: time.Minute}
	corr2 := Sensor{ID: "corr2", Zone: "c", ZoneKind: "corridor", Interval: time.Minute}
	kitchen := Sensor{ID: "kit", Zone: "k", ZoneKind: "kitchen", Interval: 10 * time.Minute}
	room := Sensor{ID: "room", Zone: "r", ZoneKind: "living", Interval: 5 * time.Minute}
	tests := []struct {
		name    string
		sensors []Sensor
		feed    func(c *Check)
		temp    float64
		avail   float64
		caps    string
	}{
		{
			name:    "perfect day",
			sensors: []Sensor{fridge, corr},
			feed: func(c *Check) {
				feed(c, "fridge", at(0, 0, 0), at(1, 0, 10), 5*time.Minute, constant(5))
				feed(c, "corr", at(0, 0, 0), at(1, 0, 10), time.Minute, constant(19))
			},
			temp: 1, avail: 1,
		},
		{
			name:    "fridge half a day then silent, corridor gap",
			sensors: []Sensor{fridge, corr},
			feed: func(c *Check) {
				feed(c, "fridge", at(0, 0, 0), at(0, 6, 0), 5*time.Minute, constant(5))  // 72 slots in band
				feed(c, "fridge", at(0, 6, 0), at(0, 12, 0), 5*time.Minute, constant(9)) // 72 slots warm
				feed(c, "corr", at(0, 0, 0), at(0, 6, 0), time.Minute, constant(19))
				feed(c, "corr", at(0, 7, 0), at(1, 0, 10), time.Minute, constant(19)) // 60 slots missing
			},
			// med-fridge weight 3, corridor weight 1; the corridor's 05:59 reading,
			// followed by a gap, is not held (unknown time counts against)
			temp:  (3*72.0/288 + 1*1379.0/1440) / 4,
			avail: (143.0/288 + 1379.0/1440) / 2, // the readings before the gaps are not confirmed
			caps:  CapFreezeNoData,               // the fridge was silent from 12:00: missing data is the worst case, named as such
		},
		{
			name:    "a zone is in band only while all its sensors are; readings two intervals apart are not held; unbanded zone counts only for availability",
			sensors: []Sensor{corr, corr2, kitchen},
			feed: func(c *Check) {
				feed(c, "corr", at(0, 0, 0), at(1, 0, 10), time.Minute, func(t time.Time) float64 {
					if t.Hour() < 12 {
						return 17 // below 18: out of band
					}
					return 18
				})
				feed(c, "corr2", at(0, 0, 0), at(1, 0, 10), 2*time.Minute, constant(21)) // every other slot
				feed(c, "kit", at(0, 0, 0), at(1, 0, 10), 10*time.Minute, constant(40))
			},
			temp:  0,                 // corr2 reports every other minute for a 1 min interval: never held
			avail: (1 + 0 + 1) / 3.0, // corr2's readings, two intervals apart, confirm nothing
		},
		{
			// Reporting every minute, registered every 5: each 9 °C reading holds 5
			// minutes, so the 4 °C ones between are all covered but the day's first
			// (no warm reading before it): 1 minute of 1440.
			name:    "several readings in a slot: an out-of-band one holds its interval (one in band per slot is not enough); late and out-of-order readings count",
			sensors: []Sensor{fridge},
			feed: func(c *Check) {
				feed(c, "fridge", at(0, 0, 0), at(1, 0, 10), time.Minute, func(t time.Time) float64 {
					if t.Minute()%5 == 0 {
						return 4
					}
					return 9
				})
				// a second, replayed copy of the morning, out of order
				evs := []telemetry.Event{reading("fridge", at(0, 1, 0), 4)}
				evs[0].Flags = telemetry.Replayed
				c.Observe(evs)
			},
			temp: 1.0 / 1440, avail: 1,
		},
		{
			name:    "retained and unsynchronised readings do not count",
			sensors: []Sensor{corr},
			feed: func(c *Check) {
				var evs []telemetry.Event
				for t := at(0, 0, 0); t.Before(at(1, 0, 0)); t = t.Add(time.Minute) {
					e := reading("corr", t, 20)
					switch {
					case t.Hour() < 6:
						e.Flags = telemetry.ClockUnsynced | telemetry.DeviceTime
					case t.Hour() < 8:
						e.Flags = telemetry.Retained | telemetry.DeviceTime
					case t.Hour() < 9:
						e.Values = []telemetry.Value{{Metric: telemetry.Battery, V: 90}}
					}
					evs = append(evs, e)
				}
				c.Observe(evs)
			},
			temp: (15*60 - 1) / 1440.0, avail: (15*60 - 1) / 1440.0, // the last reading: nothing confirms it
		},
		{
			name:    "resident room below 16 °C for 30 min caps",
			sensors: []Sensor{room},
			feed: func(c *Check) {
				feed(c, "room", at(0, 0, 0), at(1, 0, 10), 5*time.Minute, func(t time.Time) float64 {
					if t.Hour() == 3 && t.Minute() < 30 {
						return 15.5
					}
					return 21
				})
			},
			temp: 282.0 / 288, avail: 1, caps: CapRoomCold,
		},
		{
			name:    "resident room below 16 °C for 25 min does not cap",
			sensors: []Sensor{room},
			feed: func(c *Check) {
				feed(c, "room", at(0, 0, 0), at(1, 0, 10), 5*time.Minute, func(t time.Time) float64 {
					if t.Hour() == 3 && t.Minute() < 25 {
						return 15.5
					}
					return 21
				})
			},
			temp: 283.0 / 288, avail: 1,
		},
		{
			name:    "one freezing fridge reading caps",
			sensors: []Sensor{fridge},
			feed: func(c *Check) {
				feed(c, "fridge", at(0, 0, 0), at(1, 0, 10), 5*time.Minute, func(t time.Time) float64 {
					if t.Equal(at(0, 13, 0)) {
						return -0.5
					}
					return 5
				})
			},
			temp: 287.0 / 288, avail: 1, caps: CapFreeze,
		},
		{
			// 09:55 to 10:50: the 09:55 reading is not confirmed, so 55 minutes
			// without data
			name:    "a fridge silent 55 minutes between readings does not cap",
			sensors: []Sensor{fridge},
			feed: func(c *Check) {
				feed(c, "fridge", at(0, 0, 0), at(0, 10, 0), 5*time.Minute, constant(5))
				feed(c, "fridge", at(0, 10, 50), at(1, 0, 10), 5*time.Minute, constant(5))
			},
			temp: 277.0 / 288, avail: 277.0 / 288,
		},
		{
			name:    "a fridge silent 60 minutes between readings caps",
			sensors: []Sensor{fridge},
			feed: func(c *Check) {
				feed(c, "fridge", at(0, 0, 0), at(0, 10, 0), 5*time.Minute, constant(5))
				feed(c, "fridge", at(0, 10, 55), at(1, 0, 10), 5*time.Minute, constant(5))
			},
			temp: 276.0 / 288, avail: 276.0 / 288, caps: CapFreezeNoData,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCheck(t, tt.sensors, Options{})
			c.Tick(at(0, 0, 0), true)
			tt.feed(c)
			f := closeDay(t, c)
			wantField(t, f, "temperature", tt.temp)
			wantField(t, f, "availability", tt.avail)
			if f["caps"] != tt.caps {
				t.Errorf("caps = %q, want %q", f["caps"], tt.caps)
			}
			want := Compute(DefaultWeights, [NumComponents]Part{
				CompTemperature:  {Applicable: true, Known: true, Ratio: tt.temp},
				CompAvailability: {Applicable: true, Known: true, Ratio: tt.avail},
			}, strings.Split(tt.caps, ","), true)
			wantField(t, f, "total", want.Total)
		})
	}
}

// TestLateDataCorrectsDay: a reading for a day already written marks it, and the
// next minute writes a corrected point for that day with the same timestamp.
func TestLateDataCorrectsDay(t *testing.T) {
	s := Sensor{ID: "corr", Zone: "c", ZoneKind: "corridor", Interval: time.Hour}
	c := newTestCheck(t, []Sensor{s}, Options{})
	c.Tick(at(0, 0, 0), true)
	feed(c, "corr", at(0, 0, 0), at(0, 12, 0), time.Hour, constant(20))
	pts := tickRange(c, at(0, 12, 0), at(1, 1, 0), time.Minute)
	// the 11:00 reading is not confirmed (nothing followed it within the hour)
	wantField(t, lastDay(t, pts, at(0, 0, 0)), "availability", 11.0/24)
	// nothing new: no second day point
	pts = tickRange(c, at(1, 1, 1), at(1, 1, 5), time.Minute)
	for _, p := range pts {
		if _, period := fields(p); period == "day" {
			t.Fatalf("day point rewritten without new data: %v", p.Point.Fields)
		}
	}
	late := reading("corr", at(0, 12, 0), 20) // confirms 11:00
	late.Flags = telemetry.Replayed | telemetry.DeviceTime
	c.Observe([]telemetry.Event{late})
	pts = tickRange(c, at(1, 1, 6), at(1, 1, 6), time.Minute)
	wantField(t, lastDay(t, pts, at(0, 0, 0)), "availability", 12.0/24)
	if got := c.Snapshot().Days; len(got) != 1 || !near(got[0].Result.Parts[CompAvailability].Ratio, 12.0/24) {
		t.Errorf("snapshot days %+v", got)
	}
}

// TestLiveWindow: the live point covers the 24 h before now, across midnight,
// up to now.
func TestLiveWindow(t *testing.T) {
	s := Sensor{ID: "corr", Zone: "c", ZoneKind: "corridor", Interval: time.Hour}
	c := newTestCheck(t, []Sensor{s}, Options{})
	c.Tick(at(-1, 0, 0), true)
	feed(c, "corr", at(-1, 0, 0), at(0, 12, 0), time.Hour, func(t time.Time) float64 {
		if t.Before(at(0, 0, 0)) {
			return 10 // yesterday: out of band
		}
		return 20
	})
	pts := c.Tick(at(0, 12, 30), true)
	var live map[string]any
	for _, p := range pts {
		if f, period := fields(p); period == "live" {
			live = f
			if !p.Time.Equal(at(0, 12, 30)) {
				t.Errorf("live point at %s", p.Time)
			}
		}
	}
	if live == nil {
		t.Fatal("no live point")
	}
	// window [yesterday 12:30, 12:30): yesterday's readings out of band, today's
	// 00:00..11:00 in band. Temperature is time-weighted over the 24 h: in band from 00:00 to 11:00
	// (the 11:00 reading is not held: its successor is overdue at 12:30).
	// Availability too: held from the window's start to 11:00.
	wantField(t, live, "availability", 22.5/24) // 11:00 is not confirmed by 12:30
	wantField(t, live, "temperature", 11.0/24)
	snap := c.Snapshot()
	if snap.Live == nil || snap.Today == nil || !near(snap.Today.Parts[CompTemperature].Ratio, 11/12.5) {
		t.Errorf("snapshot %+v", snap)
	}
}

// TestEventsCaps: conditions from other checks cap; camera_down only after 24 h.
func TestEventsCaps(t *testing.T) {
	ev := &fakeEvents{}
	c := newTestCheck(t, nil, Options{Events: ev, Coverage: fixed{1, true}})
	ev.list = []telemetry.Condition{{Kind: "camera_down", Subject: "cam-1", Since: at(-1, 6, 0)},
		{Kind: "not_ours", Since: at(-5, 0, 0)}}
	r := c.compute(at(0, 0, 0), at(1, 0, 0), at(0, 5, 0)) // open 23 h at now
	if r.Capped() {
		t.Errorf("capped after 23 h: %v", r.Caps)
	}
	r = c.compute(at(0, 0, 0), at(1, 0, 0), at(0, 7, 0))
	if !slices.Equal(r.Caps, []string{CapCameraDown}) || !near(r.Total, 60) {
		t.Errorf("after 25 h: caps %v total %g", r.Caps, r.Total)
	}
	ev.list = []telemetry.Condition{{Kind: "scald", Since: at(0, 3, 0), Resolved: at(0, 3, 1)}}
	if r = c.compute(at(0, 0, 0), at(1, 0, 0), at(0, 7, 0)); !slices.Equal(r.Caps, []string{CapScald}) {
		t.Errorf("resolved scald: caps %v", r.Caps)
	}
}

type fakeEvents struct{ list []telemetry.Condition }

func (f *fakeEvents) Serious(from, to time.Time) []telemetry.Condition { return f.list }

type fixed struct {
	r     float64
	known bool
}

func (f fixed) CoverageRatio(from, to time.Time) (float64, bool) { return f.r, f.known }
func (f fixed) Compliance(from, to time.Time) (float64, bool)    { return f.r, f.known }
func (f fixed) ResponseScore(from, to time.Time) (float64, bool) { return f.r, f.known }
