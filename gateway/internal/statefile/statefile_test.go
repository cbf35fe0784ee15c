package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

type testState struct {
	Seq   uint64               `json:"seq"`
	Saved time.Time            `json:"saved"`
	Open  []string             `json:"open,omitempty"`
	By    map[string][2]int64  `json:"by,omitempty"`
	Deep  map[string]*subState `json:"deep,omitempty"`
}

type subState struct {
	At   time.Time `json:"at"`
	Bits []byte    `json:"bits,omitempty"`
}

func validTest(st *testState) error {
	for k, d := range st.Deep {
		if d == nil {
			return fmt.Errorf("deep[%s]: null", k)
		}
	}
	return nil
}

var when = time.Date(2026, 12, 6, 1, 2, 3, 456, time.UTC)

func testFile(path string, log *slog.Logger) File {
	return File{Path: path, Name: "test state", Version: 2, Fresh: "starting empty", Logger: log,
		Now: func() time.Time { return when }}
}

func good() *testState {
	return &testState{Seq: 7, Saved: when, Open: []string{"a", "b"}, By: map[string][2]int64{"x": {1, 2}},
		Deep: map[string]*subState{"d": {At: when, Bits: []byte{1, 2, 3}}}}
}

func sameJSON(t *testing.T, a, b *testState) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

// logLines collects the log lines and their levels.
type logLines struct{ bytes.Buffer }

func (l *logLines) logger() *slog.Logger { return slog.New(slog.NewTextHandler(&l.Buffer, nil)) }

func (l *logLines) lines() []string {
	s := strings.TrimSpace(l.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	f := testFile(path, nil)
	if err := f.Save(good()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(data, []byte(`{"version":2,"seq":7,`)) {
		t.Fatalf("file %s, %v: want the version first", data, err)
	}
	got, err := Load(f, validTest)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, got, good()) || !got.Saved.Equal(when) {
		t.Errorf("loaded %+v, want %+v", got, good())
	}
	// An empty state is {"version":2}.
	if err := f.Save(struct{}{}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != `{"version":2}` {
		t.Errorf("empty state: %s", data)
	}
	// A state that is not a JSON object cannot carry the version.
	if err := f.Save([]int{1}); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("saved a list: %v", err)
	}
}

func TestMissingIsFresh(t *testing.T) {
	var logs logLines
	got, err := Load(testFile(filepath.Join(t.TempDir(), "state.json"), logs.logger()), validTest)
	if got != nil || err != nil || logs.Len() != 0 {
		t.Errorf("missing file: %v, %v, logs %q; want nil, nil and no log", got, err, logs.String())
	}
}

var asideName = regexp.MustCompile(`^state\.json\.corrupt-20261206T010203\.000000456Z$`)

// TestUnusable: every kind of file a power cut, a bad disk or newer software leaves
// behind is moved aside with its bytes intact, logged once at WARN with its path
// and the reason, reported as ErrCorrupt, and the next save starts a good file.
func TestUnusable(t *testing.T) {
	saved, err := testFile("", nil).Marshal(good())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, data, reason string
	}{
		{"zero-length", "", "empty file"},
		{"blanks", " \n\t", "only blanks"},
		{"truncated", string(saved[:len(saved)/2]), "not valid JSON"},
		{"truncated after the version", `{"version":2,`, "not valid JSON"},
		{"garbage", "\x00\x01\xff\xfe not json", "not valid JSON"},
		{"nul bytes", "\x00\x00\x00\x00", "not valid JSON"},
		{"trailing garbage", string(saved) + "}", "not valid JSON"},
		{"newer version", strings.Replace(string(saved), `"version":2`, `"version":3`, 1), "version 3, want 2: written by newer software"},
		{"older version", strings.Replace(string(saved), `"version":2`, `"version":1`, 1), "version 1, want 2"},
		{"no version", `{"seq":7}`, "no version"},
		{"version not a number", `{"version":"2"}`, "not the expected JSON"},
		{"not an object", `[1,2]`, "not the expected JSON"},
		{"null", `null`, "no version"},
		{"wrong field type", `{"version":2,"seq":"seven"}`, "not the expected JSON"},
		{"refused by the check", `{"version":2,"deep":{"d":null}}`, "deep[d]: null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs logLines
			f := testFile(path, logs.logger())
			got, err := Load(f, validTest)
			var ce *Corrupt
			if got != nil || !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
				t.Fatalf("Load = %v, %v; want nil and a *Corrupt", got, err)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, tc.reason) || !strings.Contains(msg, "moved to "+ce.MovedTo) {
				t.Errorf("error %q: want the path, %q and where it went", msg, tc.reason)
			}
			if !asideName.MatchString(filepath.Base(ce.MovedTo)) || filepath.Dir(ce.MovedTo) != dir {
				t.Errorf("moved to %q, want state.json.corrupt-<UTC time> beside it", ce.MovedTo)
			}
			if kept, err := os.ReadFile(ce.MovedTo); err != nil || string(kept) != tc.data {
				t.Errorf("the evidence was not kept as it was: %q, %v", kept, err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the unusable file is still in place: %v", err)
			}
			lines := logs.lines()
			if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], path) ||
				!strings.Contains(lines[0], tc.reason) || !strings.Contains(lines[0], "test state unusable, moved aside; starting empty") {
				t.Errorf("want one WARN line naming the file and the reason: %q", lines)
			}
			// Starting fresh: the next save is a good file; the evidence stays.
			if err := f.Save(good()); err != nil {
				t.Fatal(err)
			}
			if got, err := Load(f, validTest); err != nil || got == nil || got.Seq != 7 {
				t.Errorf("after a fresh start: %+v, %v", got, err)
			}
			if _, err := os.Stat(ce.MovedTo); err != nil {
				t.Errorf("evidence gone: %v", err)
			}
		})
	}
}

