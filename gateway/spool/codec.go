package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// ErrInvalidEvent reports an event the spool cannot store: a time outside the range of
// Unix nanoseconds (years 1678..2262, which includes the zero time) or a zero Metric.
// Retrying such an event never succeeds; the caller should count and drop it.
var ErrInvalidEvent = errors.New("spool: invalid event")

// The first byte of every encoded event: a sensor reading or a derived point.
const (
	eventVersion = 1
	pointVersion = 2
)

// encodeEvent appends the binary encoding of ev to dst:
//
//	version byte (1)
//	time       varint, Unix nanoseconds
//	sensor, zone, zone kind, source: each uvarint length + bytes
//	values     uvarint count, then per value: metric byte + float64 bits (8 bytes, little endian)
//	flags      byte
//
// It returns an error wrapping [ErrInvalidEvent] for events decodeEvent would reject, so
// that nothing is stored that cannot be read back.
func encodeEvent(dst []byte, ev *telemetry.Event) ([]byte, error) {
	if !timeInRange(ev.Time) {
		return dst, fmt.Errorf("%w: time %s outside the Unix nanosecond range", ErrInvalidEvent, ev.Time.Format(time.RFC3339))
	}
	if ev.Point != nil {
		return encodePoint(dst, ev)
	}
	for _, v := range ev.Values {
		if v.Metric == 0 {
			return dst, fmt.Errorf("%w: zero metric", ErrInvalidEvent)
		}
	}
	dst = append(dst, eventVersion)
	dst = binary.AppendVarint(dst, ev.Time.UnixNano())
	for _, s := range [...]string{ev.Sensor, ev.Zone, ev.ZoneKind, ev.Source} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(ev.Values)))
	for _, v := range ev.Values {
		dst = append(dst, byte(v.Metric))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.V))
	}
	return append(dst, byte(ev.Flags)), nil
}

// timeInRange reports whether t survives a round trip through UnixNano.
func timeInRange(t time.Time) bool {
	return !t.Before(time.Unix(0, math.MinInt64)) && !t.After(time.Unix(0, math.MaxInt64))
}

// errDecode is wrapped by every decodeEvent failure.
var errDecode = errors.New("spool: bad event encoding")

// decodeEvent decodes what encodeEvent wrote. It rejects, with an error and without
// panicking, anything encodeEvent cannot have produced: an unknown version, truncated
// or over-long fields, non-minimal varints, a zero metric, trailing bytes. Lengths are
// checked against the bytes that remain before anything is allocated. Metrics unknown
// to this build (but non-zero) are accepted: a newer build may have written them, and
// the sinks validate values. The decoded time is in UTC.
func decodeEvent(b []byte) (telemetry.Event, error) {
	var d decoder
	return d.decode(b)
}

// decoder decodes events, optionally interning the strings it returns so that a batch
// of events from the same few sensors shares their ids.
type decoder struct {
	intern map[string]string // nil: no interning
}

func (d *decoder) decode(b []byte) (telemetry.Event, error) {
	var ev telemetry.Event
	if len(b) == 0 {
		return ev, fmt.Errorf("%w: empty", errDecode)
	}
	if b[0] == pointVersion {
		return d.decodePoint(b)
	}
	if b[0] != eventVersion {
		return ev, fmt.Errorf("%w: version %d", errDecode, b[0])
	}
	b = b[1:]
	ns, n, err := readVarint(b)
	if err != nil {
		return ev, fmt.Errorf("%w: time: %w", errDecode, err)
	}
	ev.Time = time.Unix(0, ns).UTC()
	b = b[n:]
	for _, p := range [...]*string{&ev.Sensor, &ev.Zone, &ev.ZoneKind, &ev.Source} {
		l, n, err := readUvarint(b)
		if err != nil {
			return ev, fmt.Errorf("%w: string length: %w", errDecode, err)
		}
		b = b[n:]
		if l > uint64(len(b)) {
			return ev, fmt.Errorf("%w: string of %d bytes, %d left", errDecode, l, len(b))
		}
		*p = d.str(b[:l])
		b = b[l:]
	}
	count, n, err := readUvarint(b)
	if err != nil {
		return ev, fmt.Errorf("%w: value count: %w", errDecode, err)
	}
	b = b[n:]
	const valueLen = 1 + 8
	if count > uint64(len(b)/valueLen) {
		return ev, fmt.Errorf("%w: %d values, %d bytes left", errDecode, count, len(b))
	}
	if count > 0 {
		ev.Values = make([]telemetry.Value, count)
		for i := range ev.Values {
			m := telemetry.Metric(b[0])
			if m == 0 {
				return ev, fmt.Errorf("%w: value %d: zero metric", errDecode, i)
			}
			ev.Values[i] = telemetry.Value{Metric: m, V: math.Float64frombits(binary.LittleEndian.Uint64(b[1:valueLen]))}
			b = b[valueLen:]
		}
	}
	if len(b) != 1 {
		return ev, fmt.Errorf("%w: %d bytes where the flags byte should end the event", errDecode, len(b))
	}
	ev.Flags = telemetry.Flags(b[0])
	return ev, nil
}

// str returns b as a string, interned when the decoder interns.
func (d *decoder) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if d.intern == nil {
		return string(b)
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.intern) < 1024 {
		d.intern[s] = s
	}
	return s
}

