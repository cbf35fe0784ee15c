package telemetry

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxPayload is the largest MQTT payload a decoder accepts (64 KiB); larger payloads
// are rejected with Reason "too_large" without being parsed.
const MaxPayload = 64 << 10

// ErrIgnored means a message was understood but carries nothing the gateway records
// (e.g. a Zigbee2MQTT payload with none of the known fields, a Tasmota STATE topic).
// Callers count it, never log it as an error. It is returned unwrapped.
var ErrIgnored = errors.New("decode: nothing to record")

// RejectError is a rejected message, from a sensor decoder or a check's own decoder
// (cameras, night rounds). Reason is a short stable snake_case code meant as a
// counter label:
//
//   - "too_large": the payload is larger than [MaxPayload];
//   - "bad_json": the payload is not the JSON document the topic calls for;
//   - "bad_topic": the topic is malformed for the source (an empty level, a wildcard,
//     a control character, invalid UTF-8, missing levels);
//   - "bad_value": a field or plain payload has the wrong type or an unknown word;
//   - "not_finite": a value is NaN or ±Inf (e.g. ESPHome's "nan");
//   - "out_of_range": a value is absurd (outside the limits of [CheckValue],
//     or a DS18B20 reading 85.0 °C, its power-on value, or -127 °C, its read error);
//   - "bad_time": a payload time cannot be parsed, lacks a UTC offset where one is
//     required, or lies outside [2000-01-01, 2100-01-01) UTC;
//   - "empty": the payload is empty or only white space (an empty retained message
//     clears the retained value; it is still reported);
//   - "unknown_quantity": a Shelly BLU sensor's value whose quantity neither the
//     device nor the config says; never guessed.
//
// Checks may add codes of their own (e.g. "retained" for a night-round scan).
type RejectError struct {
	Source string // the decoder's source, e.g. "tasmota"
	Topic  string // the message's topic
	Reason string // one of the codes above
	Err    error  // what exactly was wrong
}

// Error returns "<source> <topic>: <reason>: <err>". A topic with control characters
// or invalid UTF-8 is quoted, so that the message stays on one line.
func (e *RejectError) Error() string {
	topic := e.Topic
	if !printableTopic(topic) {
		topic = strconv.Quote(topic)
	}
	if e.Err == nil {
		return e.Source + " " + topic + ": " + e.Reason
	}
	return e.Source + " " + topic + ": " + e.Reason + ": " + e.Err.Error()
}

// Unwrap returns e.Err.
func (e *RejectError) Unwrap() error { return e.Err }

// Partial is returned by a decoder together with samples when some fields of a
// message were bad and others good: the samples carry every good value, Bad names
// each bad field. Callers record the samples and count each bad field.
type Partial struct {
	Source string         // the decoder's source
	Topic  string         // the message's topic
	Bad    []*RejectError // one per bad field, in payload order; never empty
}

// Error returns "<source> <topic>: N bad fields: <first>; <second>...".
func (p *Partial) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d bad field", p.Source, p.Topic, len(p.Bad))
	if len(p.Bad) != 1 {
		b.WriteByte('s')
	}
	for i, e := range p.Bad {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(e.Reason)
		if e.Err != nil {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
	}
	return b.String()
}

// TimeBad reports whether the payload time was unreadable or outside the accepted
// window, so that the samples carry no time and the caller stamps the arrival time.
func (p *Partial) TimeBad() bool {
	for _, e := range p.Bad {
		if e.Reason == "bad_time" {
			return true
		}
	}
	return false
}

// AsPartial returns err as a *Partial, or nil if it is not one.
func AsPartial(err error) *Partial {
	var p *Partial
	if errors.As(err, &p) {
		return p
	}
	return nil
}

// Reason returns err's reason code if it is (or wraps) a [*RejectError], "partial"
// for a [*Partial], "ignored" if it is (or wraps) [ErrIgnored], "" if err is nil, and
// "other" otherwise.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	if AsPartial(err) != nil {
		return "partial"
	}
	var e *RejectError
	if errors.As(err, &e) {
		return e.Reason
	}
	if errors.Is(err, ErrIgnored) {
		return "ignored"
	}
	return "other"
}

// printableTopic reports whether topic is valid UTF-8 without control characters.
func printableTopic(topic string) bool {
	for i := 0; i < len(topic); i++ {
		if c := topic[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(topic)
}