// TestLevel: a caller may log the move at another level (the rules log an error).
func TestLevel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs logLines
	f := testFile(path, logs.logger())
	f.Level = slog.LevelError
	if _, err := Load(f, validTest); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
	if l := logs.lines(); len(l) != 1 || !strings.Contains(l[0], "level=ERROR") {
		t.Errorf("logged %q", l)
	}
}

// TestAsideNeverOverwritten: a second unusable file in the same instant does not
// replace the first one's evidence.
func TestAsideNeverOverwritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	var moved []string
	for _, data := range []string{"first", "second", "third"} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(testFile(path, nil), validTest)
		var ce *Corrupt
		if !errors.As(err, &ce) {
			t.Fatal(err)
		}
		if kept, _ := os.ReadFile(ce.MovedTo); string(kept) != data {
			t.Errorf("%s holds %q, want %q", ce.MovedTo, kept, data)
		}
		moved = append(moved, ce.MovedTo)
	}
	if moved[0] == moved[1] || moved[1] == moved[2] || !strings.HasSuffix(moved[2], "Z-3") {
		t.Errorf("moved to %q", moved)
	}
}

// TestLeftoverTemp: a write interrupted by a power cut leaves its temporary file
// (never renamed); the state is the last complete save and the leftover goes.
func TestLeftoverTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	f := testFile(path, nil)
	if err := f.Save(good()); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, ".state.json.tmp-123456")
	if err := os.WriteFile(leftover, []byte(`{"version":2,"seq":8,"op`), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, ".other.json.tmp-1") // another file's: not ours to remove
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(f, validTest)
	if err != nil || got == nil || got.Seq != 7 {
		t.Fatalf("Load = %+v, %v; want the last complete save", got, err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temporary file kept: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temporary file removed: %v", err)
	}
	// The cut came during the very first write: no state yet, a fresh start.
	path2 := filepath.Join(dir, "new.json")
	if err := os.WriteFile(filepath.Join(dir, ".new.json.tmp-9"), []byte(`{"vers`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(testFile(path2, nil), validTest); got != nil || err != nil {
		t.Errorf("first write cut: %v, %v; want a fresh start", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".new.json.tmp-9")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temporary file kept: %v", err)
	}
}

// unprivileged runs fn with permissions enforced: as root (tests in a container),
// with the effective user nobody.
func unprivileged(t *testing.T, fn func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		fn()
		return
	}
	if err := syscall.Seteuid(65534); err != nil {
		t.Fatalf("dropping root to test permissions: %v", err)
	}
	defer func() {
		if err := syscall.Seteuid(0); err != nil {
			panic(err)
		}
	}()
	fn()
}

// readOnlyDir returns a directory that the test (unprivileged) cannot write,
// holding state.json with data.
func readOnlyDir(t *testing.T, data string) string {
	t.Helper()
	top, err := os.MkdirTemp("", "statefile-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Chmod(filepath.Join(top, "ro"), 0o700)
		os.RemoveAll(top)
	})
	dir := filepath.Join(top, "ro")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{top: 0o755, dir: 0o555} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestReadOnlyDir: a directory that cannot be written (an SD card remounted
// read-only) gives a save error naming the file; a good file still loads; an
// unusable one is reported, naming the file and why it stayed in place.
func TestReadOnlyDir(t *testing.T) {
	saved, _ := testFile("", nil).Marshal(good())
	dir := readOnlyDir(t, string(saved))
	path := filepath.Join(dir, "state.json")
	f := testFile(path, nil)
	unprivileged(t, func() {
		err := f.Save(good())
		if err == nil || !strings.Contains(err.Error(), "test state") || !strings.Contains(err.Error(), path) ||
			!errors.Is(err, os.ErrPermission) {
			t.Errorf("save in a read-only directory: %v; want a permission error naming the file", err)
		}
		if got, err := Load(f, validTest); err != nil || got == nil || got.Seq != 7 {
			t.Errorf("a good file in a read-only directory: %+v, %v", got, err)
		}
	})

	dir = readOnlyDir(t, "\x00garbage")
	path = filepath.Join(dir, "state.json")
	var logs logLines
	unprivileged(t, func() {
		_, err := Load(testFile(path, logs.logger()), validTest)
		var ce *Corrupt
		if !errors.As(err, &ce) || ce.MovedTo != "" || !errors.Is(ce.MoveErr, os.ErrPermission) {
			t.Fatalf("Load = %v; want a *Corrupt that could not be moved", err)
		}
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "not valid JSON") || !strings.Contains(msg, "could not move it aside") {
			t.Errorf("error %q: want the path, the reason and that it stayed", msg)
		}
	})
	if data, err := os.ReadFile(path); err != nil || string(data) != "\x00garbage" {
		t.Errorf("the file should stay as it was: %q, %v", data, err)
	}
	if l := logs.lines(); len(l) != 1 || !strings.Contains(l[0], "move_err") || !strings.Contains(l[0], path) {
		t.Errorf("logged %q", l)
	}
}

// TestUnreadable: a file that cannot be read is not judged: an error naming it,
// and it stays where it is.
func TestUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.Mkdir(path, 0o700); err != nil { // read(2) fails: EISDIR
		t.Fatal(err)
	}
	got, err := Load(testFile(path, nil), validTest)
	if got != nil || err == nil || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load = %v, %v; want a plain error naming the file", got, err)
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Errorf("moved: %v", err)
	}
}

