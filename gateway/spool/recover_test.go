package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// closedSpool writes testEvent(0..n-1), one Append each, and closes the spool.
func closedSpool(t *testing.T, n int, opt Options) string {
	t.Helper()
	dir := t.TempDir()
	s := openT(t, dir, opt)
	appendN(t, s, 0, n)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRecoverTornTail cuts the last record at every byte offset, as a power cut in the
// middle of a write does: every complete record is kept, the torn one is truncated,
// and appending continues with the torn record's seq.
func TestRecoverTornTail(t *testing.T) {
	t.Parallel()
	const n = 20
	src := closedSpool(t, n, Options{})
	seg := segFiles(t, src)[0]
	offs := recordOffsets(t, filepath.Join(src, seg))
	fi, err := os.Stat(filepath.Join(src, seg))
	if err != nil {
		t.Fatal(err)
	}
	start, end := offs[n-1], fi.Size()
	for cut := start; cut < end; cut++ {
		dir := copyDir(t, src)
		if err := os.Truncate(filepath.Join(dir, seg), cut); err != nil {
			t.Fatal(err)
		}
		log, _ := testLogger(t)
		s, err := Open(dir, Options{Logger: log})
		if err != nil {
			t.Fatalf("cut at %d: Open: %v", cut, err)
		}
		checkRecords(t, readAll(t, s, 0), 0, n-1, 0)
		st := s.Stats()
		if st.TruncatedBytes != cut-start || st.Corrupt != 0 || s.Head() != n-1 {
			t.Fatalf("cut at %d: Stats %+v Head %d, want %d bytes truncated, head %d", cut, st, s.Head(), cut-start, n-1)
		}
		mustAppend(t, s, testEvent(n-1), testEvent(n))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = openT(t, dir, Options{Logger: log})
		checkRecords(t, readAll(t, s, 0), 0, n+1, 0)
		if st := s.Stats(); st.TruncatedBytes != 0 {
			t.Fatalf("cut at %d: second reopen truncated %d bytes", cut, st.TruncatedBytes)
		}
		s.Close()
	}
}

// TestRecoverDamage flips bytes inside records: the damaged records are skipped, every
// record after them is kept, and the damage is counted and logged.
func TestRecoverDamage(t *testing.T) {
	t.Parallel()
	const n = 20
	src := closedSpool(t, n, Options{})
	seg := segFiles(t, src)[0]
	offs := recordOffsets(t, filepath.Join(src, seg))
	recEnd := func(k int) int64 {
		if k+1 < len(offs) {
			return offs[k+1]
		}
		fi, _ := os.Stat(filepath.Join(src, seg))
		return fi.Size()
	}
	tests := []struct {
		name      string
		at        []int64 // byte offsets to flip
		lost      []int   // records that must be gone
		corrupt   uint64
		truncated bool
	}{
		{"magic", []int64{offs[10]}, []int{10}, 1, false},
		{"length", []int64{offs[10] + 4}, []int{10}, 1, false},
		{"length high byte", []int64{offs[10] + 6}, []int{10}, 1, false},
		{"crc", []int64{offs[10] + 9}, []int{10}, 1, false},
		{"payload", []int64{offs[10] + 20}, []int{10}, 1, false},
		{"seq", []int64{recEnd(10) - 3}, []int{10}, 1, false},
		{"two adjacent", []int64{offs[7] + 15, offs[8] + 15}, []int{7, 8}, 2, false},
		{"two apart", []int64{offs[3] + 15, offs[15] + 1}, []int{3, 15}, 2, false},
		{"first record", []int64{offs[0] + 2}, []int{0}, 1, false},
		{"last record: a torn tail", []int64{offs[n-1] + 20}, []int{n - 1}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := copyDir(t, src)
			path := filepath.Join(dir, seg)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, at := range tt.at {
				b[at] ^= 0x5a
			}
			if err := os.WriteFile(path, b, 0o640); err != nil {
				t.Fatal(err)
			}
			log, logs := testLogger(t)
			s := openT(t, dir, Options{Logger: log})
			gone := make(map[int]bool)
			for _, k := range tt.lost {
				gone[k] = true
			}
			recs := readAll(t, s, 0)
			var want []int
			for k := range n {
				if !gone[k] {
					want = append(want, k)
				}
			}
			if len(recs) != len(want) {
				t.Fatalf("read %d records, want %d", len(recs), len(want))
			}
			for i, r := range recs {
				if r.Seq != uint64(want[i]) || !eventsEqual(r.Event, testEvent(want[i])) {
					t.Fatalf("record %d: seq %d, want %d", i, r.Seq, want[i])
				}
			}
			st := s.Stats()
			if st.Corrupt != tt.corrupt || (st.TruncatedBytes > 0) != tt.truncated {
				t.Fatalf("Stats = %+v, want corrupt %d, truncated %v", st, tt.corrupt, tt.truncated)
			}
			if tt.corrupt > 0 {
				wantLog := fmt.Sprintf("segment=%s offset=%d", seg, offs[tt.lost[0]])
				if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), wantLog) {
					t.Fatalf("no Warn with %q:\n%s", wantLog, logs)
				}
			}
			// Reading again does not count the known damage twice; appends continue.
			readAll(t, s, 0)
			h := s.Head()
			mustAppend(t, s, testEvent(n))
			if got := readAll(t, s, h); len(got) != 1 || got[0].Seq != h || eventID(got[0].Event) != n {
				t.Fatalf("append after recovery: %v", got)
			}
			if st2 := s.Stats(); st2.Corrupt != st.Corrupt {
				t.Fatalf("Corrupt went from %d to %d on re-reading", st.Corrupt, st2.Corrupt)
			}
		})
	}
}

