package status

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The gateway's own memory of the last day, for the page's sparklines: per sensor,
// [HistoryBuckets] buckets of [HistoryBucket] with the minimum, maximum and mean
// temperature, in a fixed ring ([HistoryBytesPerSensor] bytes per sensor whatever
// the rate of readings). [History.SaveTo] and [History.LoadFrom] keep the rings
// across restarts (the gateway saves them in its spool directory); InfluxDB keeps
// the record.
const (
	HistoryBucket  = 10 * time.Minute
	HistoryBuckets = 144 // 24 h
	// HistoryBytesPerSensor is the size of one sensor's ring.
	HistoryBytesPerSensor = HistoryBuckets * 20
	// RawPayloadMax bounds the raw payload kept per sensor; a longer one is cut.
	RawPayloadMax = 1024
)

// bucket is one HistoryBucket of one sensor: 20 bytes.
type bucket struct {
	slot          int32 // Unix time / HistoryBucket; 0: empty
	min, max, sum float32
	n             uint32
}

type ring [HistoryBuckets]bucket

// Bucket is one period of a sensor's history: its temperatures' minimum, maximum
// and mean over [Start, Start+HistoryBucket).
type Bucket struct {
	Start          time.Time
	Min, Max, Mean float64
	N              int // readings
}

// History keeps each sensor's temperatures of the last 24 h in fixed rings, and
// each sensor's last raw message. Safe for concurrent use; the zero value is not
// usable, see [NewHistory].
type History struct {
	mu    sync.Mutex
	rings map[string]*ring
	raw   map[string]*rawSeen
	// allowed, when set, bounds the sensors kept to these (the configured ones).
	allowed map[string]bool
}

// NewHistory returns an empty history for the sensors named; with none named it
// keeps every sensor it is given (the caller then bounds them).
func NewHistory(sensors ...string) *History {
	h := &History{rings: map[string]*ring{}, raw: map[string]*rawSeen{}}
	if len(sensors) > 0 {
		h.allowed = map[string]bool{}
		for _, s := range sensors {
			h.allowed[s] = true
		}
	}
	return h
}

func (h *History) ring(sensor string) *ring {
	r := h.rings[sensor]
	if r == nil {
		if h.allowed != nil && !h.allowed[sensor] {
			return nil
		}
		r = new(ring)
		h.rings[sensor] = r
	}
	return r
}

// Add records a temperature of sensor measured at t. A reading older than what
// its bucket's slot of the ring now holds is dropped.
func (h *History) Add(sensor string, t time.Time, c float64) {
	slot := int32(t.Unix() / int64(HistoryBucket/time.Second))
	if slot <= 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.ring(sensor)
	if r == nil {
		return
	}
	b := &r[int(slot)%HistoryBuckets]
	switch {
	case b.slot > slot:
		return // a reading from a day ago or more, out of order
	case b.slot < slot:
		*b = bucket{slot: slot, min: float32(c), max: float32(c)}
	}
	b.min, b.max = min(b.min, float32(c)), max(b.max, float32(c))
	b.sum += float32(c)
	b.n++
}

// Series returns sensor's buckets of the 24 h up to now that hold readings, oldest
// first.
func (h *History) Series(sensor string, now time.Time) []Bucket {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rings[sensor]
	if r == nil {
		return nil
	}
	last := int32(now.Unix() / int64(HistoryBucket/time.Second))
	first := last - HistoryBuckets + 1
	var out []Bucket
	for s := first; s <= last; s++ {
		b := r[int(s)%HistoryBuckets]
		if b.slot != s || b.n == 0 {
			continue
		}
		out = append(out, Bucket{Start: time.Unix(int64(s)*int64(HistoryBucket/time.Second), 0).In(now.Location()),
			Min: round2(b.min), Max: round2(b.max), Mean: round2(b.sum / float32(b.n)), N: int(b.n)})
	}
	return out
}

func round2(f float32) float64 {
	v := float64(f)
	if v < 0 {
		return -float64(int64(-v*100+0.5)) / 100
	}
	return float64(int64(v*100+0.5)) / 100
}

// RawMessage is a sensor's last MQTT message as it arrived, for technicians: the
// payload bounded to RawPayloadMax bytes, with the values of secret-looking JSON
// keys replaced.
type RawMessage struct {
	Topic    string
	Payload  string
	Bytes    int // the payload's full size
	Received time.Time
}

