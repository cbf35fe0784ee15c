package plausibility

import (
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// The window: a day of 10-minute slots.
const (
	SlotLen = 10 * time.Minute
	Slots   = 144 // 24 h
	slotSec = int64(SlotLen / time.Second)
)

// Class is how a zone kind's temperature varies.
type Class uint8

// Classes.
const (
	// Unjudged kinds have no variation rule (hot water, boiler, unknown kinds).
	Unjudged Class = iota
	// Cycling kinds are cooled by a compressor that switches on and off.
	Cycling
	// Room kinds are rooms people live and work in: never flat for a whole day.
	Room
)

// String returns "cycling", "room" or "unjudged".
func (c Class) String() string {
	switch c {
	case Cycling:
		return "cycling"
	case Room:
		return "room"
	}
	return "unjudged"
}

// ClassOf returns the class of a zone kind (config.ZoneKinds names). The
// integrator may move this into the zonekind table as a column.
func ClassOf(kind string) Class {
	switch kind {
	case "med-fridge", "food-fridge", "freezer", "cool-room":
		return Cycling
	case "living", "children-bedroom", "medical", "dining", "kitchen", "play", "activity",
		"corridor", "entrance", "bathroom", "reception", "office", "isolation", "sports":
		return Room
	}
	return Unjudged
}

// Params are the thresholds. [DefaultParams] are tuned in tune_test.go.
type Params struct {
	// SwingC is the rise or fall (°C) that confirms a turn of the trace: a
	// compressor cycle makes two turns of a few tenths to ~2 °C.
	SwingC float64
	// MinCycles is the number of full cycles (two turns each) a cycling kind must
	// make in a day; real fridges make 24 to 140.
	MinCycles int
	// MinCycleReadings is the number of in-order readings a day needs before the
	// cycle rule judges: fewer than one per ~6 minutes cannot show a 10–60 minute
	// cycle.
	MinCycleReadings int
	// FlatC: a day whose range (max − min) is at most this is flat.
	FlatC float64
	// MinHours is the number of the day's hours that need a reading before any
	// per-sensor verdict.
	MinHours int
	// Twin rule: two sensors track each other when they share at least
	// TwinMinHours hours, each one's hourly means vary by at least TwinMinStdC
	// (standard deviation), and their difference varies by at most TwinDiffC and at
	// most TwinRatio times the smaller of the two deviations.
	TwinMinHours int
	TwinMinStdC  float64
	TwinDiffC    float64
	TwinRatio    float64
}

// DefaultParams returns the tuned thresholds.
func DefaultParams() Params {
	return Params{
		SwingC:           0.2,
		MinCycles:        10,
		MinCycleReadings: 230,
		FlatC:            0.1,
		MinHours:         20,
		TwinMinHours:     12,
		TwinMinStdC:      0.1,
		TwinDiffC:        0.05,
		TwinRatio:        0.2,
	}
}

// Code names why a sensor is implausible.
type Code string

// Codes.
const (
	NoCycles Code = "no_compressor_cycles"
	Flat     Code = "flat"
	Twin     Code = "tracks_other_sensor"
)

// slot is one 10-minute slot of the ring. Temperatures are kept in hundredths of
// a degree (int16 holds −327.68…327.67 °C, telemetry's limits are −60…125).
type slot struct {
	idx   uint32 // slot number (unix seconds / 600) + 1; 0 = empty
	sum   int32  // sum of the readings, centi-degrees
	n     uint16 // readings in sum
	turns uint8  // confirmed turns of the trace in this slot
}

// Sensor is one sensor's last day. The zero value is not usable: use [NewSensor].
// Not safe for concurrent use.
type Sensor struct {
	class  Class
	p      Params
	ring   [Slots]slot
	newest int64 // newest slot number seen, -1 before the first reading
	// Turn tracker over in-order readings: dir is +1 rising, −1 falling, 0 not yet
	// known; ext is the extreme since the last turn; lastT the last in-order time.
	dir     int8
	started bool
	ext     int16
	pend    uint8 // readings in a row beyond SwingC back from ext
	pendExt int16 // the extreme of those readings
	pendT   int64 // the time of the first of them
	lastT   int64
	inOrder [Slots]uint16 // in-order readings per slot, for MinCycleReadings
}

// SensorBytes is the memory one Sensor takes (about 2.6 KB): 300 sensors take
// under 1 MB on the Pi.
const SensorBytes = unsafe.Sizeof(Sensor{})

// NewSensor returns an empty sensor of the zone kind's class with parameters p.
func NewSensor(class Class, p Params) *Sensor {
	return &Sensor{class: class, p: p, newest: -1}
}

// Class returns the sensor's class.
func (s *Sensor) Class() Class { return s.class }

// Observe adds one reading taken at t. A reading older than the window is ignored;
// one that arrives out of order counts for range and alignment but not for the
// turns. It returns an error, and keeps nothing, for a value that is not a
// plausible temperature or a time before 1970.
func (s *Sensor) Observe(t time.Time, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("plausibility: reading %v is not a finite number", v)
	}
	if v < telemetry.MinTemperatureC || v > telemetry.MaxTemperatureC {
		return fmt.Errorf("plausibility: reading %g °C out of range [%g, %g]", v, telemetry.MinTemperatureC, telemetry.MaxTemperatureC)
	}
	sec := t.Unix()
	if sec < 0 || sec/slotSec >= math.MaxUint32-1 {
		return fmt.Errorf("plausibility: reading time %s out of range", t.UTC().Format(time.RFC3339))
	}
	q := int16(math.Round(v * 100))
	n := sec / slotSec
	if n > s.newest {
		s.newest = n
	}
	if n+Slots <= s.newest {
		return nil // older than the window
	}
	i := n % Slots
	r := &s.ring[i]
	if r.idx != uint32(n+1) {
		*r = slot{idx: uint32(n + 1)}
		s.inOrder[i] = 0
	}
	if r.n < math.MaxUint16 {
		r.n++
		r.sum += int32(q)
	}
	if s.started && sec < s.lastT {
		return nil // late: no part in the turns
	}
	if s.inOrder[i] < math.MaxUint16 {
		s.inOrder[i]++
	}
	s.turn(r, q, sec)
	return nil
}