// TestRecoverDamagedSegmentTail damages the tail of a segment that is not the last:
// the lost record is counted, the records of later segments are kept.
func TestRecoverDamagedSegmentTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentBytes: 64 << 10})
	const n = 1500
	appendN(t, s, 0, n)
	s.Close()
	segs := segFiles(t, dir)
	if len(segs) < 2 {
		t.Fatalf("want several segments, got %v", segs)
	}
	path := filepath.Join(dir, segs[0])
	offs := recordOffsets(t, path)
	last := len(offs) - 1
	b, _ := os.ReadFile(path)
	b[offs[last]+20] ^= 0xff
	os.WriteFile(path, b, 0o640)

	s = openT(t, dir, Options{SegmentBytes: 64 << 10})
	recs := readAll(t, s, 0)
	if len(recs) != n-1 {
		t.Fatalf("read %d records, want %d", len(recs), n-1)
	}
	for i, r := range recs {
		want := uint64(i)
		if i >= last {
			want++
		}
		if r.Seq != want {
			t.Fatalf("record %d: seq %d, want %d", i, r.Seq, want)
		}
	}
	if st := s.Stats(); st.Corrupt != 1 || st.TruncatedBytes == 0 {
		t.Fatalf("Stats = %+v, want 1 corrupt and a truncated tail", st)
	}
}

