package plausibility

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// FuzzObserve feeds arbitrary sequences of (time step, value) and checks that
// nothing panics and the verdict stays within its bounds.
func FuzzObserve(f *testing.F) {
	f.Add([]byte{0, 0, 0, 60, 0, 0, 0, 0, 0, 0, 0x14, 0x40})
	f.Add(make([]byte, 120))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewSensor(Cycling, DefaultParams())
		o := NewSensor(Room, DefaultParams())
		at := day0
		for len(data) >= 12 {
			step := int32(binary.BigEndian.Uint32(data))
			v := math.Float64frombits(binary.BigEndian.Uint64(data[4:]))
			data = data[12:]
			at = at.Add(time.Duration(step) * time.Second)
			err1, err2 := s.Observe(at, v), o.Observe(at, -v)
			if (err1 == nil) != (v >= -60 && v <= 125 && at.Unix() >= 0) && !math.IsNaN(v) {
				t.Fatalf("Observe(%s, %v) = %v", at, v, err1)
			}
			_ = err2
		}
		for _, sn := range []*Sensor{s, o} {
			v := sn.Verdict(at)
			if v.Hours < 0 || v.Hours > 24 || v.Readings < 0 || v.Cycles < 0 || (v.Implausible && !v.Judged) {
				t.Fatalf("verdict %+v", v)
			}
		}
		_ = Twins(s, o, at, DefaultParams())
	})
}
