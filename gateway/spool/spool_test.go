package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

func TestOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opt     Options
		wantMax int64
		wantSeg int64
		wantErr bool
	}{
		{"defaults", Options{}, 2 << 30, 8 << 20, false},
		{"small max", Options{MaxBytes: 16 << 20}, 16 << 20, 2 << 20, false},
		{"tiny max", Options{MaxBytes: 100 << 10}, 100 << 10, 64 << 10, false},
		{"explicit", Options{MaxBytes: 1 << 20, SegmentBytes: 128 << 10}, 1 << 20, 128 << 10, false},
		{"max below min segment", Options{MaxBytes: 32 << 10}, 0, 0, true},
		{"segment too small", Options{SegmentBytes: 1000}, 0, 0, true},
		{"segment above max", Options{MaxBytes: 1 << 20, SegmentBytes: 2 << 20}, 0, 0, true},
		{"negative", Options{MaxBytes: -1}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.opt.resolve()
			if (err != nil) != tt.wantErr {
				t.Fatalf("resolve: err %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.MaxBytes != tt.wantMax || got.SegmentBytes != tt.wantSeg || got.Logger == nil {
				t.Fatalf("resolve = max %d seg %d logger %v, want %d %d", got.MaxBytes, got.SegmentBytes, got.Logger, tt.wantMax, tt.wantSeg)
			}
		})
	}
	if _, err := Open("", Options{}); err == nil {
		t.Errorf("Open(\"\") succeeded")
	}
}

func TestLocked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	if s2, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	mustAppend(t, s, testEvent(0))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{})
	checkRecords(t, readAll(t, s, 0), 0, 1, 0)
}

func TestAppendRead(t *testing.T) {
	t.Parallel()
	s := openT(t, filepath.Join(t.TempDir(), "new", "spool"), Options{})
	appendN(t, s, 0, 10)
	mustAppend(t, s, testEvent(10), testEvent(11), testEvent(12))
	mustAppend(t, s) // nothing to do
	checkRecords(t, readAll(t, s, 0), 0, 13, 0)
	if h := s.Head(); h != 13 {
		t.Errorf("Head = %d, want 13", h)
	}
	st := s.Stats()
	if st.Appended != 13 || st.Commits != 11 || st.Backlog != 13 || !st.Oldest.Equal(testEvent(0).Time) {
		t.Errorf("Stats = %+v", st)
	}
}

// segmentedSpool returns a spool holding testEvent(0..n-1) in several 64 KiB segments.
func segmentedSpool(t *testing.T, n int) (*Spool, string) {
	t.Helper()
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentBytes: 64 << 10})
	evs := make([]telemetry.Event, 0, 50)
	for i := 0; i < n; i++ {
		evs = append(evs, testEvent(i))
		if len(evs) == cap(evs) || i == n-1 {
			mustAppend(t, s, evs...)
			evs = evs[:0]
		}
	}
	if segs := segFiles(t, dir); len(segs) < 3 {
		t.Fatalf("want at least 3 segments, got %v", segs)
	}
	return s, dir
}

func TestReadSemantics(t *testing.T) {
	t.Parallel()
	const n = 2000
	s, dir := segmentedSpool(t, n)
	second, _ := parseSegName(segFiles(t, dir)[1])
	tests := []struct {
		name     string
		from     uint64
		max      int
		wantFrom uint64
		wantN    int
	}{
		{"from start", 0, 10, 0, 10},
		{"middle", 777, 3, 777, 3},
		{"across a segment boundary", second - 2, 5, second - 2, 5},
		{"segment start", second, 1, second, 1},
		{"near the end", n - 5, 10, n - 5, 5},
		{"at the end", n, 10, 0, 0},
		{"beyond the end", n + 100, 10, 0, 0},
		{"max zero", 0, 0, 0, 0},
		{"max negative", 0, -1, 0, 0},
		{"all", 0, n + 10, 0, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := s.Read(tt.from, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, recs, tt.wantFrom, tt.wantFrom+uint64(tt.wantN), int(tt.wantFrom))
		})
	}
}

