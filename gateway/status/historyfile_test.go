package status

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/statefile"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// fillHistory gives sensors a reading every minute for the 30 h up to end.
func fillHistory(h *History, end time.Time, sensors ...string) {
	for t := end.Add(-30 * time.Hour); !t.After(end); t = t.Add(time.Minute) {
		for i, s := range sensors {
			h.Add(s, t, 4+float64(i)+math.Sin(float64(t.Unix())/3000)*2.5)
		}
	}
}

// TestHistorySaveLoad: the rings saved and loaded give the same charts, for the
// sensors the new history keeps; readings go on into a restored bucket; the raw
// messages are not saved; a day of one sensor is under 4 kB.
func TestHistorySaveLoad(t *testing.T) {
	end := time.Date(2026, 3, 2, 14, 33, 0, 0, time.UTC)
	a := NewHistory("fridge-t", "room-1", "gone")
	fillHistory(a, end, "fridge-t", "room-1", "gone")
	a.Raw("fridge-t", "t/fridge", []byte(`{"token":"s3cret","t":4.1}`), end)
	path := filepath.Join(t.TempDir(), "spool", "status-history.json")
	if err := a.SaveTo(path, end); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "s3cret") || strings.Contains(string(data), "t/fridge") {
		t.Errorf("the raw message was saved: %s", data)
	}
	t.Logf("3 sensors' day: %d bytes", len(data))
	if max := 3 * 4 << 10; len(data) > max {
		t.Errorf("3 sensors' day in %d bytes, want at most %d", len(data), max)
	}

	b := NewHistory("fridge-t", "room-1", "new") // "gone" no longer configured
	n, err := b.LoadFrom(path)
	if err != nil || n != 2 {
		t.Fatalf("LoadFrom = %d, %v; want 2 sensors", n, err)
	}
	for _, s := range []string{"fridge-t", "room-1"} {
		want, got := a.Series(s, end), b.Series(s, end)
		if len(want) != HistoryBuckets || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d buckets restored, want the %d saved, the same", s, len(got), len(want))
		}
	}
	if b.Series("gone", end) != nil || b.Series("new", end) != nil {
		t.Error("a sensor not kept, or not saved, has a history")
	}
	if _, ok := b.LastRaw("fridge-t"); ok {
		t.Error("a raw message was restored")
	}
	// The current bucket goes on from the restored one.
	before := b.Series("fridge-t", end)
	b.Add("fridge-t", end.Add(time.Second), 100)
	after := b.Series("fridge-t", end)
	if l, m := before[len(before)-1], after[len(after)-1]; m.N != l.N+1 || m.Max != 100 || m.Min != l.Min {
		t.Errorf("current bucket %+v after a reading, was %+v", m, l)
	}
	// The older bucket of a place in the ring gives way to the newer one.
	c := NewHistory("fridge-t")
	c.Add("fridge-t", end.Add(24*time.Hour), 7)
	if _, err := c.LoadFrom(path); err != nil {
		t.Fatal(err)
	}
	if s := c.Series("fridge-t", end.Add(24*time.Hour)); len(s) != 1 || s[len(s)-1].Mean != 7 {
		t.Errorf("a live bucket was replaced by the older one loaded: %+v", s[len(s)-1])
	}
}

// TestHistorySaveDropsOld: buckets older than 24 h are not saved; a history with
// nothing of the last day writes nothing and leaves the file before it.
func TestHistorySaveDropsOld(t *testing.T) {
	end := time.Date(2026, 3, 2, 14, 33, 0, 0, time.UTC)
	h := NewHistory("fridge-t")
	fillHistory(h, end, "fridge-t")
	path := filepath.Join(t.TempDir(), "status-history.json")
	later := end.Add(12 * time.Hour)
	if err := h.SaveTo(path, later); err != nil {
		t.Fatal(err)
	}
	st, err := statefile.Load(historyFile(path, 1), validHistory)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(st.Sensors["fridge-t"])
	if got, want := len(raw)/bucketBytes, len(h.Series("fridge-t", later)); got != want || want != 72 {
		t.Errorf("%d buckets saved, want the %d of the last day", got, want)
	}
	before, _ := os.ReadFile(path)
	if err := h.SaveTo(path, end.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a history with nothing of the last day replaced the file")
	}
	if err := NewHistory().SaveTo(filepath.Join(t.TempDir(), "x.json"), end); err != nil {
		t.Error(err)
	}
}

func TestHistoryLoadMissing(t *testing.T) {
	h := NewHistory("fridge-t")
	if n, err := h.LoadFrom(filepath.Join(t.TempDir(), "status-history.json")); n != 0 || err != nil {
		t.Errorf("missing file: %d, %v; want 0, nil", n, err)
	}
}

