package telemetry

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Point is an InfluxDB point the gateway derives from what it observed: a camera's
// health, coverage ratios, a night-round slot, an alert's transition, a safety score.
// It travels through the spool like a sensor reading (wrapped in an Event by
// [NewPoint]) so that nothing derived is lost when the uplink is down. The sink adds
// the centre tag; a point never sets it.
type Point struct {
	Measurement string
	Tags        []Tag   // empty values are left out when written
	Fields      []Field // at least one
}

// Tag is one tag of a Point.
type Tag struct{ Key, Value string }

// FieldKind is the type of a Field's value, as line protocol knows them.
type FieldKind uint8

// The field kinds.
const (
	FloatField FieldKind = iota + 1
	IntField
	BoolField
	StringField
)

// Field is one field of a Point. Exactly one of Num, Int, Str holds its value, by
// Kind (a bool is Int 0 or 1).
type Field struct {
	Key  string
	Kind FieldKind
	Num  float64
	Int  int64
	Str  string
}

// Float, Int, Bool and String build fields.
func Float(key string, v float64) Field { return Field{Key: key, Kind: FloatField, Num: v} }

// Int builds an integer field.
func Int(key string, v int64) Field { return Field{Key: key, Kind: IntField, Int: v} }

// Bool builds a boolean field.
func Bool(key string, v bool) Field {
	f := Field{Key: key, Kind: BoolField}
	if v {
		f.Int = 1
	}
	return f
}

// String builds a string field.
func String(key, v string) Field { return Field{Key: key, Kind: StringField, Str: v} }

// Value returns the field's value as a Go value (float64, int64, bool or string).
func (f Field) Value() any {
	switch f.Kind {
	case FloatField:
		return f.Num
	case IntField:
		return f.Int
	case BoolField:
		return f.Int != 0
	case StringField:
		return f.Str
	}
	return nil
}

// String formats the field as key=value, for logs and test failures.
func (f Field) String() string {
	switch f.Kind {
	case FloatField:
		return f.Key + "=" + strconv.FormatFloat(f.Num, 'g', -1, 64)
	case IntField:
		return f.Key + "=" + strconv.FormatInt(f.Int, 10) + "i"
	case BoolField:
		return f.Key + "=" + strconv.FormatBool(f.Int != 0)
	case StringField:
		return f.Key + "=" + strconv.Quote(f.Str)
	}
	return f.Key + "=?"
}

// NewPoint wraps a point, taken at t, in an Event for the spool.
func NewPoint(t time.Time, measurement string, tags []Tag, fields ...Field) Event {
	return Event{Time: t, Point: &Point{Measurement: measurement, Tags: tags, Fields: fields}}
}

// Check reports why p cannot be written, or nil: no measurement, no fields, an
// empty key, an unknown kind, a float that is not finite, or a string field longer
// than 64 KiB (InfluxDB's limit).
func (p *Point) Check() error {
	if p.Measurement == "" {
		return fmt.Errorf("point: no measurement")
	}
	if len(p.Fields) == 0 {
		return fmt.Errorf("point %s: no fields", p.Measurement)
	}
	for _, t := range p.Tags {
		if t.Key == "" {
			return fmt.Errorf("point %s: empty tag key", p.Measurement)
		}
	}
	for _, f := range p.Fields {
		switch {
		case f.Key == "":
			return fmt.Errorf("point %s: empty field key", p.Measurement)
		case f.Kind < FloatField || f.Kind > StringField:
			return fmt.Errorf("point %s: field %s: unknown kind %d", p.Measurement, f.Key, f.Kind)
		case f.Kind == FloatField && (math.IsNaN(f.Num) || math.IsInf(f.Num, 0)):
			return fmt.Errorf("point %s: field %s: not a finite number", p.Measurement, f.Key)
		case f.Kind == StringField && len(f.Str) > 64<<10:
			return fmt.Errorf("point %s: field %s: string of %d bytes", p.Measurement, f.Key, len(f.Str))
		}
	}
	return nil
}