// TestReadSequential reads the way the sink does, in small batches, and checks the
// read hint against random access.
func TestReadSequential(t *testing.T) {
	t.Parallel()
	const n = 3000
	s, _ := segmentedSpool(t, n)
	var got []Record
	for from := uint64(0); ; {
		recs, err := s.Read(from, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		got = append(got, recs...)
		from = recs[len(recs)-1].Seq + 1
		// A random read in between must not disturb the sequence.
		if _, err := s.Read(from/2, 1); err != nil {
			t.Fatal(err)
		}
	}
	checkRecords(t, got, 0, n, 0)
}

func TestCommit(t *testing.T) {
	t.Parallel()
	const n = 2000
	s, dir := segmentedSpool(t, n)
	segs := segFiles(t, dir)
	second, _ := parseSegName(segs[1])
	third, _ := parseSegName(segs[2])

	// Commit inside the second segment: the first is deleted, the second kept.
	mid := (second + third) / 2
	if err := s.Commit(mid); err != nil {
		t.Fatal(err)
	}
	if c := s.Cursor(); c != mid {
		t.Fatalf("Cursor = %d, want %d", c, mid)
	}
	if got := segFiles(t, dir); got[0] != segs[1] {
		t.Fatalf("after Commit(%d) segments %v, want the first deleted", mid, got)
	}
	// Reading below the oldest record on disk starts at the oldest one; records below
	// the cursor still on disk are returned.
	recs, err := s.Read(0, 1)
	if err != nil || len(recs) != 1 || recs[0].Seq != second {
		t.Fatalf("Read(0, 1) = %v, %v; want seq %d", recs, err, second)
	}
	if st := s.Stats(); st.Backlog != int64(n-mid) || !st.Oldest.Equal(testEvent(int(mid)).Time) || st.Bytes != dirBytes(t, dir) {
		t.Fatalf("Stats = %+v, want backlog %d, bytes %d", st, n-mid, dirBytes(t, dir))
	}

	// Never backwards.
	if err := s.Commit(5); err != nil {
		t.Fatal(err)
	}
	if c := s.Cursor(); c != mid {
		t.Fatalf("Cursor after Commit(5) = %d, want %d", c, mid)
	}
	if err := s.Commit(n + 1); err == nil {
		t.Fatalf("Commit beyond head succeeded")
	}

	// Everything delivered: only the active segment is left.
	if err := s.Commit(n); err != nil {
		t.Fatal(err)
	}
	if got := segFiles(t, dir); len(got) != 1 {
		t.Fatalf("after committing everything, segments %v", got)
	}
	if st := s.Stats(); st.Backlog != 0 || !st.Oldest.IsZero() {
		t.Fatalf("Stats = %+v, want no backlog", st)
	}
	if b, err := os.ReadFile(filepath.Join(dir, cursorName)); err != nil || len(b) != cursorLen {
		t.Fatalf("cursor file: %d bytes, %v", len(b), err)
	}
}

func TestRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentBytes: 64 << 10})
	appendN(t, s, 0, 100)
	if err := s.Commit(40); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, dir, Options{SegmentBytes: 64 << 10})
	if c, h := s.Cursor(), s.Head(); c != 40 || h != 100 {
		t.Fatalf("after restart Cursor %d Head %d, want 40 100", c, h)
	}
	checkRecords(t, readAll(t, s, s.Cursor()), 40, 100, 40)
	if st := s.Stats(); st.Backlog != 60 || st.Corrupt != 0 || st.TruncatedBytes != 0 {
		t.Fatalf("Stats = %+v", st)
	}
	appendN(t, s, 100, 5)
	checkRecords(t, readAll(t, s, 95), 95, 105, 95)
}

