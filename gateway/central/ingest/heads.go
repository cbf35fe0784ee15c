package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// Head is the ingest's view of one centre's chain, kept in <heads>/<centre>.json
// (a log of its changes, the last one fsynced before a request is answered).
type Head struct {
	Centre      string     `json:"centre"`
	Seq         uint64     `json:"seq"`          // last accepted link
	Hash        chain.Hash `json:"hash"`         // its hash
	LastContact time.Time  `json:"last_contact"` // when it was accepted (the ingest's clock)
	// Quiet lists the recent silences (no accepted link for longer than
	// Config.QuietAfter), newest last: the backlog of these periods may still come.
	Quiet []Span `json:"quiet,omitempty"`
	// Gaps lists recent sequence gaps (links that never arrived), newest last.
	Gaps      []Gap             `json:"gaps,omitempty"`
	GapsTotal uint64            `json:"gaps_total"`        // links missing over the chain's life
	Accepted  uint64            `json:"accepted"`          // requests accepted
	Resends   uint64            `json:"resends"`           // exact resends answered without writing
	Points    uint64            `json:"points"`            // points forwarded
	Refused   map[string]uint64 `json:"refused,omitempty"` // refusals by reason code
	Backdates uint64            `json:"backdates"`         // points refused as backdated
	// ArchiveDay and ArchiveEnd: the archive's day file ("YYYY-MM-DD") of the last
	// record committed with this head, and its length after that record. What the
	// file holds beyond is a record whose head was not saved, or a torn one.
	ArchiveDay string `json:"archive_day,omitempty"`
	ArchiveEnd int64  `json:"archive_end,omitempty"`
	// TornTails counts torn archive records truncated (writes cut by a crash).
	TornTails uint64 `json:"torn_tails,omitempty"`
}

// Span is a time interval.
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Gap is a run of missing links: From..To inclusive, noticed At.
type Gap struct {
	From uint64    `json:"from"`
	To   uint64    `json:"to"`
	At   time.Time `json:"at"`
}

const (
	maxQuiet = 32
	maxGaps  = 32
)

// heads keeps Head files in a directory. A centre's file, <centre>.json, is a log
// of its head: one JSON line per change, appended (never rewritten in place) and
// fsynced before the request that made it is answered; the last complete line is
// the head. A torn last line (a crash mid-append of a request that was therefore
// never answered) is ignored. When the file grows past headsRotate it is replaced
// atomically by its last line. A file holding one JSON object over several lines
// (the format before head logs) is read as that object and replaced on the next
// change.
type heads struct{ dir string }

// headsRotate: a head log longer than this is replaced by its last line (about 150
// changes of a ~400-byte head between rotations).
const headsRotate = 64 << 10

// headTail is how much of the end of a head log is read to find its last line; a
// head line is bounded by maxQuiet, maxGaps and the refusal reasons, well under it.
const headTail = 16 << 10

func (h heads) path(centre string) string { return filepath.Join(h.dir, centre+".json") }

// lockPath is the file a request flocks while it reads and advances the head
// (lock_unix.go): the lock is what lets N replicas share one heads directory.
func (h heads) lockPath(centre string) string { return filepath.Join(h.dir, centre+".lock") }

// headFile is a centre's head log, open while its lock is held (and kept open
// between requests: heads.current).
type headFile struct {
	f      *os.File    // nil for a centre never seen, until its first change
	info   os.FileInfo // f's, when it was opened
	path   string
	size   int64  // the length the last read or append left it at
	rotate bool   // the next change replaces the file (too long, or the old format)
	made   string // the directory, when the change made the file: to be synced too
}

// Close closes the log (its lock is the caller's).
func (hf *headFile) Close() error {
	if hf.f == nil {
		return nil
	}
	return hf.f.Close()
}

// open opens centre's head log and reads its head, or a zero head (Seq 0) for a
// centre never seen. The caller holds the centre's lock and closes the file.
func (h heads) open(centre string) (*headFile, Head, error) {
	hf := &headFile{path: h.path(centre)}
	f, err := os.OpenFile(hf.path, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return hf, Head{Centre: centre}, nil
	}
	if err != nil {
		return nil, Head{}, fmt.Errorf("chain head: %w", err)
	}
	hf.f = f
	hd, err := hf.read(centre)
	if err != nil {
		f.Close()
		return nil, Head{}, err
	}
	return hf, hd, nil
}

