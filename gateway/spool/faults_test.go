package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return
		}
	}
}

// TestFullDiskKeepsDraining: the disk fills (something else takes the space) while the
// spool holds a backlog. Appends fail with ENOSPC and say so in Stats, but delivery
// goes on: Commit moves the cursor without new space, the delivered segments are
// deleted, and appends work again. Before, Commit failed with ENOSPC and the gateway
// exited, forever.
func TestFullDiskKeepsDraining(t *testing.T) {
	dir := filepath.Join(testenv.MountTmpfs(t, "2m"), "spool")
	s := openT(t, dir, Options{SegmentBytes: minSegmentBytes})
	appendN(t, s, 0, 4000) // several segments
	fill(t, filepath.Dir(dir))

	var err error
	for i := 4000; i < 100_000 && err == nil; i++ {
		err = s.Append(context.Background(), testEvent(i))
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append on a full disk: %v, want ENOSPC", err)
	}
	st := s.Stats()
	if st.WriteError == "" || !st.DiskLow || st.DiskFree < 0 {
		t.Fatalf("full disk not in Stats: %+v", st)
	}

	head := s.Head()
	recs := readAll(t, s, s.Cursor())
	if uint64(len(recs)) != head {
		t.Fatalf("read %d records, head %d", len(recs), head)
	}
	if err := s.Commit(head); err != nil {
		t.Fatalf("Commit on a full disk: %v", err)
	}
	// The delivered segments are gone, so the spool stores readings again.
	appendN(t, s, 200_000, 50)
	if st := s.Stats(); st.WriteError != "" || st.Backlog != 50 {
		t.Fatalf("after draining: %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openT(t, dir, Options{SegmentBytes: minSegmentBytes})
	if got := s2.Cursor(); got != head {
		t.Fatalf("cursor after reopen %d, want %d", got, head)
	}
	if recs := readAll(t, s2, s2.Cursor()); len(recs) != 50 || eventID(recs[0].Event) != 200_000 {
		t.Fatalf("after reopen: %d records", len(recs))
	}
}

// TestMaxBytesBoundedByFreeSpace: a max_bytes larger than the disk is lowered to what
// the disk has room for, and logged, so the oldest segments are dropped (counted)
// before the disk fills.
func TestMaxBytesBoundedByFreeSpace(t *testing.T) {
	dir := filepath.Join(testenv.MountTmpfs(t, "2m"), "spool")
	log, lb := testLogger(t)
	s := openT(t, dir, Options{SegmentBytes: minSegmentBytes, Logger: log})
	st := s.Stats()
	if st.MaxBytes >= 2<<20 || st.MaxBytes < minSegmentBytes {
		t.Fatalf("max bytes %d on a 2 MiB disk", st.MaxBytes)
	}
	if !strings.Contains(lb.String(), "bounded by the free space") {
		t.Fatalf("bound not logged:\n%s", lb)
	}
	for i := range 30_000 {
		if err := s.Append(context.Background(), testEvent(i)); err != nil {
			t.Fatalf("Append %d: %v (stats %+v)", i, err, s.Stats())
		}
	}
	if st := s.Stats(); st.Dropped == 0 || st.Bytes > st.MaxBytes {
		t.Fatalf("expected drops under the bound: %+v", st)
	}
}

// TestMissingSegmentCounted: a segment file deleted in the middle of the backlog is
// found on Open, counted in Lost, logged once, and not reported again on the next Open.
func TestMissingSegmentCounted(t *testing.T) {
	opt := Options{SegmentBytes: minSegmentBytes}
	dir := closedSpool(t, 3000, opt)
	files := segFiles(t, dir)
	if len(files) < 3 {
		t.Fatalf("need 3 segments, have %v", files)
	}
	a, _ := parseSegName(files[1])
	b, _ := parseSegName(files[2])
	if err := os.Remove(filepath.Join(dir, files[1])); err != nil {
		t.Fatal(err)
	}
	log, lb := testLogger(t)
	opt.Logger = log
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Lost != b-a {
		t.Fatalf("Lost %d, want %d", st.Lost, b-a)
	}
	if n := strings.Count(lb.String(), "spool records missing"); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, lb)
	}
	if got := len(readAll(t, s, 0)); got != 3000-int(b-a) {
		t.Fatalf("read %d", got)
	}
	s.Close()
	log2, lb2 := testLogger(t)
	opt.Logger = log2
	s2 := openT(t, dir, opt)
	if st := s2.Stats(); st.Lost != 0 || strings.Contains(lb2.String(), "missing") {
		t.Fatalf("hole reported again: %+v\n%s", st, lb2)
	}
	if got := len(readAll(t, s2, 0)); got != 3000-int(b-a) {
		t.Fatalf("read %d after second open", got)
	}
}

// TestGarbageSegmentName: files of garbage named like segments, one in the middle and
// one past the end, do not produce absurd counts nor move the head to their name.
func TestGarbageSegmentName(t *testing.T) {
	opt := Options{SegmentBytes: minSegmentBytes}
	dir := closedSpool(t, 3000, opt)
	garbage := make([]byte, 5000)
	for i := range garbage {
		garbage[i] = byte(i * 7)
	}
	files := segFiles(t, dir)
	a, _ := parseSegName(files[1])
	for _, n := range []uint64{a + 1, 99_964_516} {
		if err := os.WriteFile(filepath.Join(dir, segName(n)), garbage, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	log, lb := testLogger(t)
	opt.Logger = log
	s := openT(t, dir, opt)
	st := s.Stats()
	if st.Lost != 0 || st.Corrupt > 3000 || s.Head() != 3000 {
		t.Fatalf("stats %+v head %d", st, s.Head())
	}
	for _, m := range regexp.MustCompile(`records=(\d+)`).FindAllStringSubmatch(lb.String(), -1) {
		if n, _ := strconv.Atoi(m[1]); n > 3000 {
			t.Fatalf("absurd count in log: %s\n%s", m[0], lb)
		}
	}
	if got := len(readAll(t, s, 0)); got != 3000 {
		t.Fatalf("read %d, want 3000", got)
	}
	appendN(t, s, 3000, 1)
	if recs := readAll(t, s, 3000); len(recs) != 1 || recs[0].Seq != 3000 {
		t.Fatalf("append after garbage: %+v", recs)
	}
}
