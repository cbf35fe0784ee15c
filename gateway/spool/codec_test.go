package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	almaty := time.FixedZone("Asia/Almaty", 5*3600)
	allMetrics := []telemetry.Value{
		{Metric: telemetry.Temperature, V: -59.9},
		{Metric: telemetry.Humidity, V: 100},
		{Metric: telemetry.Battery, V: 0},
		{Metric: telemetry.LinkQuality, V: 255},
		{Metric: telemetry.Voltage, V: 3.3},
		{Metric: telemetry.Online, V: 1},
	}
	tests := []struct {
		name string
		ev   telemetry.Event
	}{
		{"minimal", telemetry.Event{Time: time.Unix(0, 1)}},
		{"typical", testEvent(42)},
		{"all metrics", telemetry.Event{Time: time.Unix(1_700_000_000, 123_456_789), Sensor: "s", Values: allMetrics}},
		{"all flags", telemetry.Event{Time: time.Unix(1, 0), Flags: telemetry.Retained | telemetry.DeviceTime | telemetry.ClockSkew | telemetry.ClockUnsynced | telemetry.Replayed}},
		{"unknown flag bits kept", telemetry.Event{Time: time.Unix(1, 0), Flags: 0xff}},
		{"each flag", telemetry.Event{Time: time.Unix(1, 0), Flags: telemetry.ClockUnsynced}},
		{"unicode", telemetry.Event{
			Time:     time.Date(2025, 1, 31, 23, 59, 59, 999_999_999, almaty),
			Sensor:   "жатақхана-101 температура",
			Zone:     "Бөлме №101 (қарттар)",
			ZoneKind: "med-fridge ❄️",
			Source:   "zigbee2mqtt/日本語\x00\xff",
			Values:   []telemetry.Value{{Metric: telemetry.Temperature, V: 4.5}},
		}},
		{"odd floats", telemetry.Event{Time: time.Unix(1, 0), Values: []telemetry.Value{
			{Metric: telemetry.Voltage, V: math.NaN()},
			{Metric: telemetry.Voltage, V: math.Inf(-1)},
			{Metric: telemetry.Voltage, V: math.Copysign(0, -1)},
			{Metric: telemetry.Voltage, V: math.SmallestNonzeroFloat64},
			{Metric: telemetry.Metric(200), V: 1}, // written by a newer build
		}}},
		{"before 1970", telemetry.Event{Time: time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC)}},
		{"earliest", telemetry.Event{Time: time.Unix(0, math.MinInt64)}},
		{"latest", telemetry.Event{Time: time.Unix(0, math.MaxInt64)}},
		{"long string", telemetry.Event{Time: time.Unix(1, 0), Sensor: string(bytes.Repeat([]byte("x"), 70000))}},
		{"point, every field kind", testPoint()},
		{"point, flags and no tags", telemetry.Event{Time: time.Unix(9, 9), Flags: telemetry.ClockUnsynced,
			Point: &telemetry.Point{Measurement: "gateway", Fields: []telemetry.Field{telemetry.Int("dropped", -1)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeEvent([]byte("prefix"), &tt.ev)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatalf("encode did not append to dst")
			}
			got, err := decodeEvent(b[len("prefix"):])
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !eventsEqual(got, tt.ev) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tt.ev)
			}
			if got.Time.Location() != time.UTC {
				t.Errorf("decoded time in %v, want UTC", got.Time.Location())
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   telemetry.Event
	}{
		{"zero time", telemetry.Event{}},
		{"year 2300", telemetry.Event{Time: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"year 1600", telemetry.Event{Time: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"zero metric", telemetry.Event{Time: time.Unix(1, 0), Values: []telemetry.Value{{Metric: 0, V: 1}}}},
		{"point without measurement", telemetry.NewPoint(time.Unix(1, 0), "", nil, telemetry.Int("x", 1))},
		{"point without fields", telemetry.NewPoint(time.Unix(1, 0), "m", nil)},
		{"point with NaN", telemetry.NewPoint(time.Unix(1, 0), "m", nil, telemetry.Float("x", math.NaN()))},
		{"point with empty tag key", telemetry.NewPoint(time.Unix(1, 0), "m", []telemetry.Tag{{Key: "", Value: "v"}}, telemetry.Int("x", 1))},
		{"point with unknown kind", telemetry.NewPoint(time.Unix(1, 0), "m", nil, telemetry.Field{Key: "x", Kind: 9})},
		{"point without time", telemetry.NewPoint(time.Time{}, "m", nil, telemetry.Int("x", 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := encodeEvent(nil, &tt.ev); !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("encode: err %v, want ErrInvalidEvent", err)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	good, err := encodeEvent(nil, &telemetry.Event{
		Time: time.Unix(1, 0), Sensor: "s", Zone: "z", ZoneKind: "k", Source: "src",
		Values: []telemetry.Value{{Metric: telemetry.Temperature, V: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"version 0", mod(func(b []byte) []byte { b[0] = 0; return b })},
		{"version 3", mod(func(b []byte) []byte { b[0] = 3; return b })},
		{"event read as a point", mod(func(b []byte) []byte { b[0] = 2; return b })},
		{"only version", []byte{1}},
		{"truncated varint", []byte{1, 0x80}},
		{"varint overflow", append([]byte{1}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"non-minimal varint", []byte{1, 0x80, 0x00, 0, 0, 0, 0, 0, 0}},
		{"string longer than input", []byte{1, 0, 0x7f, 'a'}},
		{"huge string length", append([]byte{1, 0}, binary.AppendUvarint(nil, math.MaxUint64)...)},
		{"huge value count", append([]byte{1, 0, 0, 0, 0, 0}, binary.AppendUvarint(nil, 1<<60)...)},
		{"value count beyond input", []byte{1, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"zero metric", []byte{1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"missing flags", good[:len(good)-1]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"truncated value", good[:len(good)-3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ev, err := decodeEvent(tt.in); err == nil {
				t.Fatalf("decode(%x) = %+v, want error", tt.in, ev)
			} else if !errors.Is(err, errDecode) {
				t.Fatalf("decode error %v does not wrap errDecode", err)
			}
		})
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, ev := range []telemetry.Event{
		testEvent(1),
		testEvent(77),
		{Time: time.Unix(0, math.MinInt64), Sensor: "ы", Flags: 0xff},
		{Time: time.Unix(5, 5), Values: []telemetry.Value{{Metric: telemetry.Online, V: math.NaN()}}},
		testPoint(),
	} {
		b, err := encodeEvent(nil, &ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{1, 0x80, 0x80, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeEvent(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes: the encoding is canonical,
		// so nothing decodeEvent accepts is ambiguous.
		again, err := encodeEvent(nil, &ev)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", ev, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, again)
		}
		if len(ev.Values) > len(b)/9 {
			t.Fatalf("%d values from %d bytes", len(ev.Values), len(b))
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	ev := testEvent(7)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		var err error
		buf, err = encodeEvent(buf[:0], &ev)
		if err != nil {
			b.Fatal(err)
		}
		n = len(buf)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n), "bytes/event")
}

func BenchmarkDecode(b *testing.B) {
	ev := testEvent(7)
	buf, err := encodeEvent(nil, &ev)
	if err != nil {
		b.Fatal(err)
	}
	d := decoder{intern: make(map[string]string)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.decode(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// testPoint is a derived point with every field kind.
func testPoint() telemetry.Event {
	return telemetry.NewPoint(time.Unix(1_700_000_000, 5), "camera",
		[]telemetry.Tag{{Key: "camera", Value: "cam-01"}, {Key: "zone", Value: "Бөлме 101"}, {Key: "empty", Value: ""}},
		telemetry.Float("fps", 4.5), telemetry.Int("reconnects", 3), telemetry.Bool("online", true),
		telemetry.Bool("recording", false), telemetry.String("state", `degraded "fps" \ low`))
}

func TestDecodePointRejects(t *testing.T) {
	t.Parallel()
	ev := testPoint()
	good, err := encodeEvent(nil, &ev)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(good) {
		if got, err := decodeEvent(good[:n]); err == nil {
			t.Fatalf("decode of %d of %d bytes = %+v, want error", n, len(good), got)
		}
	}
	if _, err := decodeEvent(append(bytes.Clone(good), 0)); !errors.Is(err, errDecode) {
		t.Fatalf("trailing byte: err %v", err)
	}
	// The bool field's byte (the last field is a string, the one before it a bool).
	bad := bytes.Clone(good)
	i := bytes.Index(bad, []byte("recording")) + len("recording") + 1
	bad[i] = 2
	if _, err := decodeEvent(bad); !errors.Is(err, errDecode) {
		t.Fatalf("bool 2: err %v", err)
	}
	bad[i], bad[i-1] = 0, 9
	if _, err := decodeEvent(bad); !errors.Is(err, errDecode) {
		t.Fatalf("field kind 9: err %v", err)
	}
}
