package decode

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Func decodes one MQTT message of one source. It is pure and safe for concurrent use.
//
// It returns at least one Sample, each with a non-empty Device and at least one Value,
// every Value passing [telemetry.CheckValue]; or [telemetry.ErrIgnored]; or an [*telemetry.RejectError] that says
// why the message was rejected. One bad field never loses the good ones: when some
// fields of a message are unreadable or absurd but others are fine, the good values are
// returned together with a [*telemetry.Partial] error naming each bad field (an unreadable or
// out-of-window payload time leaves Sample.Time zero, so the caller stamps the arrival
// time, and [Partial.TimeBad] says so). Only [*telemetry.Partial] comes with samples; with any
// other error nothing is returned. Sample.Time is in UTC, or zero when the payload has
// no time. A sample's Values are ordered by metric and never share memory with
// another sample's. Func does not retain payload, and it never panics.
type Func func(topic string, payload []byte) ([]telemetry.Sample, error)

// Reason codes; see [telemetry.RejectError].
const (
	reasonTooLarge   = "too_large"
	reasonBadJSON    = "bad_json"
	reasonBadTopic   = "bad_topic"
	reasonBadValue   = "bad_value"
	reasonNotFinite  = "not_finite"
	reasonOutOfRange = "out_of_range"
	reasonBadTime    = "bad_time"
	reasonEmpty      = "empty"
	reasonIgnored    = "ignored"
)

// Sources lists the sources [New] accepts, sorted. The slice is the caller's.
func Sources() []string {
	return []string{"ble", "chirpstack", "esphome", "saqshy", "shelly", "tasmota", "zigbee2mqtt"}
}

// New returns the decoder for source ("zigbee2mqtt", "tasmota", "esphome", "shelly",
// "saqshy", "ble" for OpenMQTTGateway and Theengs Gateway, "chirpstack" for LoRaWAN). loc is the centre's time zone, used for payload times without a UTC
// offset (Tasmota's Time); it must not be nil.
func New(source string, loc *time.Location) (Func, error) {
	if loc == nil {
		return nil, fmt.Errorf("decode: source %q: nil time zone", source)
	}
	d := &decoder{source: source, loc: loc}
	switch source {
	case "zigbee2mqtt", "tasmota", "esphome", "shelly", "saqshy", "ble", "chirpstack":
	default:
		return nil, fmt.Errorf("decode: unknown source %q (known: %s)", source, strings.Join(Sources(), ", "))
	}
	return d.decode, nil
}

// NewShelly returns the Shelly decoder (see [New]) reading the values of BLU
// sensors (bthomesensor components) as q says; a nil q knows none, so that each is
// the bad field unknown_quantity.
func NewShelly(loc *time.Location, q BTHomeQuantities) (Func, error) {
	if loc == nil {
		return nil, fmt.Errorf("decode: source shelly: nil time zone")
	}
	d := &decoder{source: "shelly", loc: loc, bthome: q}
	return d.decode, nil
}

// decoder is one source's decoder. It is immutable after New.
type decoder struct {
	source string
	loc    *time.Location
	bthome BTHomeQuantities // shelly only; may be nil
}

// parse classifies the topic (bad_topic, telemetry.ErrIgnored) and then decodes the payload with
// the source's decoder. The decoders need not check the size, the generic topic
// syntax, or the values against telemetry.CheckValue and the time window: decode
// does. A field whose value is bad (bad_value, not_finite, out_of_range, bad_time) is
// recorded in bad and skipped, so that the rest of the message is kept. The calls
// are direct (not through a func value) so that bad stays on the stack.
func (d *decoder) parse(topic string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
	switch d.source {
	case "zigbee2mqtt":
		return d.zigbee2mqtt(topic, payload, bad)
	case "tasmota":
		return d.tasmota(topic, payload, bad)
	case "esphome":
		return d.esphome(topic, payload, bad)
	case "shelly":
		return d.shelly(topic, payload, bad)
	case "saqshy":
		return d.saqshy(topic, payload, bad)
	case "ble":
		return d.ble(topic, payload, bad)
	case "chirpstack":
		return d.chirpstack(topic, payload, bad)
	}
	return nil, fmt.Errorf("decode: unknown source %q", d.source)
}

