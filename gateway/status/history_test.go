package status

import (
	"encoding/xml"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestHistoryBuckets: readings fall into 10-minute buckets with their minimum,
// maximum and mean; a day later a bucket's slot is reused; an out-of-order reading
// older than its slot's bucket is dropped; only the last 24 h are returned.
func TestHistoryBuckets(t *testing.T) {
	h := NewHistory("fridge-t")
	base := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	h.Add("fridge-t", base.Add(1*time.Minute), 4)
	h.Add("fridge-t", base.Add(5*time.Minute), 6)
	h.Add("fridge-t", base.Add(9*time.Minute), 8)
	h.Add("fridge-t", base.Add(15*time.Minute), 5)
	h.Add("other", base, 99) // not configured: not kept
	s := h.Series("fridge-t", base.Add(20*time.Minute))
	if len(s) != 2 || s[0].Min != 4 || s[0].Max != 8 || s[0].Mean != 6 || s[0].N != 3 || !s[0].Start.Equal(base) || s[1].Mean != 5 {
		t.Fatalf("series = %+v", s)
	}
	if h.Series("other", base) != nil {
		t.Fatal("an unconfigured sensor was kept")
	}
	// A day later the first bucket's slot holds the new day's reading; the old
	// day's bucket is gone, and the stale reading of yesterday is not merged.
	next := base.Add(24 * time.Hour)
	h.Add("fridge-t", next.Add(2*time.Minute), 3)
	h.Add("fridge-t", base.Add(3*time.Minute), 50)
	s = h.Series("fridge-t", next.Add(5*time.Minute))
	last := s[len(s)-1]
	if !last.Start.Equal(next) || last.Max != 3 || last.N != 1 {
		t.Fatalf("last bucket = %+v", last)
	}
	for _, b := range s {
		if b.Start.Before(next.Add(-24*time.Hour)) || b.Max == 50 {
			t.Fatalf("bucket outside the last 24 h: %+v", b)
		}
	}
}

// TestHistoryBounded: a day of readings every 10 s (8640) for 50 sensors, then a
// second day, keeps a fixed ring per sensor: 144 buckets at most, Add allocates
// nothing, and the heap does not grow with the readings.
func TestHistoryBounded(t *testing.T) {
	if got := unsafe.Sizeof(ring{}); got != HistoryBytesPerSensor {
		t.Fatalf("ring is %d bytes, HistoryBytesPerSensor says %d", got, HistoryBytesPerSensor)
	}
	const sensors = 50
	ids := make([]string, sensors)
	for i := range ids {
		ids[i] = fmt.Sprintf("s%02d", i)
	}
	h := NewHistory(ids...)
	start := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	day := func(from time.Time) {
		for ts := from; ts.Before(from.Add(24 * time.Hour)); ts = ts.Add(10 * time.Second) {
			for _, id := range ids {
				h.Add(id, ts, 4+float64(ts.Minute()%7))
			}
		}
	}
	day(start)
	runtime.GC()
	var m1, m2 runtime.MemStats
	runtime.ReadMemStats(&m1)
	day(start.Add(24 * time.Hour))
	runtime.GC()
	runtime.ReadMemStats(&m2)
	if grew := int64(m2.HeapAlloc) - int64(m1.HeapAlloc); grew > 64<<10 {
		t.Errorf("a second day of readings grew the heap by %d bytes", grew)
	}
	if a := testing.AllocsPerRun(1000, func() { h.Add("s01", start.Add(47*time.Hour), 5) }); a != 0 {
		t.Errorf("Add allocates %v times per reading", a)
	}
	s := h.Series("s07", start.Add(48*time.Hour-time.Second))
	if len(s) != HistoryBuckets {
		t.Fatalf("series has %d buckets, want %d", len(s), HistoryBuckets)
	}
	if s[0].N != 60 {
		t.Fatalf("a 10-minute bucket of 10-s readings holds %d, want 60", s[0].N)
	}
	t.Logf("%d bytes per sensor (%d buckets of %v); %d sensors: %d KiB", HistoryBytesPerSensor, HistoryBuckets, HistoryBucket,
		sensors, sensors*HistoryBytesPerSensor>>10)
}

// fridgeNight is a medicine fridge's last 24 h at t0 (23:30): 5 °C, except for
// 02:00-02:30 last night when it warmed to 9.5 °C (above its 8 °C limit).
func fridgeNight() []Bucket {
	h := NewHistory()
	for ts := t0.Add(-24 * time.Hour).Add(time.Minute); !ts.After(t0); ts = ts.Add(time.Minute) {
		c := 5.0
		if ts.Hour() == 2 && ts.Minute() < 30 {
			c = 9.5
		}
		h.Add("fridge-t", ts, c)
	}
	return h.Series("fridge-t", t0)
}

var svgRE = regexp.MustCompile(`(?s)<figure class="spark-fig" data-history="med-fridge">(<svg.*?</svg>)`)

// TestSparkline: the page draws a zone with readings as an inline SVG with its
// band shaded, marks the out-of-band period (02:00-02:30) and says it in words;
// a zone without readings says so instead of drawing.
func TestSparkline(t *testing.T) {
	p := centre()
	p.set(func(s *Snapshot) {
		s.Sensors[1].History = fridgeNight()
		s.Sensors[0].History = nil // room-101: no readings in memory
	})
	ts := newServer(t, p, Options{})
	_, body := newClient(t, ts).do("GET", "/", nil, "Accept-Language", "en")
	m := svgRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no sparkline for the fridge in\n%s", body)
	}
	svg := m[1]
	var doc struct{ XMLName xml.Name }
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil || doc.XMLName.Local != "svg" {
		t.Fatalf("the sparkline is not well-formed SVG: %v\n%s", err, svg)
	}
	contains(t, "sparkline", svg, `class="spark-band"`, `class="spark-line"`, `role="img"`,
		`class="spark-out crit" data-out="02:00"`, `data-out="02:20"`)
	if n := strings.Count(svg, `class="spark-out`); n != 3 {
		t.Errorf("%d buckets marked out of band, want 3 (02:00, 02:10, 02:20)", n)
	}
	lacks(t, "sparkline", svg, `data-out="02:30"`, `data-out="23:00"`, "<script", "style=")
	contains(t, "page", body, "24 h: 5.0…9.5 °C · out of band 30 m, last at 02:20 (9.5 °C)", "24 h ago")
	contains(t, "page", body, `data-history="room-101">no readings in 24 h`)
	if strings.Contains(body, `data-history="store"`) {
		t.Error("a zone without sensors has a history line")
	}

	_, ru := newClient(t, ts).do("GET", "/", nil, "Accept-Language", "ru")
	contains(t, "Russian page", ru, "вне нормы", "24 ч назад", "за 24 ч данных нет")
}

