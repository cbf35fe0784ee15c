package decode

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// centre is the time zone of the test centre (Asia/Almaty has been UTC+5 all year
// since 2024); fixed so that the tests need no tzdata.
var centre = time.FixedZone("ALMT", 5*3600)

func mustNew(tb testing.TB, source string) Func {
	tb.Helper()
	dec, err := New(source, centre)
	if err != nil {
		tb.Fatalf("New(%q): %v", source, err)
	}
	return dec
}

// decodeCase is a message that must decode to want.
type decodeCase struct {
	name    string
	topic   string
	payload string
	want    []telemetry.Sample
}

// rejectCase is a message that must fail with reason ("ignored" for telemetry.ErrIgnored).
type rejectCase struct {
	name    string
	topic   string
	payload string
	reason  string
}

func runDecodeCases(t *testing.T, source string, cases []decodeCase) {
	t.Helper()
	dec := mustNew(t, source)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dec(tt.topic, []byte(tt.payload))
			if err != nil {
				t.Fatalf("decode(%q, %q): %v", tt.topic, tt.payload, err)
			}
			if diff := diffSamples(got, tt.want); diff != "" {
				t.Errorf("decode(%q, %q):\n%s", tt.topic, tt.payload, diff)
			}
			checkInvariants(t, source, tt.topic, []byte(tt.payload), got, err)
		})
	}
}

func runRejectCases(t *testing.T, source string, cases []rejectCase) {
	t.Helper()
	dec := mustNew(t, source)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dec(tt.topic, []byte(tt.payload))
			if err == nil {
				t.Fatalf("decode(%q, %.80q) = %v, want reason %q", tt.topic, tt.payload, got, tt.reason)
			}
			// A bad field beside good ones is named in a *telemetry.Partial with the good samples.
			if p := telemetry.AsPartial(err); p != nil && p.Bad[0].Reason == tt.reason {
				if len(got) == 0 {
					t.Errorf("decode(%q, %.80q): partial without samples", tt.topic, tt.payload)
				}
			} else if r := telemetry.Reason(err); r != tt.reason {
				t.Errorf("decode(%q, %.80q): reason %q (%v), want %q", tt.topic, tt.payload, r, err, tt.reason)
			}
			checkInvariants(t, source, tt.topic, []byte(tt.payload), got, err)
		})
	}
}

// diffSamples describes how got differs from want; "" if equal. Values are compared
// with a relative tolerance of 1e-9 (unit conversions), times with time.Time.Equal.
func diffSamples(got, want []telemetry.Sample) string {
	var b strings.Builder
	if len(got) != len(want) {
		fmt.Fprintf(&b, "got %d samples, want %d\n", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Device != w.Device {
			fmt.Fprintf(&b, "[%d] Device %q, want %q\n", i, g.Device, w.Device)
		}
		if g.Key != w.Key {
			fmt.Fprintf(&b, "[%d] Key %q, want %q\n", i, g.Key, w.Key)
		}
		if !g.Time.Equal(w.Time) {
			fmt.Fprintf(&b, "[%d] Time %v, want %v\n", i, g.Time, w.Time)
		}
		if !valuesEqual(g.Values, w.Values) {
			fmt.Fprintf(&b, "[%d] Values %v, want %v\n", i, g.Values, w.Values)
		}
	}
	if b.Len() > 0 {
		fmt.Fprintf(&b, "got:  %+v\nwant: %+v", got, want)
	}
	return b.String()
}

func valuesEqual(a, b []telemetry.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Metric != b[i].Metric || math.Abs(a[i].V-b[i].V) > 1e-9*math.Max(1, math.Abs(b[i].V)) {
			return false
		}
	}
	return true
}

// knownReasons are every code Reason may return for a decoder's error.
var knownReasons = map[string]bool{
	reasonTooLarge: true, reasonBadJSON: true, reasonBadTopic: true, reasonBadValue: true,
	reasonNotFinite: true, reasonOutOfRange: true, reasonBadTime: true, reasonEmpty: true,
	reasonIgnored: true, ReasonUnknownQuantity: true,
}

