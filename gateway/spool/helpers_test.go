package spool

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// logBuf is a concurrency-safe log sink the tests can search.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testLogger returns a logger that writes to the test's output and to a buffer.
func testLogger(t testing.TB) (*slog.Logger, *logBuf) {
	lb := new(logBuf)
	var w io.Writer = lb
	if tt, ok := t.(*testing.T); ok {
		w = io.MultiWriter(lb, tt.Output())
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// openT opens a spool that is closed when the test ends.
func openT(t testing.TB, dir string, opt Options) *Spool {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger, _ = testLogger(t)
	}
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testEvent returns a plausible event, distinct for every i.
func testEvent(i int) telemetry.Event {
	return telemetry.Event{
		Time:     time.Unix(1_700_000_000, 0).Add(time.Duration(i) * time.Millisecond).UTC(),
		Sensor:   fmt.Sprintf("room-%03d-climate", i%50),
		Zone:     "room-101",
		ZoneKind: "living",
		Source:   "zigbee2mqtt",
		Values: []telemetry.Value{
			{Metric: telemetry.Temperature, V: 20 + float64(i%100)/10},
			{Metric: telemetry.Humidity, V: 45},
			{Metric: telemetry.Battery, V: float64(i)},
		},
		Flags: telemetry.Flags(i % 32),
	}
}

// eventID returns the i testEvent was made from.
func eventID(ev telemetry.Event) int { return int(ev.Values[2].V) }

func mustAppend(t testing.TB, s *Spool, evs ...telemetry.Event) {
	t.Helper()
	if err := s.Append(context.Background(), evs...); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

// appendN appends testEvent(from) .. testEvent(from+n-1), one per call.
func appendN(t testing.TB, s *Spool, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		mustAppend(t, s, testEvent(i))
	}
}

// readAll reads every record with Seq >= from.
func readAll(t testing.TB, s *Spool, from uint64) []Record {
	t.Helper()
	var out []Record
	for {
		recs, err := s.Read(from, 100)
		if err != nil {
			t.Fatalf("Read(%d): %v", from, err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		from = recs[len(recs)-1].Seq + 1
	}
}

func eventsEqual(a, b telemetry.Event) bool {
	if !a.Time.Equal(b.Time) || a.Sensor != b.Sensor || a.Zone != b.Zone || a.ZoneKind != b.ZoneKind ||
		a.Source != b.Source || a.Flags != b.Flags || len(a.Values) != len(b.Values) || (a.Point == nil) != (b.Point == nil) {
		return false
	}
	if a.Point != nil && !reflect.DeepEqual(a.Point, b.Point) {
		return false
	}
	for i := range a.Values {
		if a.Values[i].Metric != b.Values[i].Metric || math.Float64bits(a.Values[i].V) != math.Float64bits(b.Values[i].V) {
			return false
		}
	}
	return true
}

// checkSeqs fails unless recs carry exactly the seqs from..to-1 and testEvent(seq-from+id0).
func checkRecords(t testing.TB, recs []Record, from, to uint64, id0 int) {
	t.Helper()
	if len(recs) != int(to-from) {
		t.Fatalf("got %d records, want %d (seqs %d..%d)", len(recs), to-from, from, to-1)
	}
	for i, r := range recs {
		seq := from + uint64(i)
		if r.Seq != seq {
			t.Fatalf("record %d: seq %d, want %d", i, r.Seq, seq)
		}
		want := testEvent(id0 + i)
		if !eventsEqual(r.Event, want) {
			t.Fatalf("record %d (seq %d): got %+v, want %+v", i, seq, r.Event, want)
		}
	}
}

// segFiles returns the segment file names in dir, in order.
func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), segSuffix) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// dirBytes returns the total size of the segment files in dir.
func dirBytes(t testing.TB, dir string) int64 {
	t.Helper()
	var n int64
	for _, name := range segFiles(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// recordOffsets returns the offset of every intact record in a segment file.
func recordOffsets(t testing.TB, path string) []int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for off := 0; off < len(b); {
		n, ok, _ := checkRecord(b[off:])
		if !ok {
			t.Fatalf("%s: no record at %d", path, off)
		}
		offs = append(offs, int64(off))
		off += n
	}
	return offs
}