// TestSparklineOpenBand: a freezer's band is open below (≤ -18 °C): the shading
// reaches the chart's floor and a warm hour is marked.
func TestSparklineOpenBand(t *testing.T) {
	freezer := Band{Low: math.Inf(-1), High: -18, CritLow: math.Inf(-1), CritHigh: -15}
	h := NewHistory()
	for ts := t0.Add(-3 * time.Hour); !ts.After(t0); ts = ts.Add(time.Minute) {
		c := -20.0
		if ts.Hour() == 22 {
			c = -16
		}
		h.Add("f", ts, c)
	}
	svg, sum := sparkline(tr{"en"}, h.Series("f", t0), &freezer, t0)
	contains(t, "freezer sparkline", string(svg), `class="spark-band" x="0"`, `class="spark-out warn" data-out="22:00"`)
	contains(t, "summary", sum, "out of band 1 h 00 m")
}

// TestRawPayload: a sensor's last raw payload shows on click in a <details>, with
// its topic and arrival; markup in it is escaped (a <script> is inert), secret
// values are redacted, and a long payload is cut.
func TestRawPayload(t *testing.T) {
	xss := `{"temperature":5.1,"note":"</pre><script>alert(1)</script><img src=x onerror=alert(2)>","password":"hunter2","appKey":"00112233445566778899aabbccddeeff"}`
	raw := NewRawMessage("zigbee2mqtt/fridge-t", []byte(xss), t0.Add(-2*time.Minute))
	long := NewRawMessage("tasmota/tele/room/SENSOR", []byte(`"`+strings.Repeat("x", 5000)+`"`), t0)
	p := centre()
	p.set(func(s *Snapshot) {
		s.Sensors[1].Raw = &raw
		s.Sensors[0].Raw = &long
	})
	ts := newServer(t, p, Options{})
	_, body := newClient(t, ts).do("GET", "/", nil, "Accept-Language", "en")
	contains(t, "page", body, `<details class="raw" data-raw="fridge-t"><summary>last message</summary><code class="topic">zigbee2mqtt/fridge-t</code>`,
		"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;", "[redacted]", "15.01 23:28:00")
	lacks(t, "page", body, "<script>alert", "<img src=x", "hunter2", "00112233445566778899aabbccddeeff")
	if n := strings.Count(body, "<script"); n != 1 {
		t.Errorf("page has %d <script elements, want only app.js's", n)
	}
	if len(long.Payload) > RawPayloadMax+len("…") || long.Bytes != 5002 || !strings.HasSuffix(long.Payload, "…") {
		t.Errorf("long payload kept %d bytes (of %d)", len(long.Payload), long.Bytes)
	}
	contains(t, "page", body, "5002 bytes")

	// status.json carries the redacted payload too.
	_, js := newClient(t, ts).do("GET", "/status.json", nil)
	lacks(t, "status.json", js, "hunter2")
	contains(t, "status.json", js, `"Topic": "zigbee2mqtt/fridge-t"`)
}

