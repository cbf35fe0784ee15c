package telemetry

import (
	"fmt"
	"time"
)

// The measurements the gateway writes. Every writer of these measurements — the
// gateway's checks and saqshy-sim's history — takes the names from here, and the
// field kinds from [Schema], so that one bucket never holds a field as two types
// (InfluxDB refuses every later point of the other type).
const (
	MeasurementClimate     = "climate"
	MeasurementDevice      = "device"
	MeasurementGateway     = "gateway"
	MeasurementAlert       = "alert"
	MeasurementRound       = "round"
	MeasurementRoundNight  = "round_night"
	MeasurementCoverage    = "coverage"
	MeasurementCamera      = "camera"
	MeasurementCameraView  = "camera_view" // a still's verdict and measures, never the still
	MeasurementSafetyScore = "safety_score"
)

// FlagsField is the integer field that carries an event's [Flags] when non-zero; any
// measurement may have it.
const FlagsField = "flags"

// Schema is the field set of every measurement the gateway writes: field key to
// kind. A field not listed is not part of the schema. The centre tag is added by
// the sink and every measurement may carry the integer [FlagsField].
var Schema = map[string]map[string]FieldKind{
	MeasurementClimate: {
		Temperature.String(): FloatField,
		Humidity.String():    FloatField,
	},
	MeasurementDevice: {
		Battery.String():     FloatField,
		LinkQuality.String(): FloatField,
		Voltage.String():     FloatField,
		Online.String():      FloatField,
	},
	MeasurementGateway: {
		"uptime_s":         IntField,
		"spool_bytes":      IntField,
		"spool_backlog":    IntField,
		"dropped":          IntField,
		"rejected":         IntField,
		"received":         IntField,
		"mqtt_connected":   BoolField,
		"clock_synced":     BoolField,
		"influx_ok":        BoolField,
		"registry_version": IntField,
		"config_hash":      StringField,
	},
	MeasurementAlert: {
		"state":    StringField,
		"value":    FloatField,
		"id":       StringField,
		"acked_by": StringField,
	},
	MeasurementRound: {
		"on_time": BoolField,
		"late_s":  IntField,
		"flagged": BoolField,
		"counted": BoolField,
		"slot_s":  IntField,
		"tag":     StringField,
	},
	MeasurementRoundNight: {
		"due":           IntField,
		"on_time":       IntField,
		"late":          IntField,
		"missed":        IntField,
		"unjudged":      IntField,
		"compliance":    FloatField,
		"unknown":       BoolField,
		"flagged_scans": IntField,
	},
	MeasurementCoverage: {
		"required_s": FloatField,
		"covered_s":  FloatField,
		"ratio":      FloatField,
	},
	MeasurementCamera: {
		"online":    BoolField,
		"covers":    BoolField,
		"state":     StringField,
		"reason":    StringField,
		"fps":       FloatField,
		"recording": BoolField,
	},
	MeasurementCameraView: {
		"sees":       BoolField,
		"state":      StringField,
		"reason":     StringField,
		"brightness": FloatField,
		"detail":     FloatField,
		"change":     FloatField,
		"corr":       FloatField,
	},
	MeasurementSafetyScore: {
		"total":           FloatField,
		"temperature":     FloatField,
		"availability":    FloatField,
		"coverage":        FloatField,
		"rounds":          FloatField,
		"response":        FloatField,
		"weights_version": StringField,
		"caps":            StringField,
		"capped":          BoolField,
	},
}

// String names a field kind as InfluxDB does ("float", "integer", "boolean", "string").
func (k FieldKind) String() string {
	switch k {
	case FloatField:
		return "float"
	case IntField:
		return "integer"
	case BoolField:
		return "boolean"
	case StringField:
		return "string"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// CheckSchema reports the first way p departs from [Schema]: an unknown
// measurement, a field the measurement does not have, or a field of another kind.
func CheckSchema(p *Point) error {
	fields, ok := Schema[p.Measurement]
	if !ok {
		return fmt.Errorf("schema: unknown measurement %q", p.Measurement)
	}
	for _, f := range p.Fields {
		want, ok := fields[f.Key]
		if !ok && f.Key == FlagsField {
			want, ok = IntField, true
		}
		switch {
		case !ok:
			return fmt.Errorf("schema: measurement %s has no field %q", p.Measurement, f.Key)
		case f.Kind != want:
			return fmt.Errorf("schema: field %s.%s is %s, not %s", p.Measurement, f.Key, want, f.Kind)
		}
	}
	return nil
}

// Heartbeat is the `gateway` measurement: the gateway's own state, written once a
// minute, which the monitoring room uses to tell a silent gateway from a quiet
// centre. Build every `gateway` point through it.
type Heartbeat struct {
	Uptime        time.Duration // written as whole seconds
	SpoolBytes    int64
	SpoolBacklog  int64
	Dropped       int64
	Rejected      int64
	Received      int64
	MQTTConnected bool
	ClockSynced   bool
	InfluxOK      bool
	// RegistryVersion is the version of the ministry registry bundle the gateway
	// rates with; 0 means unrated (no registry applied).
	RegistryVersion int64
	// ConfigHash identifies the centre config in force ("" when unknown).
	ConfigHash string
}

// Fields returns h's fields, of the kinds [Schema] gives them.
func (h Heartbeat) Fields() []Field {
	return []Field{
		Int("uptime_s", int64(h.Uptime/time.Second)),
		Int("spool_bytes", h.SpoolBytes),
		Int("spool_backlog", h.SpoolBacklog),
		Int("dropped", h.Dropped),
		Int("rejected", h.Rejected),
		Int("received", h.Received),
		Bool("mqtt_connected", h.MQTTConnected),
		Bool("clock_synced", h.ClockSynced),
		Bool("influx_ok", h.InfluxOK),
		Int("registry_version", h.RegistryVersion),
		String("config_hash", h.ConfigHash),
	}
}

// Point wraps h, taken at t, in an Event for the spool.
func (h Heartbeat) Point(t time.Time) Event {
	return NewPoint(t, MeasurementGateway, nil, h.Fields()...)
}
