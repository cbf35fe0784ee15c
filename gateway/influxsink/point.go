package influxsink

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// batch is line protocol ready to POST: text holds the lines, each ending in '\n';
// ends[i] is the offset just past line i, and start the offset of the first line. A
// batch splits into halves without copying (text is shared).
type batch struct {
	text  string
	ends  []int
	start int
}

// len returns the number of lines (points).
func (b batch) len() int { return len(b.ends) }

// body returns the batch's lines as one POST body.
func (b batch) body() string {
	if len(b.ends) == 0 {
		return ""
	}
	return b.text[b.start:b.ends[len(b.ends)-1]]
}

// halves splits a batch of at least two lines.
func (b batch) halves() (batch, batch) {
	h := len(b.ends) / 2
	return batch{b.text, b.ends[:h], b.start}, batch{b.text, b.ends[h:], b.ends[h-1]}
}

// encoder writes events as line protocol, byte for byte what influxdb-client-go's
// write.Point encoding produces for the same points (nanosecond precision), without
// building a write.Point per point: the writer's batches are thousands of points, and
// the points, their tag and field slices and the boxed values were most of its
// allocations and CPU time.
//
// Schema (DESIGN.md):
//
//	climate: tags centre, sensor, source, zone, zone_kind; fields temperature_c, humidity_pct.
//	device:  tags centre, device (the sensor id), kind (its source), zone; fields
//	         battery_pct, link_quality, voltage_v, online.
//
// Tags are written in that (sorted) order and left out when empty. Fields follow the
// order of the event's values; a metric that appears twice keeps its first position
// and its last value. A non-zero flags field (telemetry.Flags bits, an integer) is
// added to each point so that a reader can tell readings stamped by the gateway after
// clock skew, or with an unsynchronised clock, from the rest. Values that are not
// finite cannot be written and are left out (decoders already reject them); a point
// left without fields is not written.
type encoder struct {
	centre          string
	sb              strings.Builder
	ends            []int
	perEvent        int      // bytes per event in the last batch, to size the next
	num             [40]byte // scratch for number formatting
	climate, device []field
	tags            []telemetry.Tag
	pfields         []telemetry.Field
}

type field struct {
	m telemetry.Metric
	v float64
}

// encode returns events as a batch of line protocol.
func (e *encoder) encode(events []telemetry.Record) batch {
	e.sb = strings.Builder{} // the previous batch's text belongs to its batch
	e.sb.Grow(cmp.Or(e.perEvent, 256) * len(events) * 9 / 8)
	e.ends = make([]int, 0, len(events)+len(events)/2)
	for i := range events {
		e.event(&events[i].Event)
	}
	b := batch{text: e.sb.String(), ends: e.ends}
	if len(events) > 0 {
		e.perEvent = len(b.text) / len(events)
	}
	e.ends = nil
	return b
}

// event appends ev's points (at most one per measurement).
func (e *encoder) event(ev *telemetry.Event) {
	if ev.Point != nil {
		e.point(ev)
		return
	}
	e.climate, e.device = e.climate[:0], e.device[:0]
	for _, v := range ev.Values {
		if math.IsNaN(v.V) || math.IsInf(v.V, 0) {
			continue
		}
		if v.Metric.Measurement() == "climate" {
			e.climate = setField(e.climate, v)
		} else {
			e.device = setField(e.device, v)
		}
	}
	if len(e.climate) > 0 {
		e.sb.WriteString("climate")
		e.tag("centre", e.centre)
		e.tag("sensor", ev.Sensor)
		e.tag("source", ev.Source)
		e.tag("zone", ev.Zone)
		e.tag("zone_kind", ev.ZoneKind)
		e.fields(e.climate, ev)
	}
	if len(e.device) > 0 {
		e.sb.WriteString("device")
		e.tag("centre", e.centre)
		e.tag("device", ev.Sensor)
		e.tag("kind", ev.Source)
		e.tag("zone", ev.Zone)
		e.fields(e.device, ev)
	}
}

func setField(fs []field, v telemetry.Value) []field {
	for i := range fs {
		if fs[i].m == v.Metric {
			fs[i].v = v.V
			return fs
		}
	}
	return append(fs, field{v.Metric, v.V})
}

func (e *encoder) tag(key, value string) {
	if value == "" {
		return
	}
	e.sb.WriteByte(',')
	e.sb.WriteString(key)
	e.sb.WriteByte('=')
	writeEscaped(&e.sb, value)
}

// fields ends the line: the field set, the timestamp and the newline.
func (e *encoder) fields(fs []field, ev *telemetry.Event) {
	for i, f := range fs {
		if i == 0 {
			e.sb.WriteByte(' ')
		} else {
			e.sb.WriteByte(',')
		}
		writeEscaped(&e.sb, f.m.String())
		e.sb.WriteByte('=')
		e.sb.Write(strconv.AppendFloat(e.num[:0], f.v, 'f', -1, 64))
	}
	if ev.Flags != 0 {
		e.sb.WriteString(",flags=")
		e.sb.Write(strconv.AppendInt(e.num[:0], int64(ev.Flags), 10))
		e.sb.WriteByte('i')
	}
	if !ev.Time.IsZero() {
		e.sb.WriteByte(' ')
		e.sb.Write(strconv.AppendInt(e.num[:0], ev.Time.UnixNano(), 10))
	}
	e.sb.WriteByte('\n')
	e.ends = append(e.ends, e.sb.Len())
}