func TestConcurrentAppenders(t *testing.T) {
	t.Parallel()
	const (
		goroutines = 8
		perG       = 2000
		groupG     = 7 // appends 4 events per call
	)
	// An fsync as slow as an SD card's, so that the group-commit factor does not depend
	// on how fast the disk under the test is.
	log, _ := testLogger(t)
	s, err := open(t.TempDir(), Options{Logger: log}, sdCardOpen)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			step := 1
			if g == groupG {
				step = 4
			}
			evs := make([]telemetry.Event, 0, step)
			for i := 0; i < perG; i += step {
				evs = evs[:0]
				for j := i; j < i+step; j++ {
					evs = append(evs, telemetry.Event{
						Time:   time.Unix(1_700_000_000, int64(j)),
						Sensor: fmt.Sprintf("g%d", g),
						Values: []telemetry.Value{{Metric: telemetry.Battery, V: float64(j)}},
					})
				}
				if err := s.Append(context.Background(), evs...); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	recs := readAll(t, s, 0)
	if len(recs) != goroutines*perG {
		t.Fatalf("read %d records, want %d", len(recs), goroutines*perG)
	}
	next := make(map[string]int)
	for i, r := range recs {
		if r.Seq != uint64(i) {
			t.Fatalf("record %d has seq %d: gap or reorder", i, r.Seq)
		}
		g, id := r.Event.Sensor, int(r.Event.Values[0].V)
		if id != next[g] {
			t.Fatalf("seq %d: %s event %d, want %d (order per goroutine)", r.Seq, g, id, next[g])
		}
		next[g]++
		// The events of one call are stored together.
		if g == fmt.Sprintf("g%d", groupG) && id%4 != 0 && recs[i-1].Event.Sensor != g {
			t.Fatalf("seq %d: event %d of a 4-event append not next to its group", r.Seq, id)
		}
	}
	st := s.Stats()
	calls := uint64((goroutines-1)*perG + perG/4)
	t.Logf("%d events in %d appends, %d commits (%.1f appends per fsync)", st.Appended, calls, st.Commits, float64(calls)/float64(st.Commits))
	if st.Appended != goroutines*perG || st.Commits > calls/2 {
		t.Fatalf("Stats = %+v: want %d appended and group commit (commits <= %d)", st, goroutines*perG, calls/2)
	}
}

// sdCardFile is a real file whose fsync takes as long as an SD card's, whatever the
// disk under the test. It does not fsync: the tests using it are about ordering and
// group commit, not power cuts.
type sdCardFile struct{ *os.File }

func (f sdCardFile) Sync() error {
	time.Sleep(200 * time.Microsecond)
	return nil
}

func sdCardOpen(path string, flag int) (segFile, error) {
	f, err := os.OpenFile(path, flag, 0o640)
	if err != nil {
		return nil, err
	}
	return sdCardFile{f}, nil
}

func TestWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir(), Options{})

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Wait(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait on an empty spool = %v, want deadline exceeded", err)
		}

		done := make(chan error, 1)
		go func() { done <- s.Wait(context.Background(), 1) }()
		mustAppend(t, s, testEvent(0)) // seq 0: not enough
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Wait(1) returned %v with only seq 0", err)
		default:
		}
		mustAppend(t, s, testEvent(1))
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("Wait(1) still blocked after seq 1 was appended")
		}
		if err := s.Wait(context.Background(), 0); err != nil {
			t.Fatalf("Wait(0) with records = %v", err)
		}

		go func() { done <- s.Wait(context.Background(), 5) }()
		synctest.Wait()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Fatalf("Wait across Close = %v, want ErrClosed", err)
		}
	})
}