// badFields collects the bad fields of one message.
type badFields struct {
	errs []*telemetry.RejectError
}

// keep records err if it is a bad field (bad_value, not_finite, out_of_range,
// bad_time) and returns nil so that the walk goes on; any other error is returned.
func (b *badFields) keep(err error) error {
	if err == nil {
		return nil
	}
	e, ok := err.(*telemetry.RejectError)
	if !ok {
		return err
	}
	switch e.Reason {
	case reasonBadValue, reasonNotFinite, reasonOutOfRange, reasonBadTime, ReasonUnknownQuantity:
		b.errs = append(b.errs, e)
		return nil
	}
	return err
}

// decode implements Func.
func (d *decoder) decode(topic string, payload []byte) ([]telemetry.Sample, error) {
	var bad badFields
	samples, err := d.run(topic, payload, &bad)
	for _, e := range bad.errs {
		e.Source, e.Topic = d.source, topic
	}
	if err != nil {
		if e, ok := err.(*telemetry.RejectError); ok {
			e.Source, e.Topic = d.source, topic
		}
		return nil, err
	}
	if len(bad.errs) > 0 {
		if len(samples) == 0 {
			return nil, bad.errs[0]
		}
		return samples, &telemetry.Partial{Source: d.source, Topic: topic, Bad: bad.errs}
	}
	if len(samples) == 0 {
		return nil, telemetry.ErrIgnored
	}
	return samples, nil
}

func (d *decoder) run(topic string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
	if len(payload) > telemetry.MaxPayload {
		return nil, reject(reasonTooLarge, fmt.Errorf("%d bytes, limit %d", len(payload), telemetry.MaxPayload))
	}
	if err := checkTopic(topic); err != nil {
		return nil, reject(reasonBadTopic, err)
	}
	samples, err := d.parse(topic, payload, bad)
	if err != nil {
		if errors.Is(err, telemetry.ErrIgnored) && len(bad.errs) > 0 {
			return nil, nil // every field was bad: decode reports the first
		}
		return nil, err
	}
	return checkSamples(samples, bad), nil
}

// reject returns an *telemetry.RejectError with reason and err; decode fills in Source and Topic.
func reject(reason string, err error) *telemetry.RejectError {
	return &telemetry.RejectError{Reason: reason, Err: err}
}

func badTopic(format string, args ...any) *telemetry.RejectError {
	return reject(reasonBadTopic, fmt.Errorf(format, args...))
}

func badValue(format string, args ...any) *telemetry.RejectError {
	return reject(reasonBadValue, fmt.Errorf(format, args...))
}

func badJSON(format string, args ...any) *telemetry.RejectError {
	return reject(reasonBadJSON, fmt.Errorf(format, args...))
}

func badTime(err error) *telemetry.RejectError {
	return reject(reasonBadTime, err)
}

// checkTopic rejects topics no real device publishes to and no config can name:
// empty, with an empty level ("a//b", "/a", "a/"), with MQTT wildcards, with control
// characters or with invalid UTF-8.
func checkTopic(topic string) error {
	if topic == "" {
		return errors.New("empty topic")
	}
	if topic[0] == '/' || topic[len(topic)-1] == '/' || strings.Contains(topic, "//") {
		return errors.New("empty topic level")
	}
	if strings.ContainsAny(topic, "+#") {
		return errors.New("wildcard in topic")
	}
	return checkTopicChars(topic)
}

// checkTopicChars rejects control characters and invalid UTF-8.
func checkTopicChars(topic string) error {
	for i := 0; i < len(topic); i++ {
		if c := topic[i]; c < 0x20 || c == 0x7f {
			return errors.New("control character in topic")
		}
	}
	if !utf8.ValidString(topic) {
		return errors.New("topic is not valid UTF-8")
	}
	return nil
}