// confirmSec is how long the readings confirming a turn must span.
const confirmSec = 120

// turn advances the zigzag: a turn is confirmed when readings in a row, at least
// two and spanning two minutes, lie SwingC or more back from the extreme since the
// last turn (noise does not turn the trace; a compressor's swing lasts minutes);
// it is counted in the slot that confirms it.
func (s *Sensor) turn(r *slot, q int16, sec int64) {
	h := int32(math.Round(s.p.SwingC * 100))
	s.lastT = sec
	if !s.started {
		s.started, s.ext, s.dir = true, q, 0
		return
	}
	d := int32(q) - int32(s.ext)
	switch {
	case s.dir == 0:
		if d >= h || -d >= h {
			s.dir, s.ext = sign8(d), q
		}
	case s.dir > 0 && d > 0, s.dir < 0 && d < 0:
		s.ext, s.pend = q, 0 // a new extreme
	case s.dir > 0 && -d >= h, s.dir < 0 && d >= h:
		if s.pend == 0 {
			s.pendT = sec
		}
		if s.pend == 0 || (s.dir > 0 && q < s.pendExt) || (s.dir < 0 && q > s.pendExt) {
			s.pendExt = q
		}
		if s.pend < math.MaxUint8 {
			s.pend++
		}
		if s.pend < 2 || sec-s.pendT < confirmSec {
			return
		}
		if r.turns < math.MaxUint8 {
			r.turns++
		}
		s.dir, s.ext, s.pend = -s.dir, s.pendExt, 0
	default:
		s.pend = 0
	}
}

func sign8(x int32) int8 {
	if x < 0 {
		return -1
	}
	return 1
}

// Verdict is the answer about one sensor's last day.
type Verdict struct {
	// Judged is false when the day has too few readings for any rule (then
	// Implausible is false).
	Judged      bool
	Implausible bool
	Code        Code   // set when Implausible
	Reason      string // for people, set when Implausible or not Judged
	// The measures behind it.
	Hours    int     // hours of the day with a reading
	Readings int     // readings in the day
	RangeC   float64 // max − min of the day's hourly means
	Cycles   float64 // turns / 2
}

// Verdict judges the day that ends at now (the slots of the last 24 hours).
func (s *Sensor) Verdict(now time.Time) Verdict {
	var v Verdict
	if s.class == Unjudged {
		v.Reason = "the zone kind has no variation rule"
		return v
	}
	end := now.Unix() / slotSec
	var hours [24]bool
	var hsum [24]int64
	var hn [24]int64
	turns, inOrder := 0, 0
	for i := range s.ring {
		r := &s.ring[i]
		n := int64(r.idx) - 1
		if r.idx == 0 || n > end || n+Slots <= end {
			continue
		}
		hr := (end - n) / 6
		hours[hr] = true
		hsum[hr] += int64(r.sum)
		hn[hr] += int64(r.n)
		v.Readings += int(r.n)
		turns += int(r.turns)
		inOrder += int(s.inOrder[i])
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, h := range hours {
		if h {
			v.Hours++
			m := float64(hsum[i]) / float64(hn[i])
			lo, hi = min(lo, m), max(hi, m)
		}
	}
	if v.Hours < s.p.MinHours {
		v.Reason = fmt.Sprintf("only %d of the last 24 hours have readings (%d needed)", v.Hours, s.p.MinHours)
		return v
	}
	v.Judged = true
	v.RangeC = math.Round(hi-lo) / 100
	v.Cycles = float64(turns) / 2
	// The flat rule is for rooms only: a fridge's hourly means are rightly
	// steady, and a flat fridge probe makes no swings, which the cycle rule
	// catches.
	if s.class == Room && v.RangeC <= s.p.FlatC+0.005 {
		v.Implausible, v.Code = true, Flat
		v.Reason = fmt.Sprintf("flat: the hourly means of the last 24 hours stay within %.2f °C (a room in use varies more than %.2f °C)", v.RangeC, s.p.FlatC)
		return v
	}
	if s.class == Cycling && inOrder >= s.p.MinCycleReadings && v.Cycles < float64(s.p.MinCycles) {
		v.Implausible, v.Code = true, NoCycles
		v.Reason = fmt.Sprintf("no compressor cycles: %.1f swings of %.2f °C or more in the last 24 hours (a running fridge makes at least %d)", v.Cycles, s.p.SwingC, s.p.MinCycles)
	}
	return v
}