func TestClose(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	mustAppend(t, s, testEvent(0))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := s.Append(context.Background(), testEvent(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	if _, err := s.Read(0, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	if err := s.Commit(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close = %v", err)
	}
	if err := s.Wait(context.Background(), 5); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close = %v", err)
	}
	_ = s.Stats()
}

// TestCloseDuringAppends closes the spool under load: every Append that returned nil
// is on disk after reopening.
func TestCloseDuringAppends(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		acked []int
	)
	for g := range 8 {
		wg.Go(func() {
			for i := g * 1000; ; i++ {
				err := s.Append(context.Background(), testEvent(i))
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, i)
				n := len(acked)
				mu.Unlock()
				if n == 300 {
					go s.Close()
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{})
	have := make(map[int]bool)
	for _, r := range readAll(t, s, 0) {
		have[eventID(r.Event)] = true
	}
	for _, id := range acked {
		if !have[id] {
			t.Fatalf("acknowledged event %d missing after Close and Open", id)
		}
	}
}

func TestAppendContext(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Append(ctx, testEvent(0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context = %v", err)
	}
	if h := s.Head(); h != 0 {
		t.Fatalf("Head = %d after a cancelled Append", h)
	}
	// Appends whose context ends while they wait either land or not, never corrupt.
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(context.Background())
			if g%2 == 0 {
				cancel()
			}
			_ = s.Append(ctx, testEvent(g))
			cancel()
		})
	}
	wg.Wait()
	mustAppend(t, s, testEvent(100))
	recs := readAll(t, s, 0)
	for i, r := range recs {
		if r.Seq != uint64(i) {
			t.Fatalf("seq gap at %d: %d", i, r.Seq)
		}
	}
	if last := recs[len(recs)-1]; eventID(last.Event) != 100 {
		t.Fatalf("last record %+v", last)
	}
}

func TestAppendRejects(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir(), Options{MaxBytes: 1 << 20, SegmentBytes: 64 << 10})
	big := make([]telemetry.Event, 1000) // ~100 KB encoded, above SegmentBytes
	for i := range big {
		big[i] = testEvent(i)
	}
	tests := []struct {
		name string
		evs  []telemetry.Event
		want error
	}{
		{"zero time", []telemetry.Event{testEvent(0), {Sensor: "no time"}}, ErrInvalidEvent},
		{"zero metric", []telemetry.Event{{Time: time.Unix(1, 0), Values: []telemetry.Value{{}}}}, ErrInvalidEvent},
		{"above SegmentBytes", big, ErrTooLarge},
		{"event above 1 MiB", []telemetry.Event{{Time: time.Unix(1, 0), Sensor: strings.Repeat("x", 2<<20)}}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Append(context.Background(), tt.evs...); !errors.Is(err, tt.want) {
				t.Fatalf("Append = %v, want %v", err, tt.want)
			}
			if h := s.Head(); h != 0 {
				t.Fatalf("Head = %d after a rejected Append: stored in part", h)
			}
		})
	}
	mustAppend(t, s, big[:100]...)
	checkRecords(t, readAll(t, s, 0), 0, 100, 0)
}

func TestMaxBytes(t *testing.T) {
	t.Parallel()
	const (
		maxBytes = 256 << 10
		segBytes = 64 << 10
		n        = 10000 // ~1 MB of records
	)
	tests := []struct {
		name      string
		delivered uint64 // Commit before filling
	}{
		{"nothing delivered", 0},
		{"some delivered", 700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			log, logs := testLogger(t)
			s := openT(t, dir, Options{MaxBytes: maxBytes, SegmentBytes: segBytes, Logger: log})
			evs := make([]telemetry.Event, 0, 10)
			for i := 0; i < n; i++ {
				evs = append(evs, testEvent(i))
				if len(evs) == cap(evs) {
					mustAppend(t, s, evs...)
					evs = evs[:0]
				}
				if uint64(i+1) == tt.delivered {
					if err := s.Commit(tt.delivered); err != nil {
						t.Fatal(err)
					}
				}
				if i%1000 == 0 {
					if b := dirBytes(t, dir); b > maxBytes+segBytes {
						t.Fatalf("%d bytes on disk after %d events, bound %d", b, i, maxBytes)
					}
				}
			}
			st := s.Stats()
			onDisk := dirBytes(t, dir)
			if onDisk > maxBytes+segBytes || st.Bytes != onDisk {
				t.Fatalf("%d bytes on disk, Stats.Bytes %d, bound %d", onDisk, st.Bytes, maxBytes)
			}
			recs := readAll(t, s, tt.delivered)
			if len(recs) == 0 {
				t.Fatal("nothing left")
			}
			first := recs[0].Seq
			checkRecords(t, recs, first, n, int(first)) // the newest are kept, contiguous
			if st.Dropped+uint64(len(recs)) != n-tt.delivered {
				t.Fatalf("Dropped %d + kept %d != %d undelivered appended", st.Dropped, len(recs), n-tt.delivered)
			}
			if st.Backlog != int64(len(recs)) {
				t.Fatalf("Backlog %d, want %d", st.Backlog, len(recs))
			}
			if !strings.Contains(logs.String(), "dropped undelivered events") || !strings.Contains(logs.String(), "segment=") {
				t.Fatalf("no Warn about dropped events:\n%s", logs)
			}
		})
	}
}