// TestRecoverCopyMidStream copies the spool directory while appenders run, as a power
// cut would freeze it: the copy opens, and every event acknowledged before the copy
// started is in it.
func TestRecoverCopyMidStream(t *testing.T) {
	t.Parallel()
	const goroutines = 4
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentBytes: 64 << 10})
	var (
		acked [goroutines]atomic.Int64
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for g := range goroutines {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				ev := telemetry.Event{
					Time:   time.Unix(1_700_000_000, int64(i)),
					Sensor: fmt.Sprintf("g%d", g),
					Values: []telemetry.Value{{Metric: telemetry.Battery, V: float64(i)}},
				}
				if err := s.Append(context.Background(), ev, ev); err != nil {
					t.Error(err)
					return
				}
				acked[g].Store(int64(i + 1))
			}
		})
	}
	for round := range 5 {
		for acked[0].Load() < int64(200*(round+1)) {
			if err := s.Wait(context.Background(), s.Head()+50); err != nil {
				t.Fatal(err)
			}
		}
		var snap [goroutines]int64
		for g := range snap {
			snap[g] = acked[g].Load()
		}
		cp := copyDir(t, dir)
		c := openT(t, cp, Options{SegmentBytes: 64 << 10})
		seen := make(map[string]int64)
		last := int64(-1)
		for _, r := range readAll(t, c, 0) {
			if int64(r.Seq) <= last {
				t.Fatalf("round %d: seq %d after %d", round, r.Seq, last)
			}
			last = int64(r.Seq)
			g, id := r.Event.Sensor, int64(r.Event.Values[0].V)
			if id >= seen[g] {
				seen[g] = id + 1
			}
		}
		for g := range goroutines {
			if have := seen[fmt.Sprintf("g%d", g)]; have < snap[g] {
				t.Fatalf("round %d: goroutine %d had %d events acknowledged, the copy holds %d", round, g, snap[g], have)
			}
		}
		c.Close()
	}
	stop.Store(true)
	wg.Wait()
}

func TestRecoverOddFiles(t *testing.T) {
	t.Parallel()
	garbage := make([]byte, 1000)
	for i := range garbage {
		garbage[i] = byte(rand.Uint32())
	}
	tests := []struct {
		name      string
		records   int // written first, through the spool
		setup     func(t *testing.T, dir string)
		wantHead  uint64
		truncated int64
	}{
		{"zero-length segment only", 0, func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, segName(0)))
			os.WriteFile(filepath.Join(dir, segName(0)), nil, 0o640)
		}, 0, 0},
		{"zero-length segment after data", 10, func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, segName(10)), nil, 0o640)
		}, 10, 0},
		{"zero-length segment ahead of the data", 10, func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, segName(25)), nil, 0o640)
		}, 25, 0},
		{"garbage segment only", 0, func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, segName(0)), garbage, 0o640)
		}, 0, 1000},
		{"garbage segment after data", 10, func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, segName(10)), garbage, 0o640)
		}, 10, 1000},
		{"zeros after the last record", 10, func(t *testing.T, dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, segName(0)), os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 4096))
			f.Close()
		}, 10, 4096},
		{"magic-only tail", 10, func(t *testing.T, dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, segName(0)), os.O_WRONLY|os.O_APPEND, 0)
			f.Write(bytes.Repeat(magic[:], 10))
			f.Close()
		}, 10, 40},
		{"foreign files", 10, func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi"), 0o640)
			os.WriteFile(filepath.Join(dir, "123.seg"), garbage, 0o640)
			os.Mkdir(filepath.Join(dir, segName(99)), 0o750)
		}, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := openT(t, dir, Options{})
			appendN(t, s, 0, tt.records)
			s.Close()
			tt.setup(t, dir)
			s = openT(t, dir, Options{})
			if s.Head() != tt.wantHead {
				t.Fatalf("Head = %d, want %d", s.Head(), tt.wantHead)
			}
			if tt.wantHead >= uint64(tt.records) {
				checkRecords(t, readAll(t, s, 0), 0, uint64(tt.records), 0)
			}
			if st := s.Stats(); st.TruncatedBytes != tt.truncated {
				t.Fatalf("TruncatedBytes = %d, want %d", st.TruncatedBytes, tt.truncated)
			}
			mustAppend(t, s, testEvent(500))
			recs := readAll(t, s, tt.wantHead)
			if len(recs) != 1 || recs[0].Seq != tt.wantHead || eventID(recs[0].Event) != 500 {
				t.Fatalf("after Append: %+v", recs)
			}
		})
	}
}

// validRecords returns, by seq, every record with a matching CRC found at any offset of
// b: the most Open may return from a segment holding b.
func validRecords(b []byte) map[uint64][][]byte {
	out := make(map[uint64][][]byte)
	for off := 0; off+headerLen <= len(b); off++ {
		if n, ok, _ := checkRecord(b[off:]); ok {
			rec := b[off : off+n]
			out[recordSeq(rec)] = append(out[recordSeq(rec)], recordEvent(rec))
		}
	}
	return out
}