// TestReadUnversioned: a format that had no version before reads its old files.
func TestReadUnversioned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(`{"seq":5}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := testFile(path, nil)
	f.ReadUnversioned = true
	got, err := Load(f, validTest)
	if err != nil || got == nil || got.Seq != 5 {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	// A version, when there is one, must still be right.
	if err := os.WriteFile(path, []byte(`{"version":9,"seq":5}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(f, validTest); !errors.Is(err, ErrCorrupt) {
		t.Errorf("newer version accepted: %v", err)
	}
}

// FuzzLoad: whatever bytes are in the file, Load does not panic, and either
// returns a state that saves and loads back the same, or moves the file aside
// with its bytes intact.
func FuzzLoad(f *testing.F) {
	saved, _ := testFile("", nil).Marshal(good())
	for _, s := range []string{string(saved), "", `{"version":2}`, `{"version":2,"deep":{"d":null}}`, `{"version":3}`,
		`{"version":2,"by":{"x":[1,2,3]}}`, `{"version":2,"open":null,"deep":{"d":{"bits":"AAE="}}}`, "\x00\xff", `null`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		sf := testFile(path, nil)
		got, err := Load(sf, validTest)
		var ce *Corrupt
		switch {
		case err == nil && got != nil:
			if err := sf.Save(got); err != nil {
				t.Fatal(err)
			}
			again, err := Load(sf, validTest)
			if err != nil || !sameJSON(t, again, got) {
				t.Fatalf("saved %+v, loaded back %+v, %v", got, again, err)
			}
		case errors.As(err, &ce):
			if kept, rerr := os.ReadFile(ce.MovedTo); rerr != nil || !bytes.Equal(kept, data) {
				t.Fatalf("evidence %q, %v; want %q", kept, rerr, data)
			}
		default:
			t.Fatalf("Load = %v, %v", got, err)
		}
	})
}

// TestMaxBytes: a file larger than File.MaxBytes is unusable without being read
// into memory (a disk's garbage must not exhaust the Pi's at start); one of
// exactly MaxBytes loads.
func TestMaxBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := testFile(path, nil)
	if err := f.Save(good()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f.MaxBytes = int64(len(data))
	if got, err := Load(f, validTest); err != nil || !sameJSON(t, got, good()) {
		t.Fatalf("a file of MaxBytes: %+v, %v", got, err)
	}
	if err := os.WriteFile(path, append(data, make([]byte, 1<<20)...), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs logLines
	f.Logger = logs.logger()
	got, err := Load(f, validTest)
	var ce *Corrupt
	if got != nil || !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load = %v, %v; want a *Corrupt", got, err)
	}
	want := fmt.Sprintf("%d bytes, more than the %d a test state may hold", len(data)+1<<20, len(data))
	if !strings.Contains(err.Error(), want) || ce.Size != len(data)+1<<20 || !strings.Contains(logs.String(), want) {
		t.Errorf("error %q (size %d), log %q: want %q", err, ce.Size, logs.String(), want)
	}
	if _, err := os.Stat(ce.MovedTo); err != nil {
		t.Errorf("not moved aside: %v", err)
	}
}