func TestCursorFileDamaged(t *testing.T) {
	t.Parallel()
	good := encodeCursor(30)
	flipped := append([]byte(nil), good...)
	flipped[6] ^= 0x01
	tests := []struct {
		name    string
		content []byte // nil: no cursor file
		warn    bool
	}{
		{"missing", nil, false},
		{"empty", []byte{}, true},
		{"garbage", []byte("hello, world...."), true},
		{"truncated", good[:8], true},
		{"bad crc", flipped, true},
		{"too long", append(append([]byte(nil), good...), 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := openT(t, dir, Options{})
			appendN(t, s, 0, 50)
			if err := s.Commit(30); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, cursorName)
			if tt.content == nil {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, tt.content, 0o640); err != nil {
				t.Fatal(err)
			}
			log, logs := testLogger(t)
			s = openT(t, dir, Options{Logger: log})
			if c := s.Cursor(); c != 0 {
				t.Fatalf("Cursor = %d, want 0 (the oldest record)", c)
			}
			checkRecords(t, readAll(t, s, s.Cursor()), 0, 50, 0)
			if got := strings.Contains(logs.String(), "level=WARN"); got != tt.warn {
				t.Fatalf("warned %v, want %v:\n%s", got, tt.warn, logs)
			}
			if h := s.Head(); h != 50 {
				t.Fatalf("Head = %d", h)
			}
		})
	}
}

func TestStaleCursorTemp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	appendN(t, s, 0, 10)
	if err := s.Commit(4); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A power cut between writing the temporary file and the rename.
	if err := os.WriteFile(filepath.Join(dir, cursorTemp), encodeCursor(9), 0o640); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{})
	if c := s.Cursor(); c != 4 {
		t.Fatalf("Cursor = %d, want 4", c)
	}
	if _, err := os.Stat(filepath.Join(dir, cursorTemp)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale %s not removed: %v", cursorTemp, err)
	}
}

// faults injects disk errors into segment files: each call of a method takes the next
// queued error for it (nil passes).
type faults struct {
	mu                sync.Mutex
	write, sync, trnc []error
}

func (f *faults) take(q *[]error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(*q) == 0 {
		return nil
	}
	err := (*q)[0]
	*q = (*q)[1:]
	return err
}

type faultFile struct {
	*os.File
	f *faults
}

func (ff faultFile) WriteAt(p []byte, off int64) (int, error) {
	if err := ff.f.take(&ff.f.write); err != nil {
		n, _ := ff.File.WriteAt(p[:len(p)/2], off) // the disk filled up half way
		return n, err
	}
	return ff.File.WriteAt(p, off)
}

func (ff faultFile) Sync() error {
	if err := ff.f.take(&ff.f.sync); err != nil {
		return err
	}
	return ff.File.Sync()
}

func (ff faultFile) Truncate(size int64) error {
	if err := ff.f.take(&ff.f.trnc); err != nil {
		return err
	}
	return ff.File.Truncate(size)
}

func TestDiskErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		write, sync, trnc []error
		wantErr           error
		burns             bool // the failed seqs are not reused
	}{
		{"write ENOSPC", []error{syscall.ENOSPC}, nil, nil, syscall.ENOSPC, false},
		{"write EIO", []error{syscall.EIO}, nil, nil, syscall.EIO, false},
		{"fsync EIO", nil, []error{syscall.EIO}, nil, syscall.EIO, false},
		{"fsync EIO, truncate fails", nil, []error{syscall.EIO}, []error{syscall.EIO}, syscall.EIO, true},
		{"write ENOSPC, sync after truncate fails", []error{syscall.ENOSPC}, []error{syscall.EIO}, nil, syscall.ENOSPC, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			fs := new(faults)
			opener := func(path string, flag int) (segFile, error) {
				f, err := os.OpenFile(path, flag, 0o640)
				if err != nil {
					return nil, err
				}
				return faultFile{f, fs}, nil
			}
			log, _ := testLogger(t)
			s, err := open(dir, Options{Logger: log}, opener)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			appendN(t, s, 0, 10)
			before := dirBytes(t, dir)

			fs.mu.Lock()
			fs.write, fs.sync, fs.trnc = tt.write, tt.sync, tt.trnc
			fs.mu.Unlock()
			err = s.Append(context.Background(), testEvent(10), testEvent(11))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Append = %v, want an error wrapping %v", err, tt.wantErr)
			}
			if !tt.burns {
				if after := dirBytes(t, dir); after != before {
					t.Fatalf("segment not truncated back: %d bytes, was %d", after, before)
				}
			}
			if st := s.Stats(); st.Appended != 10 {
				t.Fatalf("Appended = %d after a failed Append", st.Appended)
			}

			appendN(t, s, 12, 3)
			recs := readAll(t, s, 0)
			checkRecords(t, recs[:10], 0, 10, 0)
			wantSeq := uint64(10)
			if tt.burns {
				wantSeq = 12
			}
			for i, r := range recs[10:] {
				if r.Seq != wantSeq+uint64(i) || eventID(r.Event) != 12+i {
					t.Fatalf("after the failure: record %d = seq %d event %d", i, r.Seq, eventID(r.Event))
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			// On reopen every acknowledged event is there, in order, once.
			s2 := openT(t, dir, Options{})
			var ids []int
			last := int64(-1)
			for _, r := range readAll(t, s2, 0) {
				if int64(r.Seq) <= last {
					t.Fatalf("seq %d after %d", r.Seq, last)
				}
				last = int64(r.Seq)
				if id := eventID(r.Event); id < 10 || id >= 12 {
					ids = append(ids, id)
				}
			}
			want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14}
			if fmt.Sprint(ids) != fmt.Sprint(want) {
				t.Fatalf("after reopen acknowledged events %v, want %v", ids, want)
			}
		})
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	st0 := s.Stats()
	if st0.MaxBytes != defaultMaxBytes || (st0.DiskFree <= 0 && runtime.GOOS == "linux") {
		t.Fatalf("empty spool: max bytes %d, disk free %d", st0.MaxBytes, st0.DiskFree)
	}
	st0.MaxBytes, st0.DiskFree, st0.DiskLow = 0, 0, false
	if st := st0; st != (Stats{}) {
		t.Fatalf("empty spool Stats = %+v", st)
	}
	appendN(t, s, 0, 10)
	st := s.Stats()
	if st.Appended != 10 || st.Backlog != 10 || st.Commits != 10 || st.Bytes != dirBytes(t, dir) || !st.Oldest.Equal(testEvent(0).Time) {
		t.Fatalf("Stats = %+v", st)
	}
	if err := s.Commit(4); err != nil {
		t.Fatal(err)
	}
	st = s.Stats()
	if st.Backlog != 6 || !st.Oldest.Equal(testEvent(4).Time) {
		t.Fatalf("after Commit(4) Stats = %+v", st)
	}
}
