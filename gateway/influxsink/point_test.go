package influxsink

import (
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// referencePoints builds ev's points with the client library's write.Point, as the
// writer did before it encoded line protocol itself. The encoder must produce exactly
// the line protocol the library POSTs for these points.
func referencePoints(centre string, ev *telemetry.Event) []*write.Point {
	var climate, device *write.Point
	for _, v := range ev.Values {
		switch v.Metric.Measurement() {
		case "climate":
			if climate == nil {
				climate = write.NewPointWithMeasurement("climate").
					AddTag("centre", centre).AddTag("sensor", ev.Sensor).AddTag("source", ev.Source).
					AddTag("zone", ev.Zone).AddTag("zone_kind", ev.ZoneKind).SetTime(ev.Time)
			}
			climate.AddField(v.Metric.String(), v.V)
		default:
			if device == nil {
				device = write.NewPointWithMeasurement("device").
					AddTag("centre", centre).AddTag("device", ev.Sensor).AddTag("kind", ev.Source).
					AddTag("zone", ev.Zone).SetTime(ev.Time)
			}
			device.AddField(v.Metric.String(), v.V)
		}
	}
	var pts []*write.Point
	for _, p := range [...]*write.Point{climate, device} {
		if p == nil {
			continue
		}
		if ev.Flags != 0 {
			p.AddField("flags", int64(ev.Flags))
		}
		pts = append(pts, p)
	}
	return pts
}

func records(evs ...telemetry.Event) []telemetry.Record {
	recs := make([]telemetry.Record, len(evs))
	for i, e := range evs {
		recs[i] = telemetry.Record{Seq: uint64(i), Event: e}
	}
	return recs
}

// bodyRecorder is an InfluxDB stand-in that records the line protocol of every POST.
type bodyRecorder struct {
	mu      sync.Mutex
	bodies  []string
	gzipped int
}

func (r *bodyRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, string(b))
	if req.Header.Get("Content-Encoding") == "gzip" {
		r.gzipped++
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *bodyRecorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[len(r.bodies)-1]
}

// TestEncodeMatchesClientLibrary: the encoder's line protocol is byte for byte what
// the client library POSTs for the same events built as write.Points.
func TestEncodeMatchesClientLibrary(t *testing.T) {
	rec := &bodyRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := NewClient(srv.URL, "", "", "db/autogen", 5*time.Second)
	defer c.Close()
	// viaLibrary returns what the client library POSTs for evs as write.Points.
	viaLibrary := func(evs ...telemetry.Event) string {
		var pts []*write.Point
		for i := range evs {
			pts = append(pts, referencePoints("c 1", &evs[i])...)
		}
		if len(pts) == 0 {
			return ""
		}
		if err := c.WritePoint(t.Context(), pts...); err != nil {
			t.Fatal(err)
		}
		return rec.last()
	}

	t0 := time.Date(2026, 1, 15, 3, 4, 5, 123456789, time.UTC)
	v := func(m telemetry.Metric, x float64) telemetry.Value { return telemetry.Value{Metric: m, V: x} }
	base := telemetry.Event{Time: t0, Sensor: "room-101-t", Zone: "room-101", ZoneKind: "living", Source: "zigbee2mqtt"}
	with := func(f func(e *telemetry.Event)) telemetry.Event { e := base; f(&e); return e }
	tests := []struct {
		name string
		ev   telemetry.Event
	}{
		{"temperature", with(func(e *telemetry.Event) { e.Values = []telemetry.Value{v(telemetry.Temperature, 21.5)} })},
		{"zigbee full", with(func(e *telemetry.Event) {
			e.Values = []telemetry.Value{v(telemetry.Temperature, 21.37), v(telemetry.Humidity, 45.2), v(telemetry.Battery, 97),
				v(telemetry.Voltage, 2.985), v(telemetry.LinkQuality, 120)}
		})},
		{"device first", with(func(e *telemetry.Event) {
			e.Values = []telemetry.Value{v(telemetry.Battery, 50), v(telemetry.Temperature, -20.25)}
		})},
		{"online only", with(func(e *telemetry.Event) { e.Values = []telemetry.Value{v(telemetry.Online, 0)} })},
		{"flags", with(func(e *telemetry.Event) {
			e.Flags = telemetry.ClockSkew | telemetry.Replayed
			e.Values = []telemetry.Value{v(telemetry.Temperature, 4.9), v(telemetry.Online, 1)}
		})},
		{"no zone kind", with(func(e *telemetry.Event) {
			e.ZoneKind = ""
			e.Values = []telemetry.Value{v(telemetry.Temperature, 4.9)}
		})},
		{"no zone", with(func(e *telemetry.Event) {
			e.Zone, e.ZoneKind = "", ""
			e.Values = []telemetry.Value{v(telemetry.Temperature, 4.9), v(telemetry.Battery, 3)}
		})},
		{"escapes", with(func(e *telemetry.Event) {
			e.Sensor = "a b,c=d\te\nf\rg\fh\\i"
			e.Zone = "Комната 101, этаж=1"
			e.Values = []telemetry.Value{v(telemetry.Temperature, 1), v(telemetry.Voltage, 3.3)}
		})},
		{"duplicate metric", with(func(e *telemetry.Event) {
			e.Values = []telemetry.Value{v(telemetry.Temperature, 1), v(telemetry.Humidity, 2), v(telemetry.Temperature, 3)}
		})},
		{"extreme numbers", with(func(e *telemetry.Event) {
			e.Values = []telemetry.Value{v(telemetry.Temperature, 1e-7), v(telemetry.Humidity, 1e21), v(telemetry.Battery, math.Copysign(0, -1)),
				v(telemetry.LinkQuality, 255), v(telemetry.Voltage, 0.1+0.2)}
		})},
		{"early time", with(func(e *telemetry.Event) {
			e.Time = time.Unix(0, 1)
			e.Values = []telemetry.Value{v(telemetry.Temperature, 1)}
		})},
		{"no values", base},
	}
	var all []telemetry.Event
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := viaLibrary(tt.ev)
			enc := encoder{centre: "c 1"}
			if got := enc.encode(records(tt.ev)).body(); got != want {
				t.Fatalf("encoder:\n%q\nclient library:\n%q", got, want)
			}
		})
		all = append(all, tt.ev)
	}
	// All at once; then what WriteRecord sends; then split down to single lines as
	// the writer does around a malformed point.
	want := viaLibrary(all...)
	enc := encoder{centre: "c 1"}
	b := enc.encode(records(all...))
	if b.body() != want {
		t.Fatalf("batch:\n%q\nwant:\n%q", b.body(), want)
	}
	if err := c.WriteRecord(t.Context(), b.body()); err != nil {
		t.Fatal(err)
	}
	if got := rec.last(); got != want {
		t.Fatalf("WriteRecord sent:\n%q\nwant:\n%q", got, want)
	}
	lines := strings.SplitAfter(want, "\n")
	lines = lines[:len(lines)-1]
	if b.len() != len(lines) {
		t.Fatalf("%d lines, want %d", b.len(), len(lines))
	}
	var got []string
	var split func(b batch)
	split = func(b batch) {
		if b.len() == 1 {
			got = append(got, b.body())
			return
		}
		x, y := b.halves()
		split(x)
		split(y)
	}
	split(b)
	if !slices.Equal(got, lines) {
		t.Fatalf("halving lost or changed lines:\n%q", got)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.gzipped != len(rec.bodies) {
		t.Fatalf("%d of %d POSTs gzip-compressed", rec.gzipped, len(rec.bodies))
	}
}