// TestRawMessageRedaction: nested secrets and non-JSON payloads.
func TestRawMessageRedaction(t *testing.T) {
	for _, c := range []struct{ in, want, bad string }{
		{`{"a":{"session_token":"abc","t":1}}`, `[redacted]`, "abc"},
		{`[{"Secret":"s3"}]`, `[redacted]`, "s3"},
		// A key spelt with escapes is the same key once decoded: no word to find.
		{`{"\u0070assword":"hunter2"}`, `[redacted]`, "hunter2"},
		{` {"temperature": 5.1} `, ` {"temperature": 5.1} `, ""},
		{"23.5", "23.5", ""},
		{"bad \xff utf8", "bad � utf8", "\xff"},
	} {
		m := NewRawMessage("t", []byte(c.in), t0)
		if !strings.Contains(m.Payload, c.want) || (c.bad != "" && strings.Contains(m.Payload, c.bad)) {
			t.Errorf("NewRawMessage(%q).Payload = %q, want %q without %q", c.in, m.Payload, c.want, c.bad)
		}
	}
}

// TestMayHoldSecretKnowsEveryWord: the fast scan before redaction finds every
// secret word, in any case, wherever it stands in a key (it switches on the
// words' first letters: a word added with a new first letter must be found too).
func TestMayHoldSecretKnowsEveryWord(t *testing.T) {
	for _, w := range secretWords {
		for _, k := range []string{w, strings.ToUpper(w), "x_" + w, w + "_x", strings.ToUpper(w[:1]) + w[1:]} {
			if p := []byte(`{"` + k + `":"v"}`); !mayHoldSecret(p) {
				t.Errorf("mayHoldSecret(%s) = false", p)
			}
		}
	}
	if p := []byte(`{"temperature":21.5,"humidity":45,"linkquality":120}`); mayHoldSecret(p) {
		t.Errorf("mayHoldSecret(%s) = true", p)
	}
}

// TestHistoryLastRaw: the last raw message kept per sensor is shown redacted and
// cut whether it was kept as received (small) or made when it came (large); an
// older message does not replace a newer one; the kept buffer is the history's
// own, not the caller's.
func TestHistoryLastRaw(t *testing.T) {
	h := NewHistory("s1", "s2")
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	p := []byte(`{"temperature":21.5,"network_key":"00112233"}`)
	h.Raw("s1", "zigbee2mqtt/s1", p, t0)
	copy(p, "XXXXXXXXXXXXXXXXXXXXXXXXXXXX") // the caller reuses its buffer
	h.Raw("s1", "zigbee2mqtt/s1", []byte(`{"temperature":5}`), t0.Add(-time.Minute))
	h.Raw("s3", "zigbee2mqtt/s3", []byte(`{}`), t0) // not a configured sensor
	m, ok := h.LastRaw("s1")
	if !ok || m.Received != t0 || m.Bytes != 45 || m.Topic != "zigbee2mqtt/s1" ||
		strings.Contains(m.Payload, "00112233") || !strings.Contains(m.Payload, `"temperature":21.5`) || !strings.Contains(m.Payload, "[redacted]") {
		t.Errorf("s1: %+v %v", m, ok)
	}
	if _, ok := h.LastRaw("s3"); ok {
		t.Error("s3 kept")
	}
	big := []byte(`{"password":"hunter2","pad":"` + strings.Repeat("x", 10<<10) + `"}`)
	h.Raw("s2", "t/s2", big, t0)
	m, ok = h.LastRaw("s2")
	if !ok || m.Bytes != len(big) || strings.Contains(m.Payload, "hunter2") || len(m.Payload) > RawPayloadMax+len("…") {
		t.Errorf("s2: %d bytes shown of %d, %q…", len(m.Payload), m.Bytes, m.Payload[:min(60, len(m.Payload))])
	}
}