// point appends a derived point: its measurement, the centre tag and its tags
// sorted by key (empty values left out), its fields sorted by key with the flags
// field among them when non-zero, and the time. Duplicate keys keep the last value.
// A point that cannot be written (telemetry.Point.Check) is left out.
func (e *encoder) point(ev *telemetry.Event) {
	p := ev.Point
	if p.Check() != nil {
		return
	}
	e.tags = append(e.tags[:0], telemetry.Tag{Key: "centre", Value: e.centre})
	e.tags = append(e.tags, p.Tags...)
	slices.SortStableFunc(e.tags, func(a, b telemetry.Tag) int { return strings.Compare(a.Key, b.Key) })
	e.pfields = append(e.pfields[:0], p.Fields...)
	if ev.Flags != 0 {
		e.pfields = append(e.pfields, telemetry.Int("flags", int64(ev.Flags)))
	}
	slices.SortStableFunc(e.pfields, func(a, b telemetry.Field) int { return strings.Compare(a.Key, b.Key) })
	writeMeasurement(&e.sb, p.Measurement)
	for i, t := range e.tags {
		if i+1 < len(e.tags) && e.tags[i+1].Key == t.Key {
			continue
		}
		if t.Value != "" {
			e.sb.WriteByte(',')
			writeEscaped(&e.sb, t.Key)
			e.sb.WriteByte('=')
			writeEscaped(&e.sb, t.Value)
		}
	}
	first := true
	for i, f := range e.pfields {
		if i+1 < len(e.pfields) && e.pfields[i+1].Key == f.Key {
			continue
		}
		if first {
			e.sb.WriteByte(' ')
			first = false
		} else {
			e.sb.WriteByte(',')
		}
		writeEscaped(&e.sb, f.Key)
		e.sb.WriteByte('=')
		switch f.Kind {
		case telemetry.FloatField:
			e.sb.Write(strconv.AppendFloat(e.num[:0], f.Num, 'f', -1, 64))
		case telemetry.IntField:
			e.sb.Write(strconv.AppendInt(e.num[:0], f.Int, 10))
			e.sb.WriteByte('i')
		case telemetry.BoolField:
			e.sb.WriteString(strconv.FormatBool(f.Int != 0))
		case telemetry.StringField:
			e.sb.WriteByte('"')
			writeTable(&e.sb, f.Str, &stringFieldEscapes)
			e.sb.WriteByte('"')
		}
	}
	e.sb.WriteByte(' ')
	e.sb.Write(strconv.AppendInt(e.num[:0], ev.Time.UnixNano(), 10))
	e.sb.WriteByte('\n')
	e.ends = append(e.ends, e.sb.Len())
}

// writeMeasurement writes a measurement name, escaping what line protocol escapes there.
func writeMeasurement(sb *strings.Builder, s string) { writeTable(sb, s, &nameEscapes) }

// The escapes of measurement names and of string field values, as the client
// library's line-protocol encoder writes them.
var (
	nameEscapes        = [256]byte{'\t': 't', '\n': 'n', '\f': 'f', '\r': 'r', ' ': ' ', ',': ','}
	stringFieldEscapes = [256]byte{'\t': 't', '\n': 'n', '\f': 'f', '\r': 'r', '"': '"', '\\': '\\'}
)

// escapeTable marks the bytes line protocol escapes with a backslash in tag keys,
// tag values and field keys, and the letter of the escape.
var escapeTable = [256]byte{'\t': 't', '\n': 'n', '\f': 'f', '\r': 'r', ' ': ' ', ',': ',', '=': '='}

func writeEscaped(sb *strings.Builder, s string) { writeTable(sb, s, &escapeTable) }

// writeTable writes s, escaping each byte that table marks with a backslash and the
// letter the table gives.
func writeTable(sb *strings.Builder, s string, table *[256]byte) {
	from := 0
	for i := 0; i < len(s); i++ {
		if c := table[s[i]]; c != 0 {
			sb.WriteString(s[from:i])
			sb.WriteByte('\\')
			sb.WriteByte(c)
			from = i + 1
		}
	}
	sb.WriteString(s[from:])
}

// Encode returns events as the writer's line protocol for centre (one POST body,
// each line ending in '\n') and its size gzip'd as the client sends it: for
// measurements of the uplink (docs/BENCHMARKS.md).
func Encode(centre string, events []telemetry.Event) (lines string, gzipped int) {
	lines = Lines(centre, events)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzipLevel) // the level is valid
	_, _ = zw.Write([]byte(lines))
	_ = zw.Close()
	return lines, buf.Len()
}

// Lines returns events as the writer's line protocol for centre: one POST body,
// each line ending in '\n'.
func Lines(centre string, events []telemetry.Event) string {
	recs := make([]telemetry.Record, len(events))
	for i := range events {
		recs[i].Event = events[i]
	}
	e := encoder{centre: centre}
	return e.encode(recs).body()
}