// Raw records sensor's last raw message.
func (h *History) Raw(sensor, topic string, payload []byte, received time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.allowed != nil && !h.allowed[sensor] {
		return
	}
	r := h.raw[sensor]
	switch {
	case r == nil:
		r = &rawSeen{}
		h.raw[sensor] = r
	case received.Before(r.received):
		return
	}
	r.topic, r.received = topic, received
	if len(payload) <= rawKeepMax {
		// As received, into the sensor's own buffer (no allocation once it is
		// large enough): redacted and cut only when the page shows it.
		r.payload, r.shown = append(r.payload[:0], payload...), nil
		return
	}
	m := NewRawMessage(topic, payload, received)
	r.payload, r.shown = nil, &m
}

// rawKeepMax: payloads up to this size are kept as received until shown (a
// sensor's message is read once for every hundreds received); larger ones are
// redacted and cut when they arrive, so that a sensor holds at most this much.
const rawKeepMax = 4 << 10

// rawSeen is a sensor's last raw message as kept: the payload as received, or,
// for a large one, its shown form.
type rawSeen struct {
	topic    string
	payload  []byte
	received time.Time
	shown    *RawMessage
}

// LastRaw returns sensor's last raw message.
func (h *History) LastRaw(sensor string) (RawMessage, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.raw[sensor]
	switch {
	case !ok:
		return RawMessage{}, false
	case r.shown != nil:
		return *r.shown, true
	}
	return NewRawMessage(r.topic, r.payload, r.received), true
}

// NewRawMessage makes the shown form of a payload: secret-looking values of a JSON
// payload replaced by "[redacted]", invalid UTF-8 replaced, cut to RawPayloadMax
// bytes.
func NewRawMessage(topic string, payload []byte, received time.Time) RawMessage {
	m := RawMessage{Topic: cut(strings.ToValidUTF8(topic, "�"), 256), Bytes: len(payload), Received: received}
	p := payload
	if len(p) <= 64<<10 {
		if r, ok := redactJSON(p); ok {
			p = r
		}
	}
	m.Payload = cut(strings.ToValidUTF8(string(p), "�"), RawPayloadMax)
	return m
}

// cut cuts s to at most n bytes on a rune boundary, marking the cut with "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// secretWords mark JSON keys whose values are never shown: passwords, tokens,
// keys (LoRaWAN session and application keys).
var secretWords = []string{"pass", "secret", "token", "key", "auth", "credential", "cookie", "session"} // mayHoldSecret knows their first letters

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// redactJSON returns a JSON payload with the values of secret keys replaced,
// compact; false when p is not a JSON object or array.
func redactJSON(p []byte) ([]byte, bool) {
	t := bytes.TrimSpace(p)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	if !mayHoldSecret(t) {
		// No key can be secret: shown as it came, without decoding it. Every
		// message passes here; decoding each was a third of the gateway's
		// allocations in the drain benchmark (docs/BENCHMARKS.md).
		return p, true
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	redacted := false
	v = redact(v, &redacted)
	if !redacted {
		return p, true // as it came: a technician compares it with the device's
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // shown as it came; the page escapes it
	if err := enc.Encode(v); err != nil {
		return nil, false
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), true
}

// mayHoldSecret reports whether any of secretWords occurs in p, in any case, or p
// has a \u escape (a key spelt with escapes is a secret word once decoded): only
// then can a key of p be secret.
func mayHoldSecret(p []byte) bool {
	if bytes.Contains(p, []byte(`\u`)) {
		return true
	}
	for i, c := range p {
		switch c | 0x20 { // lower case, for letters; the secret words' first letters:
		case 'p', 's', 't', 'k', 'a', 'c':
			for _, w := range secretWords {
				if c|0x20 == w[0] && len(p)-i >= len(w) && strings.EqualFold(string(p[i:i+len(w)]), w) {
					return true
				}
			}
		}
	}
	return false
}

func redact(v any, done *bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretKey(k) {
				x[k] = "[redacted]"
				*done = true
				continue
			}
			x[k] = redact(e, done)
		}
	case []any:
		for i, e := range x {
			x[i] = redact(e, done)
		}
	}
	return v
}

// String is the message's one-line description, for logs.
func (m RawMessage) String() string {
	return fmt.Sprintf("%s (%d bytes at %s)", m.Topic, m.Bytes, m.Received.Format(time.RFC3339))
}