// checkInvariants asserts the contract of Func on one result; the fuzz targets call
// it too.
func checkInvariants(t testing.TB, source, topic string, payload []byte, samples []telemetry.Sample, err error) {
	t.Helper()
	if p := telemetry.AsPartial(err); p != nil {
		if len(samples) == 0 || len(p.Bad) == 0 {
			t.Fatalf("partial %v with %d samples and %d bad fields", err, len(samples), len(p.Bad))
		}
		if p.Source != source || p.Topic != topic {
			t.Errorf("partial %v: want Source %q, Topic %q", err, source, topic)
		}
		for _, b := range p.Bad {
			checkInvariants(t, source, topic, payload, nil, b)
		}
		if strings.ContainsAny(p.Error(), "\n\r") {
			t.Errorf("Error() = %q spans lines", p.Error())
		}
		err = nil
	}
	if err != nil {
		if samples != nil {
			t.Errorf("error %v with %d samples", err, len(samples))
		}
		r := telemetry.Reason(err)
		if !knownReasons[r] {
			t.Fatalf("unknown reason %q for %v", r, err)
		}
		if r == reasonIgnored {
			if err != telemetry.ErrIgnored {
				t.Errorf("ignored error is %v, want telemetry.ErrIgnored itself", err)
			}
			return
		}
		var e *telemetry.RejectError
		if !errors.As(err, &e) {
			t.Fatalf("error %v is not an *telemetry.RejectError", err)
		}
		if e.Source != source || e.Topic != topic || e.Err == nil {
			t.Errorf("error %#v: want Source %q, Topic %q and a cause", e, source, topic)
		}
		quoted := topic
		if checkTopicChars(topic) != nil {
			quoted = strconv.Quote(topic)
		}
		if prefix := source + " " + quoted + ": " + r + ": "; !strings.HasPrefix(e.Error(), prefix) {
			t.Errorf("Error() = %q, want prefix %q", e.Error(), prefix)
		}
		if strings.ContainsAny(e.Error(), "\n\r") {
			t.Errorf("Error() = %q spans lines", e.Error())
		}
		return
	}
	if len(samples) == 0 {
		t.Fatal("no error and no samples")
	}
	for i, s := range samples {
		if s.Device == "" {
			t.Errorf("sample %d: empty Device", i)
		}
		if !strings.HasPrefix(topic, s.Device) {
			t.Errorf("sample %d: Device %q is not derived from topic %q", i, s.Device, topic)
		}
		if !utf8.ValidString(s.Key) {
			t.Errorf("sample %d: Key %q is not UTF-8", i, s.Key)
		}
		if len(s.Values) == 0 {
			t.Errorf("sample %d: no values", i)
		}
		for _, v := range s.Values {
			if err := telemetry.CheckValue(v); err != nil {
				t.Errorf("sample %d: %v", i, err)
			}
		}
		if !s.Time.IsZero() {
			if s.Time.Location() != time.UTC {
				t.Errorf("sample %d: Time %v not in UTC", i, s.Time)
			}
			if s.Time.Year() < 2000 || s.Time.Year() >= 2100 {
				t.Errorf("sample %d: Time %v outside 2000..2100", i, s.Time)
			}
		}
	}
}

// checkPure decodes the message twice, scribbling over the first payload after the
// first call: both results must agree (no state, no aliasing of the payload).
func checkPure(t testing.TB, dec Func, topic string, payload []byte) {
	t.Helper()
	p := bytes.Clone(payload)
	first, err1 := dec(topic, p)
	for i := range p {
		p[i] = 'x'
	}
	second, err2 := dec(topic, payload)
	if (err1 == nil) != (err2 == nil) || telemetry.Reason(err1) != telemetry.Reason(err2) || fmt.Sprint(err1) != fmt.Sprint(err2) {
		t.Fatalf("two decodes disagree: %v vs %v", err1, err2)
	}
	if diff := diffSamples(first, second); diff != "" && !hasNaN(first) {
		t.Fatalf("payload aliased or decoder impure:\n%s", diff)
	}
}

func hasNaN(s []telemetry.Sample) bool {
	for _, x := range s {
		for _, v := range x.Values {
			if math.IsNaN(v.V) {
				return true
			}
		}
	}
	return false
}

// Helpers to write expected samples tersely.

func temp(x float64) telemetry.Value { return telemetry.Value{Metric: telemetry.Temperature, V: x} }
func hum(x float64) telemetry.Value  { return telemetry.Value{Metric: telemetry.Humidity, V: x} }
func batt(x float64) telemetry.Value { return telemetry.Value{Metric: telemetry.Battery, V: x} }
func lqi(x float64) telemetry.Value  { return telemetry.Value{Metric: telemetry.LinkQuality, V: x} }
func volt(x float64) telemetry.Value { return telemetry.Value{Metric: telemetry.Voltage, V: x} }
func up(x float64) telemetry.Value   { return telemetry.Value{Metric: telemetry.Online, V: x} }

func sample(device, key string, t time.Time, vals ...telemetry.Value) telemetry.Sample {
	return telemetry.Sample{Device: device, Key: key, Time: t, Values: vals}
}

func samples(s ...telemetry.Sample) []telemetry.Sample { return s }

// at parses an RFC 3339 time for expectations.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// big returns a syntactically plausible payload of n bytes.
func big(n int) string {
	return `{"temperature":21,"pad":"` + strings.Repeat("a", n) + `"}`
}

var noTime time.Time