// readUvarint reads a minimally encoded uvarint, so that decoding and re-encoding an
// event gives back the same bytes.
func readUvarint(b []byte) (uint64, int, error) {
	v, n := binary.Uvarint(b)
	switch {
	case n == 0:
		return 0, 0, errors.New("truncated varint")
	case n < 0:
		return 0, 0, errors.New("varint overflows 64 bits")
	case n > 1 && b[n-1] == 0:
		return 0, 0, errors.New("non-minimal varint")
	}
	return v, n, nil
}

// readVarint reads a minimally encoded zig-zag varint.
func readVarint(b []byte) (int64, int, error) {
	u, n, err := readUvarint(b)
	return unzigzag(u), n, err
}

// unzigzag decodes a zig-zag encoded integer.
func unzigzag(u uint64) int64 {
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// encodePoint appends the binary encoding of an event that carries a point:
//
//	version byte (2)
//	time        varint, Unix nanoseconds
//	flags       byte
//	measurement uvarint length + bytes
//	tags        uvarint count, then per tag: key, value (each uvarint length + bytes)
//	fields      uvarint count, then per field: key, kind byte, and the value:
//	            float64 bits (8 bytes LE) | varint | one byte 0/1 | uvarint length + bytes
func encodePoint(dst []byte, ev *telemetry.Event) ([]byte, error) {
	p := ev.Point
	if err := p.Check(); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	dst = append(dst, pointVersion)
	dst = binary.AppendVarint(dst, ev.Time.UnixNano())
	dst = append(dst, byte(ev.Flags))
	dst = appendStr(dst, p.Measurement)
	dst = binary.AppendUvarint(dst, uint64(len(p.Tags)))
	for _, t := range p.Tags {
		dst = appendStr(appendStr(dst, t.Key), t.Value)
	}
	dst = binary.AppendUvarint(dst, uint64(len(p.Fields)))
	for _, f := range p.Fields {
		dst = append(appendStr(dst, f.Key), byte(f.Kind))
		switch f.Kind {
		case telemetry.FloatField:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f.Num))
		case telemetry.IntField:
			dst = binary.AppendVarint(dst, f.Int)
		case telemetry.BoolField:
			dst = append(dst, byte(min(max(f.Int, 0), 1)))
		case telemetry.StringField:
			dst = appendStr(dst, f.Str)
		}
	}
	return dst, nil
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decodePoint decodes what encodePoint wrote, with the same strictness as decode.
func (d *decoder) decodePoint(b []byte) (telemetry.Event, error) {
	var ev telemetry.Event
	r := reader{b: b[1:], d: d}
	ev.Time = time.Unix(0, r.varint("time")).UTC()
	ev.Flags = telemetry.Flags(r.byte("flags"))
	p := &telemetry.Point{Measurement: r.str("measurement")}
	if n := r.count("tag count", 2); n > 0 {
		p.Tags = make([]telemetry.Tag, n)
		for i := range p.Tags {
			p.Tags[i] = telemetry.Tag{Key: r.str("tag key"), Value: r.str("tag value")}
		}
	}
	if n := r.count("field count", 2); n > 0 {
		p.Fields = make([]telemetry.Field, n)
		for i := range p.Fields {
			f := &p.Fields[i]
			f.Key = r.str("field key")
			f.Kind = telemetry.FieldKind(r.byte("field kind"))
			switch f.Kind {
			case telemetry.FloatField:
				f.Num = math.Float64frombits(binary.LittleEndian.Uint64(r.take("float", 8)))
			case telemetry.IntField:
				f.Int = r.varint("int")
			case telemetry.BoolField:
				if f.Int = int64(r.byte("bool")); f.Int > 1 {
					r.fail("bool %d", f.Int)
				}
			case telemetry.StringField:
				f.Str = r.str("string")
			default:
				r.fail("field kind %d", f.Kind)
			}
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return telemetry.Event{}, r.err
	}
	if err := p.Check(); err != nil {
		return telemetry.Event{}, fmt.Errorf("%w: %w", errDecode, err)
	}
	ev.Point = p
	return ev, nil
}

// reader consumes an encoded point; after the first error every read returns zero.
type reader struct {
	b   []byte
	d   *decoder
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errDecode, fmt.Sprintf(format, args...))
	}
	r.b = nil
}

func (r *reader) take(what string, n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.fail("%s: %d bytes, %d left", what, n, len(r.b))
		return make([]byte, max(n, 8))
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte(what string) byte { return r.take(what, 1)[0] }

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n, err := readUvarint(r.b)
	if err != nil {
		r.fail("%s: %v", what, err)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint(what string) int64 { return unzigzag(r.uvarint(what)) }

// count reads a count of items of at least minLen bytes each, checked against what is left.
func (r *reader) count(what string, minLen int) int {
	n := r.uvarint(what)
	if n > uint64(len(r.b)/minLen) {
		r.fail("%s %d, %d bytes left", what, n, len(r.b))
		return 0
	}
	return int(n)
}

func (r *reader) str(what string) string {
	n := r.uvarint(what)
	if n > uint64(len(r.b)) {
		r.fail("%s of %d bytes, %d left", what, n, len(r.b))
		return ""
	}
	return r.d.str(r.take(what, int(n)))
}