// noSyncFile skips fsync, so that a fuzzer runs thousands of recoveries a second.
type noSyncFile struct{ *os.File }

func (noSyncFile) Sync() error { return nil }

func noSyncOpen(path string, flag int) (segFile, error) {
	f, err := os.OpenFile(path, flag, 0o640)
	if err != nil {
		return nil, err
	}
	return noSyncFile{f}, nil
}

// FuzzRecover writes random bytes as a segment file: Open must not panic, and may
// only return records whose CRC matched, in increasing seq order; appending works after.
func FuzzRecover(f *testing.F) {
	for _, b := range recoverSeeds(f) {
		f.Add(b)
	}
	dir := fuzzDir(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		clearDir(t, dir)
		fuzzRecover(t, dir, b)
	})
}

// fuzzDir is the one directory a fuzz worker reuses for every input: in memory
// (/dev/shm) where there is one, as creating and removing a temp dir and its files
// on a busy disk cost milliseconds an input and the fuzzer reported 0 execs/s.
func fuzzDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "saqshy-fuzz-")
	if err != nil {
		return tb.TempDir()
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// clearDir removes everything in dir.
func clearDir(tb testing.TB, dir string) {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			tb.Fatal(err)
		}
	}
}

func recoverSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	var seg []byte
	for i := range 5 {
		ev := testEvent(i)
		var r request
		if err := r.encode([]telemetry.Event{ev}, 1<<20); err != nil {
			tb.Fatal(err)
		}
		// Frame the record the way the writer does.
		rec := r.buf
		seal(rec, r.crcs[0], uint64(i))
		seg = append(seg, rec...)
	}
	seeds = append(seeds, seg)
	seeds = append(seeds, seg[:len(seg)-7])
	damaged := bytes.Clone(seg)
	damaged[len(seg)/2] ^= 1
	seeds = append(seeds, damaged)
	seeds = append(seeds, append(bytes.Clone(seg[40:]), seg...))
	seeds = append(seeds, []byte{})
	seeds = append(seeds, bytes.Repeat(magic[:], 20))
	return seeds
}

// fuzzRecover is FuzzRecover's body, shared with BenchmarkFuzzRecover: b as the only
// segment in dir.
func fuzzRecover(t testing.TB, dir string, b []byte) {
	if err := os.WriteFile(filepath.Join(dir, segName(0)), b, 0o640); err != nil {
		t.Fatal(err)
	}
	s, err := open(dir, Options{Logger: slog.New(slog.DiscardHandler), noSync: true}, noSyncOpen)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	valid := validRecords(b)
	last := int64(-1)
	for _, r := range readAll(t, s, 0) {
		if int64(r.Seq) <= last {
			t.Fatalf("seq %d after %d", r.Seq, last)
		}
		last = int64(r.Seq)
		enc, err := encodeEvent(nil, &r.Event)
		if err != nil {
			t.Fatalf("returned event does not encode: %v", err)
		}
		found := false
		for _, v := range valid[r.Seq] {
			found = found || bytes.Equal(v, enc)
		}
		if !found {
			t.Fatalf("record seq %d %+v matches no CRC-valid record of the input", r.Seq, r.Event)
		}
	}
	if err := s.Append(context.Background(), testEvent(1)); err != nil {
		t.Fatalf("Append after recovery: %v", err)
	}
	if h := s.Head(); int64(h) <= last {
		t.Fatalf("Head %d not after the last recovered seq %d", h, last)
	}
	if err := s.Close(); err != nil && !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

// BenchmarkFuzzRecover times FuzzRecover's body over its seed corpus: one op is one
// input (a segment file, a recovery, an append, no fsync), in the directory the
// fuzzer uses.
func BenchmarkFuzzRecover(b *testing.B) {
	seeds, dir := recoverSeeds(b), fuzzDir(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		clearDir(b, dir)
		fuzzRecover(b, dir, seeds[i%len(seeds)])
	}
}