func TestEncodeLeavesOutNonFinite(t *testing.T) {
	enc := encoder{centre: "c1"}
	ev := telemetry.Event{Time: time.Unix(1, 0), Sensor: "s", Source: "esphome", Values: []telemetry.Value{
		{Metric: telemetry.Temperature, V: math.NaN()}, {Metric: telemetry.Humidity, V: 40},
		{Metric: telemetry.Battery, V: math.Inf(1)},
	}}
	b := enc.encode(records(ev))
	if want := "climate,centre=c1,sensor=s,source=esphome humidity_pct=40 1000000000\n"; b.body() != want || b.len() != 1 {
		t.Fatalf("got %q (%d lines), want %q", b.body(), b.len(), want)
	}
}

// zigbeeEvents are n events as a Zigbee2MQTT climate sensor produces them: one
// climate point (temperature, humidity) and one device point (battery, voltage, link
// quality) each.
func zigbeeEvents(n int) []telemetry.Record {
	recs := make([]telemetry.Record, n)
	t0 := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	for i := range recs {
		recs[i] = telemetry.Record{Seq: uint64(i), Event: telemetry.Event{
			Time: t0.Add(time.Duration(i) * time.Millisecond), Sensor: fmt.Sprintf("z2m-%d-t", i%200),
			Zone: fmt.Sprintf("z2m-%d", i%200), ZoneKind: "living", Source: "zigbee2mqtt",
			Values: []telemetry.Value{
				{Metric: telemetry.Temperature, V: 18 + float64(i%80)/10}, {Metric: telemetry.Humidity, V: 40 + float64(i%200)/10},
				{Metric: telemetry.Battery, V: 97}, {Metric: telemetry.Voltage, V: 2.985}, {Metric: telemetry.LinkQuality, V: float64(80 + i%100)},
			},
		}}
	}
	return recs
}