// TestHistoryLoadUnusable: a damaged, truncated, wrong-version or oversized file
// is refused whole with its path and what was wrong, moved aside, and the history
// starts empty; the next save writes a good file.
func TestHistoryLoadUnusable(t *testing.T) {
	end := time.Date(2026, 3, 2, 14, 33, 0, 0, time.UTC)
	src := NewHistory("fridge-t")
	fillHistory(src, end, "fridge-t")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := src.SaveTo(good, end); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	ring := func(bs ...bucket) string {
		var buf []byte
		for _, b := range bs {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(b.slot))
			for _, f := range []float32{b.min, b.max, b.sum} {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
			}
			buf = binary.LittleEndian.AppendUint32(buf, b.n)
		}
		return base64.StdEncoding.EncodeToString(buf)
	}
	file := func(enc string) string {
		return `{"version":1,"bucket_s":600,"sensors":{"fridge-t":"` + enc + `"}}`
	}
	const s = 2_963_000
	ok := bucket{slot: s, min: 3, max: 5, sum: 8, n: 2}
	for _, tc := range []struct{ name, data, reason string }{
		{"truncated", string(saved[:len(saved)/2]), "not valid JSON"},
		{"zero-length", "", "empty file"},
		{"garbage", "\x00\xff\x13 not json", "not valid JSON"},
		{"newer version", strings.Replace(string(saved), `"version":1`, `"version":2`, 1), "version 2, want 1: written by newer software"},
		{"no version", `{"bucket_s":600,"sensors":{}}`, "no version"},
		{"other bucket size", strings.Replace(string(saved), `"bucket_s":600`, `"bucket_s":300`, 1), "buckets of 300 s, want 600 s"},
		{"not base64", file("%%%"), `sensor "fridge-t": illegal base64`},
		{"cut bucket", file(ring(ok)[:12]), `sensor "fridge-t": 9 bytes, not a multiple of 20`},
		{"no buckets", file(""), "no buckets"},
		{"out of order", file(ring(ok, bucket{slot: s - 1, min: 1, max: 1, sum: 1, n: 1})), "bucket 1: slot 2962999 not after 2963000"},
		{"same place", file(ring(ok, bucket{slot: s + HistoryBuckets, min: 1, max: 1, sum: 1, n: 1})), "in the place of another"},
		{"empty bucket", file(ring(bucket{slot: s, min: 1, max: 1})), "bucket 0: no readings"},
		{"NaN", file(ring(bucket{slot: s, min: float32(math.NaN()), max: 1, sum: 1, n: 1})), "bucket 0: min NaN"},
		{"min above max", file(ring(bucket{slot: s, min: 5, max: 1, sum: 6, n: 2})), "bucket 0: min 5, max 1"},
		{"slot zero", file(ring(bucket{slot: 0, min: 1, max: 1, sum: 1, n: 1})), "slot 0 not after 0"},
		{"too large", `{"version":1,"bucket_s":600,"sensors":{}}` + strings.Repeat(" ", historyFileFixed+(1+historyFileRemoved)*historyFileSensor), "more than the"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "status-history.json")
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			h := NewHistory("fridge-t")
			n, err := h.LoadFrom(path)
			if n != 0 || !errors.Is(err, statefile.ErrCorrupt) {
				t.Fatalf("LoadFrom = %d, %v; want 0 and an unusable file", n, err)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, tc.reason) {
				t.Errorf("error %q: want the path and %q", msg, tc.reason)
			}
			if h.Series("fridge-t", end) != nil {
				t.Error("an unusable file's buckets were kept")
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the unusable file was not moved aside: %v", err)
			}
			src.SaveTo(path, end)
			if n, err := NewHistory("fridge-t").LoadFrom(path); n != 1 || err != nil {
				t.Errorf("after the next save: %d, %v", n, err)
			}
		})
	}
}

// TestHistoryFileBound: the size limit on the file leaves room for a full ring
// with the longest ID, every byte of it escaped.
func TestHistoryFileBound(t *testing.T) {
	id := strings.Repeat("\x01", 64) // escaped as \u0001: 6 bytes each
	h := NewHistory(id)
	end := time.Date(2026, 3, 2, 14, 33, 0, 0, time.UTC)
	fillHistory(h, end, id)
	path := filepath.Join(t.TempDir(), "status-history.json")
	if err := h.SaveTo(path, end); err != nil {
		t.Fatal(err)
	}
	if n, err := NewHistory(id).LoadFrom(path); n != 1 || err != nil {
		t.Errorf("a full ring with a long ID: %d, %v", n, err)
	}
}

// FuzzHistoryLoad: whatever a power cut, a disk fault or a hand edit leaves in the
// charts' file, LoadFrom neither panics nor accepts what the rings cannot hold:
// either an error (the file moved aside) or a history whose charts can be drawn,
// fed, saved and loaded again to the same charts.
func FuzzHistoryLoad(f *testing.F) {
	end := time.Date(2026, 3, 2, 14, 33, 0, 0, time.UTC)
	seed := NewHistory("a", "b")
	fillHistory(seed, end, "a", "b")
	dir := f.TempDir()
	if err := seed.SaveTo(filepath.Join(dir, "seed.json"), end); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "seed.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"version":1,"bucket_s":600,"sensors":{"a":""}}`))
	f.Add([]byte(`{"version":1,"bucket_s":600,"sensors":{"a":"AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`))
	file := testenv.FuzzFile(f, "status-history.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		path := file(t, data)
		h := NewHistory("a", "b")
		if _, err := h.LoadFrom(path); err != nil {
			if !errors.Is(err, statefile.ErrCorrupt) {
				t.Fatalf("not a corrupt-file error: %v", err)
			}
			return
		}
		h.Add("a", end, 5)
		before := [2][]Bucket{h.Series("a", end), h.Series("b", end)}
		if err := h.SaveTo(path, end); err != nil {
			t.Fatal(err)
		}
		again := NewHistory("a", "b")
		if _, err := again.LoadFrom(path); err != nil {
			t.Fatalf("a file SaveTo wrote does not load: %v", err)
		}
		if after := [2][]Bucket{again.Series("a", end), again.Series("b", end)}; !reflect.DeepEqual(before, after) {
			t.Fatalf("charts changed through a save and a load")
		}
	})
}