func (hf *headFile) read(centre string) (Head, error) {
	var buf []byte
	st, err := hf.f.Stat()
	if err != nil {
		return Head{}, fmt.Errorf("chain head: %w", err)
	}
	hf.size, hf.info = st.Size(), st
	if hf.size == 0 { // made, but its first line never written: never acknowledged
		return Head{Centre: centre}, nil
	}
	hf.rotate = hf.size > headsRotate
	defer func() {
		if len(buf) > 0 && buf[len(buf)-1] != '\n' {
			hf.rotate = true // torn (or the old format): an append would glue onto it
		}
	}()
	off := max(0, hf.size-headTail)
	buf = make([]byte, hf.size-off)
	if _, err := hf.f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return Head{}, fmt.Errorf("chain head: %w", err)
	}
	hd, ok := lastHead(buf, off == 0)
	if !ok && off == 0 { // the format before head logs: one (indented) object
		ok = json.Unmarshal(buf, &hd) == nil
		hf.rotate = true
	}
	if !ok {
		return Head{}, fmt.Errorf("chain head %s is corrupt: no complete head line in its last %d bytes", hf.path, len(buf))
	}
	if hd.Centre != centre {
		return Head{}, fmt.Errorf("chain head %s names centre %q", hf.path, hd.Centre)
	}
	return hd, nil
}

// lastHead parses the last complete line of a head log's tail (whole: the tail is
// the whole file). A last line that does not end in a newline is a torn append;
// the line before it is the head.
func lastHead(buf []byte, whole bool) (Head, bool) {
	for len(buf) > 0 {
		end := bytes.LastIndexByte(buf[:len(buf)-1], '\n') // start of the last line - 1
		line := buf[end+1:]
		complete := line[len(line)-1] == '\n'
		if end < 0 && !whole {
			return Head{}, false // the tail cut this line
		}
		var hd Head
		if complete && line[0] == '{' && json.Unmarshal(line, &hd) == nil {
			return hd, true
		}
		if end < 0 {
			return Head{}, false
		}
		buf = buf[:end+1]
	}
	return Head{}, false
}

// append writes hd as the log's new last line (not yet durable: the caller syncs
// hf.f, and the directory hf.made when the file is new), or, when the log is due
// for rotation, replaces the file atomically and durably (atomicfile) by that line
// alone (hf.f is then nil).
func (hf *headFile) append(hd Head) error {
	line, err := json.Marshal(hd)
	if err != nil {
		return fmt.Errorf("chain head: %w", err)
	}
	line = append(line, '\n')
	if hf.f == nil {
		f, err := os.OpenFile(hf.path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o640)
		if err != nil {
			return fmt.Errorf("chain head: %w", err)
		}
		if hf.info, err = f.Stat(); err != nil {
			f.Close()
			return fmt.Errorf("chain head: %w", err)
		}
		hf.f, hf.made = f, filepath.Dir(hf.path)
	} else if hf.rotate || hf.size+int64(len(line)) > headsRotate {
		if err := atomicfile.Write(hf.path, line); err != nil {
			return fmt.Errorf("chain head: %w", err)
		}
		hf.size, hf.rotate = int64(len(line)), false
		hf.f.Close()
		hf.f = nil // nothing left to sync: atomicfile did
		return nil
	}
	if _, err := hf.f.Write(line); err != nil {
		return fmt.Errorf("chain head %s: %w", hf.path, err)
	}
	hf.size += int64(len(line))
	return nil
}

// current returns centre's head and makes cs.hf its open log; the caller holds
// the centre's lock. The head cs holds is reused when its log is still the file at
// the path with the length this process left it at (no other replica changed it:
// an append grows it, a rotation replaces it); otherwise the log is read again.
func (h heads) current(cs *centreState, centre string) (Head, error) {
	if hf := cs.hf; hf != nil && hf.f != nil && !hf.rotate {
		if st, err := os.Stat(hf.path); err == nil && os.SameFile(st, hf.info) && st.Size() == hf.size {
			return cs.head, nil
		}
	}
	cs.closeHead()
	hf, hd, err := h.open(centre)
	if err != nil {
		return Head{}, err
	}
	cs.hf, cs.head = hf, hd
	return hd, nil
}

// load returns centre's head (for readers without the lock: a torn last line is
// read as the one before it).
func (h heads) load(centre string) (Head, error) {
	hf, hd, err := h.open(centre)
	if err != nil {
		return Head{}, err
	}
	hf.Close()
	return hd, nil
}

// all returns every head in the directory.
func (h heads) all() ([]Head, error) {
	names, err := filepath.Glob(filepath.Join(h.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := make([]Head, 0, len(names))
	for _, n := range names {
		c := filepath.Base(n)
		c = c[:len(c)-len(".json")]
		if chain.CheckCentre(c) != nil {
			continue
		}
		hd, err := h.load(c)
		if err != nil {
			return nil, err
		}
		out = append(out, hd)
	}
	return out, nil
}