// BenchmarkEncode: one default-size batch (5000 events, 10,000 points) to line protocol.
func BenchmarkEncode(b *testing.B) {
	recs := zigbeeEvents(5000)
	enc := encoder{centre: "shymkent-csu-2"}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n += enc.encode(recs).len()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkWriteBatch: one default-size batch POSTed through the client library to a
// server that discards it (gzip included, InfluxDB excluded): line protocol from the
// encoder with WriteRecord through Client, as the writer does, against write.Points
// with WritePoint through the library's own gzip, as it did before.
func BenchmarkWriteBatch(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "", "", "db/autogen", 10*time.Second)
	defer c.Close()
	recs := zigbeeEvents(5000)
	b.Run("encoder", func(b *testing.B) {
		enc := encoder{centre: "shymkent-csu-2"}
		b.ReportAllocs()
		var n int
		for b.Loop() {
			batch := enc.encode(recs)
			if err := c.WriteRecord(b.Context(), batch.body()); err != nil {
				b.Fatal(err)
			}
			n += batch.len()
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("writepoint", func(b *testing.B) {
		old := influxdb2.NewClientWithOptions(srv.URL, "", influxdb2.DefaultOptions().
			SetUseGZip(true).SetHTTPRequestTimeout(10).SetPrecision(time.Nanosecond))
		defer old.Close()
		api := old.WriteAPIBlocking("", "db/autogen")
		b.ReportAllocs()
		var n int
		for b.Loop() {
			var pts []*write.Point
			for i := range recs {
				pts = append(pts, referencePoints("shymkent-csu-2", &recs[i].Event)...)
			}
			if err := api.WritePoint(b.Context(), pts...); err != nil {
				b.Fatal(err)
			}
			n += len(pts)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "points/s")
	})
}

// TestEncodePointMatchesClientLibrary: derived points encode exactly as the client
// library's write.NewPoint (which sorts tags and fields by key) POSTs them.
func TestEncodePointMatchesClientLibrary(t *testing.T) {
	rec := &bodyRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := NewClient(srv.URL, "", "", "db/autogen", 5*time.Second)
	defer c.Close()
	t0 := time.Date(2026, 1, 15, 3, 4, 5, 123456789, time.UTC)
	tests := []struct {
		name string
		ev   telemetry.Event
	}{
		{"camera", telemetry.NewPoint(t0, "camera", []telemetry.Tag{{Key: "camera", Value: "cam-01"}, {Key: "state", Value: "degraded"}},
			telemetry.Float("fps", 4.5), telemetry.Bool("online", true), telemetry.Bool("recording", false),
			telemetry.String("reason", `fps 2 below "floor" 5 \ c:\`), telemetry.Int("reconnects", -3))},
		{"unsorted tags and fields", telemetry.NewPoint(t0, "coverage", []telemetry.Tag{{Key: "zone_kind", Value: "living"}, {Key: "period", Value: "day"}},
			telemetry.Float("ratio", 0.25), telemetry.Int("covered", 900), telemetry.Int("required", 3600))},
		{"escapes", telemetry.NewPoint(t0, "odd, name", []telemetry.Tag{{Key: "a b", Value: "c,d=e"}, {Key: "empty", Value: ""}},
			telemetry.String("x y", "Бөлме\n101"), telemetry.Float("z=", 1e21))},
		{"flags", func() telemetry.Event {
			ev := telemetry.NewPoint(t0, "round", []telemetry.Tag{{Key: "checkpoint", Value: "cp-1"}}, telemetry.Bool("flagged", true))
			ev.Flags = telemetry.ClockUnsynced
			return ev
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.ev.Point
			tags := map[string]string{"centre": "c 1"}
			for _, tg := range p.Tags {
				if tg.Value != "" {
					tags[tg.Key] = tg.Value
				}
			}
			fields := map[string]any{}
			for _, f := range p.Fields {
				fields[f.Key] = f.Value()
			}
			if tt.ev.Flags != 0 {
				fields["flags"] = int64(tt.ev.Flags)
			}
			if err := c.WritePoint(t.Context(), write.NewPoint(p.Measurement, tags, fields, tt.ev.Time)); err != nil {
				t.Fatal(err)
			}
			want := rec.last()
			enc := encoder{centre: "c 1"}
			if got := enc.encode(records(tt.ev)).body(); got != want {
				t.Fatalf("encoder:\n%q\nclient library:\n%q", got, want)
			}
		})
	}
	enc := encoder{centre: "c"}
	if got := enc.encode(records(telemetry.NewPoint(t0, "m", nil))).body(); got != "" {
		t.Fatalf("a point without fields encoded as %q", got)
	}
}