// checkEmpty returns an "empty" *telemetry.RejectError if payload has nothing but white space.
func checkEmpty(payload []byte) error {
	if len(bytes.TrimSpace(payload)) == 0 {
		return reject(reasonEmpty, errors.New("empty payload"))
	}
	return nil
}

// Payload times outside [minUnix, maxUnix) are bad_time: 2000-01-01 and 2100-01-01 UTC.
const (
	minUnix = 946684800
	maxUnix = 4102444800
)

// checkTime returns a bad_time error if t is not zero and outside the accepted window.
func checkTime(t time.Time) *telemetry.RejectError {
	if t.IsZero() {
		return nil
	}
	if u := t.Unix(); u < minUnix || u >= maxUnix {
		return badTime(fmt.Errorf("%s is outside [2000-01-01, 2100-01-01)", t.Format(time.RFC3339Nano)))
	}
	return nil
}

// checkSamples enforces the contract of Func on what a source decoded: a time outside
// the window is dropped (the sample keeps its values), an absurd value is dropped, a
// sample left without values is dropped; each is recorded in bad. Samples without a
// device are dropped too (the source decoders never build them).
func checkSamples(samples []telemetry.Sample, bad *badFields) []telemetry.Sample {
	out := samples[:0]
	timeBad := false
	for i := range samples {
		s := samples[i]
		if s.Device == "" {
			continue
		}
		if err := checkTime(s.Time); err != nil {
			if !timeBad { // one time per message: name it once
				bad.errs = append(bad.errs, err)
				timeBad = true
			}
			s.Time = time.Time{}
		}
		vals := s.Values[:0]
		for _, v := range s.Values {
			if err := checkValue(v); err != nil {
				if s.Key != "" {
					err.Err = fmt.Errorf("%s: %w", s.Key, err.Err)
				}
				bad.errs = append(bad.errs, err)
				continue
			}
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			continue
		}
		s.Values = vals
		out = append(out, s)
	}
	return out
}

// checkValue classifies why v is not a plausible reading: not_finite or out_of_range.
func checkValue(v telemetry.Value) *telemetry.RejectError {
	if math.IsNaN(v.V) || math.IsInf(v.V, 0) {
		return reject(reasonNotFinite, fmt.Errorf("%s: %g is not a finite number", v.Metric, v.V))
	}
	if err := telemetry.CheckValue(v); err != nil {
		return reject(reasonOutOfRange, err)
	}
	return nil
}

// maxValues is the most Values one Sample carries: one per metric.
const maxValues = 6

// values collects the values of one sample on the stack.
type values struct {
	v [maxValues]telemetry.Value
	n int
}

// set sets metric m to x, replacing an earlier value of m (a repeated JSON key: the
// last one wins, as with encoding/json).
func (vs *values) set(m telemetry.Metric, x float64) {
	for i := range vs.n {
		if vs.v[i].Metric == m {
			vs.v[i].V = x
			return
		}
	}
	vs.v[vs.n] = telemetry.Value{Metric: m, V: x}
	vs.n++
}

// drop removes metric m.
func (vs *values) drop(m telemetry.Metric) {
	for i := range vs.n {
		if vs.v[i].Metric == m {
			copy(vs.v[i:], vs.v[i+1:vs.n])
			vs.n--
			return
		}
	}
}

// setNumber decodes the number field name (see number) as metric m given in 1/per of
// m's unit (per 1000 for millivolts as volts): null is no value.
func (vs *values) setNumber(m telemetry.Metric, name string, v []byte, per float64) error {
	x, ok, err := number(name, v)
	if err != nil {
		return err
	}
	if ok {
		vs.set(m, x/per)
	}
	return nil
}

// slice returns the values ordered by metric, whatever the payload's field order.
func (vs *values) slice() []telemetry.Value {
	v := vs.v[:vs.n]
	for i := 1; i < len(v); i++ { // insertion sort: at most maxValues
		for j := i; j > 0 && v[j].Metric < v[j-1].Metric; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	return v
}

// sampleBuf holds one Sample and its Values in a single allocation.
type sampleBuf struct {
	s [1]telemetry.Sample
	v [maxValues]telemetry.Value
}

// one returns a single sample carrying vals, or nil if vals is empty.
func one(device, key string, t time.Time, vals []telemetry.Value) []telemetry.Sample {
	if len(vals) == 0 {
		return nil
	}
	b := new(sampleBuf)
	n := copy(b.v[:], vals)
	b.s[0] = telemetry.Sample{Device: device, Key: key, Time: t, Values: b.v[:n:n]}
	return b.s[:]
}

// online returns the availability sample of device.
func online(device string, up bool) []telemetry.Sample {
	v := 0.0
	if up {
		v = 1
	}
	return one(device, "", time.Time{}, []telemetry.Value{{Metric: telemetry.Online, V: v}})
}

// sampleList builds several samples whose Values share one backing array.
type sampleList struct {
	samples []telemetry.Sample
	vals    []telemetry.Value
}

func newSampleList(nSamples, nValues int) sampleList {
	return sampleList{
		samples: make([]telemetry.Sample, 0, nSamples),
		vals:    make([]telemetry.Value, 0, nValues),
	}
}

// add appends a sample with vals; it does nothing if vals is empty.
func (l *sampleList) add(device, key string, t time.Time, vals []telemetry.Value) {
	if len(vals) == 0 {
		return
	}
	start := len(l.vals)
	l.vals = append(l.vals, vals...)
	l.samples = append(l.samples, telemetry.Sample{
		Device: device, Key: key, Time: t, Values: l.vals[start:len(l.vals):len(l.vals)],
	})
}

// availability decodes an availability payload, the word on or off (see parseOnOff),
// as device's Online sample.
func availability(device string, payload []byte, on, off string) ([]telemetry.Sample, error) {
	if err := checkEmpty(payload); err != nil {
		return nil, err
	}
	up, err := parseOnOff(payload, on, off)
	if err != nil {
		return nil, err
	}
	return online(device, up), nil
}

// plainReading decodes a payload that is one plain number (see plainNumber) as the
// value of metric m of device, sub-sensor key, without a time.
func plainReading(device, key string, m telemetry.Metric, payload []byte) ([]telemetry.Sample, error) {
	if err := checkEmpty(payload); err != nil {
		return nil, err
	}
	x, err := plainNumber(payload)
	if err != nil {
		return nil, err
	}
	return one(device, key, time.Time{}, []telemetry.Value{{Metric: m, V: x}}), nil
}

// parseOnOff parses an availability word: on → true, off → false, compared without
// case after trimming white space; anything else is bad_value.
func parseOnOff(payload []byte, on, off string) (bool, error) {
	w := bytes.TrimSpace(payload)
	switch {
	case bytes.EqualFold(w, []byte(on)):
		return true, nil
	case bytes.EqualFold(w, []byte(off)):
		return false, nil
	}
	return false, badValue("availability %q is neither %q nor %q", clip(w), on, off)
}

// plainNumber parses a payload that is one decimal number, as ESPHome and Shelly gen1
// publish. NaN and infinities ("nan", "inf", or too large for float64) are not_finite;
// anything else that is not a decimal number (hex floats included) is bad_value.
func plainNumber(payload []byte) (float64, error) {
	s := bytes.TrimSpace(payload)
	x, err := strconv.ParseFloat(string(s), 64)
	if errors.Is(err, strconv.ErrRange) {
		err = nil // x is ±Inf (overflow) or 0 (underflow)
	}
	switch {
	case err != nil:
		return 0, badValue("want a number, got %q", clip(s))
	case bytes.ContainsAny(s, "xX_pP"):
		return 0, badValue("want a decimal number, got %q", clip(s))
	case math.IsNaN(x) || math.IsInf(x, 0):
		return 0, reject(reasonNotFinite, fmt.Errorf("%q is not a finite number", clip(s)))
	}
	return x, nil
}

// clip shortens b for an error message.
func clip(b []byte) []byte {
	const max = 40
	if len(b) > max {
		return b[:max]
	}
	return b
}

// fahrenheitToCelsius converts a temperature.
func fahrenheitToCelsius(f float64) float64 { return (f - 32) * 5 / 9 }
