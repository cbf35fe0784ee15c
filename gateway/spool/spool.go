package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Options configures a Spool. The zero value is usable.
type Options struct {
	// MaxBytes bounds the bytes of segment files on disk; default 2 GiB, at least
	// SegmentBytes. When an append would exceed it, the oldest segments are deleted
	// first, even if not yet delivered: their events are counted in Stats.Dropped and
	// logged at Warn. The producer is never blocked because the uplink is down.
	MaxBytes int64
	// SegmentBytes is the size past which appends go to a new segment file; default
	// min(8 MiB, MaxBytes/8), at least 64 KiB. It also bounds the encoded size of the
	// events of one Append call (see ErrTooLarge).
	SegmentBytes int64
	// Logger receives warnings about damage found on recovery and dropped events.
	// Default: discard.
	Logger *slog.Logger

	// noSync skips the fsyncs of the spool directory and the cursor file (segment
	// files' go through the open function): for the fuzzer only, which otherwise
	// spends 5 ms of each input waiting for the disk.
	noSync bool
}

// syncFile fsyncs f, unless noSync.
func (o Options) syncFile(f *os.File) error {
	if o.noSync {
		return nil
	}
	return f.Sync()
}

const (
	defaultMaxBytes     = 2 << 30
	defaultSegmentBytes = 8 << 20
	minSegmentBytes     = 64 << 10
)

// resolve fills in defaults and validates o.
func (o Options) resolve() (Options, error) {
	if o.MaxBytes < 0 || o.SegmentBytes < 0 {
		return o, fmt.Errorf("spool: negative size in options (max bytes %d, segment bytes %d)", o.MaxBytes, o.SegmentBytes)
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = defaultMaxBytes
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = max(min(defaultSegmentBytes, o.MaxBytes/8), minSegmentBytes)
	}
	if o.SegmentBytes < minSegmentBytes {
		return o, fmt.Errorf("spool: segment bytes %d below the minimum %d", o.SegmentBytes, minSegmentBytes)
	}
	if o.MaxBytes < o.SegmentBytes {
		return o, fmt.Errorf("spool: max bytes %d below segment bytes %d", o.MaxBytes, o.SegmentBytes)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// ErrClosed is returned by Append, Read, Wait and Commit after Close.
var ErrClosed = errors.New("spool: closed")

// ErrLocked is wrapped by Open when another Spool, in this process or another, has
// the directory open.
var ErrLocked = errors.New("spool: directory in use")

// lockName is the file in the spool directory that Open locks.
const lockName = "lock"

// lockDir opens dir's lock file and takes an exclusive advisory lock on it (where
// the platform has one), held until the returned file is closed. It returns
// ErrLocked if another Spool (in this process or another) holds it.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := flock(f, dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ErrTooLarge is wrapped by Append when the encoded events of one call exceed
// Options.SegmentBytes, or one event exceeds 1 MiB.
var ErrTooLarge = errors.New("spool: append too large")

// Record is an event as stored in the spool, with its sequence number.
//
// It is telemetry.Record, so that readers (the InfluxDB writer) need not import the spool.
type Record = telemetry.Record

// Stats is a snapshot of a spool's counters, since Open unless noted.
type Stats struct {
	Appended       uint64    // events made durable
	Dropped        uint64    // undelivered events deleted because the spool was full
	Corrupt        uint64    // records lost to damage found on recovery (seq gaps) or when reading
	TruncatedBytes int64     // bytes of torn or damaged segment tails cut off on recovery
	Bytes          int64     // bytes of segment files on disk
	Backlog        int64     // undelivered events on disk
	Oldest         time.Time // Event.Time of the oldest undelivered event; zero if none
	Commits        uint64    // write+fsync groups; Appended/Commits is the group-commit factor

	// Lost counts undelivered records found missing on Open: between two segment
	// files (a file deleted, or a damaged tail cut off) the seqs jump. Each hole is
	// reported once: Open renames the next file to close it.
	Lost uint64
	// MaxBytes is the bound in force: Options.MaxBytes, lowered at Open to what the
	// file system had room for.
	MaxBytes int64
	// DiskFree is the space left on the spool's file system; -1 if unknown.
	DiskFree int64
	// DiskLow: DiskFree is below two segments, the spool will soon fail to store.
	DiskLow bool
	// WriteError is the error of the last failed write, "" once a write succeeds:
	// while it is set the spool cannot store readings (e.g. the disk is full).
	WriteError string
}

// Spool is an on-disk, append-only, crash-safe queue of telemetry events. Its methods
// may be called concurrently.
type Spool struct {
	dir  string
	opt  Options
	log  *slog.Logger
	open openFunc
	dirf *os.File
	lock *os.File

	reqs       chan *request
	quit       chan struct{} // closed by Close once no Append is in flight
	writerDone chan struct{} // closed when the writer goroutine returns
	closedCh   chan struct{} // closed when Close starts
	closeDone  chan struct{} // closed when Close has finished
	closeErr   error         // Close's result, set before closeDone is closed
	inflight   sync.WaitGroup
	reqPool    sync.Pool // *request
	bufPool    sync.Pool // *[]byte read buffers

	// Owned by the writer goroutine (and by Open before it starts).
	wbuf    []byte
	idxBuf  []indexEntry
	broken  bool // a failed write could not be undone: start a new segment
	scanBuf []byte

	commitMu sync.Mutex // serialises Commit

	mu          sync.Mutex
	closed      bool
	filesClosed bool       // Close has closed the files: the writer is gone
	segs        []*segment // by first seq; the last one is active
	active      *segment   // written only by the writer, under mu
	head        uint64     // next seq to assign; written only by the writer, under mu
	end         uint64     // one past the last durable record's seq; 0 when there is none
	cursor      uint64
	bytes       int64
	notify      chan struct{} // closed and replaced on every commit
	hint        readHint
	oldest      oldestCache

	appended, dropped, corrupt, commits, lost uint64
	truncated                                 int64
	writeErr                                  error // the last write's error; nil after a success
}

// readHint remembers where the last Read stopped: the first record with a seq of at
// least seq in g starts at or after off.
type readHint struct {
	g   *segment
	seq uint64
	off int64
}

type oldestCache struct {
	valid bool
	from  uint64
	t     time.Time
}

// Open opens the spool in dir, creating dir if needed, and recovers it after a crash or
// a power cut: torn record tails are truncated, damaged records in the middle of a
// segment are skipped (every intact record after them is kept), and a missing or
// damaged cursor file makes delivery start again at the oldest record on disk. Only one
// Spool may have dir open at a time: Open returns an error wrapping ErrLocked
// otherwise. The caller must Close the Spool.
func Open(dir string, opt Options) (*Spool, error) {
	return open(dir, opt, osOpen)
}

func open(dir string, opt Options, of openFunc) (*Spool, error) {
	opt, err := opt.resolve()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errors.New("spool: empty directory name")
	}
	if err := mkdirDurable(dir); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	dirf, err := os.Open(dir)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{
		dir:        dir,
		opt:        opt,
		log:        opt.Logger.With("component", "spool"),
		open:       of,
		dirf:       dirf,
		lock:       lock,
		reqs:       make(chan *request, 256),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
		closedCh:   make(chan struct{}),
		closeDone:  make(chan struct{}),
		notify:     make(chan struct{}),
	}
	s.reqPool.New = func() any { return &request{done: make(chan error, 1)} }
	s.bufPool.New = func() any { return new([]byte) }
	if err := s.recover(); err != nil {
		for _, g := range s.segs {
			if g.f != nil {
				g.f.Close()
			}
		}
		dirf.Close()
		lock.Close()
		return nil, err
	}
	s.scanBuf = nil
	s.boundBySpace()
	s.reserveCursor()
	go s.writeLoop()
	return s, nil
}

// boundBySpace lowers MaxBytes to the bytes the spool holds plus the space free on
// its file system, less a reserve, so that the oldest segments are dropped (counted,
// logged) before the disk fills, rather than appends failing with ENOSPC.
func (s *Spool) boundBySpace() {
	free, err := freeBytes(s.dir)
	if err != nil {
		s.log.Warn("cannot read the free space of the spool's file system; max_bytes not checked", "err", err)
		return
	}
	reserve := s.opt.SegmentBytes // room for the cursor, the lock, the dead-letter file
	room := s.bytes + free - reserve
	if room >= s.opt.MaxBytes {
		return
	}
	limit := max(room, s.opt.SegmentBytes)
	s.log.Warn("spool max_bytes is larger than the disk has room for; bounded by the free space",
		"max_bytes", s.opt.MaxBytes, "free_bytes", free, "spool_bytes", s.bytes, "bound", limit)
	s.opt.MaxBytes = limit
}

// reserveCursor makes sure the cursor file exists, so that Commit can always
// overwrite it in place when the disk is full.
func (s *Spool) reserveCursor() {
	if _, err := os.Stat(filepath.Join(s.dir, cursorName)); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err := writeCursor(s.dir, s.dirf, s.cursor, s.opt.syncFile); err != nil {
		s.log.Warn("cannot create the cursor file", "err", err)
	}
}

// mkdirDurable creates dir and any missing parents, and fsyncs the parent of each
// directory it creates, so that a power cut cannot take the spool's directory away
// with the records that were acknowledged in it.
func mkdirDurable(dir string) error {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for _, d := range missing {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// recover rebuilds the in-memory state from the directory.
func (s *Spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	var firsts []uint64
	for _, e := range entries {
		if e.Name() == cursorTemp {
			if err := os.Remove(filepath.Join(s.dir, cursorTemp)); err != nil {
				s.log.Warn("cannot remove stale cursor file", "err", err)
			}
			continue
		}
		if first, ok := parseSegName(e.Name()); ok && e.Type().IsRegular() {
			firsts = append(firsts, first)
		}
	}
	slices.Sort(firsts)

	cursor, err := readCursor(s.dir)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		if len(firsts) > 0 {
			s.log.Info("no cursor file; delivering from the oldest record")
		}
	default:
		s.log.Warn("cursor file unreadable; delivering again from the oldest record", "err", err)
		cursor = 0
	}
	s.cursor = cursor

	var (
		last     uint64 // seq of the last intact record so far
		haveLast bool
		cutTail  bool // the segment holding last had a damaged tail cut off
	)
	for i, first := range firsts {
		isLast := i == len(firsts)-1
		if !isLast && firsts[i+1] <= cursor {
			// Every record in it has a seq below the next segment's name: delivered.
			s.removeFile(segName(first))
			haveLast = false
			continue
		}
		prevLast, prevHave, prevCut := last, haveLast, cutTail
		g, cut, err := s.recoverSegment(first, &last, &haveLast, isLast)
		if err != nil {
			return err
		}
		if g.records == 0 && !isLast {
			if cut {
				s.log.Warn("removed a file named like a segment that holds no valid record", "segment", g.name)
			}
			s.removeFile(g.name)
			continue
		}
		if g.records > 0 || !cut {
			cutTail = cut
		}
		if prevHave {
			s.closeGap(g, prevLast+1, prevCut, isLast && g.records == 0 && cut)
		}
		s.segs = append(s.segs, g)
		s.bytes += g.size
	}

	s.head = cursor
	if haveLast {
		s.head = max(s.head, last+1)
		s.end = last + 1
	}
	if len(s.segs) == 0 {
		g, err := s.createSegment(s.head)
		if err != nil {
			return err
		}
		s.segs = append(s.segs, g)
	}
	s.active = s.segs[len(s.segs)-1]
	s.head = max(s.head, s.active.first)
	if cursor > s.head {
		s.log.Warn("cursor beyond the records on disk", "cursor", cursor)
	}
	return nil
}

// recoverSegment scans one segment file, truncates a torn or damaged tail and skips
// damaged records. last and haveLast carry the last intact seq across segments; seqs
// must increase. nextFirst is the next segment's first seq (unused for the last).
func (s *Spool) recoverSegment(first uint64, last *uint64, haveLast *bool, isLast bool) (g *segment, cut bool, err error) {
	g = &segment{name: segName(first), first: first, next: first}
	path := filepath.Join(s.dir, g.name)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("spool: %w", err)
	}
	f, err := s.open(path, os.O_RDWR)
	if err != nil {
		return nil, false, fmt.Errorf("spool: %w", err)
	}
	size := fi.Size()
	w := &window{r: f, size: size, buf: s.scanBuf[:0]}
	defer func() { s.scanBuf = w.buf }()
	accept := func(seq uint64) bool { return seq >= first && (!*haveLast || seq > *last) }
	expect := first
	if *haveLast {
		expect = max(expect, *last+1)
	}
	var off int64
	for {
		at, rec, found, err := w.next(off, accept)
		if err != nil {
			f.Close()
			return nil, false, fmt.Errorf("spool: recover %s: %w", g.name, err)
		}
		if !found {
			break
		}
		seq := recordSeq(rec)
		if at > off {
			lost := max(seq-expect, 1)
			g.holes = append(g.holes, hole{off, at})
			s.corrupt += lost
			s.log.Warn("skipped damaged records", "segment", g.name, "offset", off, "bytes", at-off, "records", lost)
		}
		if g.records == 0 {
			g.lo = seq
		}
		g.records++
		g.addIndex(seq, at)
		g.next = seq + 1
		*last, *haveLast, expect = seq, true, seq+1
		off = at + int64(len(rec))
	}
	if off < size {
		cut = true
		if isLast {
			s.log.Warn("truncated torn tail", "segment", g.name, "offset", off, "bytes", size-off)
		} else {
			// The records lost are counted by closeGap, from the next segment's first
			// record: a file name alone may be garbage.
			s.log.Warn("truncated damaged segment tail", "segment", g.name, "offset", off, "bytes", size-off)
		}
		s.truncated += size - off
		err := f.Truncate(off)
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			return nil, false, fmt.Errorf("spool: truncate %s: %w", g.name, err)
		}
	}
	g.size = off
	if isLast {
		g.f = f
	} else if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("spool: %w", err)
	}
	return g, cut, nil
}

// closeGap checks that g, recovered after a segment whose last intact record was
// expect-1, starts where it ended. Records missing in between (a segment file deleted,
// a damaged tail cut off) that were not yet delivered are counted in Lost (or Corrupt
// after a cut tail) and logged; g's file is then renamed to start at expect, so that
// the next Open does not report the same hole again. garbage: g is the last file, had
// bytes but no valid record; its name says nothing, so it is renamed without counting.
func (s *Spool) closeGap(g *segment, expect uint64, afterCut, garbage bool) {
	if g.records == 0 && !garbage {
		// An empty last segment ahead of the data: the seqs of appends that failed
		// and could not be undone (undoWrite) are skipped like this. Nothing was lost.
		return
	}
	lo := g.first
	if g.records > 0 {
		lo = g.lo
	}
	if lo <= expect || g.first <= expect {
		return
	}
	if !garbage {
		if from := max(expect, s.cursor); lo > from {
			n := lo - from
			if afterCut {
				s.corrupt += n
			} else {
				s.lost += n
			}
			s.log.Error("spool records missing: a segment file was deleted or damaged; these readings are lost",
				"first_missing", from, "records", n, "next_segment", g.name)
		}
	}
	name := segName(expect)
	if err := os.Rename(filepath.Join(s.dir, g.name), filepath.Join(s.dir, name)); err != nil {
		s.log.Warn("cannot rename segment to close a hole; it will be reported again", "segment", g.name, "err", err)
		return
	}
	if err := s.opt.syncFile(s.dirf); err != nil {
		s.log.Warn("cannot sync the spool directory", "err", err)
	}
	g.name, g.first = name, expect
	if g.records == 0 {
		g.next = expect
	}
}

// createSegment creates the empty segment file for first and makes its directory
// entry durable.
func (s *Spool) createSegment(first uint64) (*segment, error) {
	g := &segment{name: segName(first), first: first, next: first}
	path := filepath.Join(s.dir, g.name)
	f, err := s.open(path, os.O_RDWR|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return nil, fmt.Errorf("spool: new segment: %w", err)
	}
	if err := s.opt.syncFile(s.dirf); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("spool: new segment %s: sync dir: %w", g.name, err)
	}
	g.f = f
	return g, nil
}

func (s *Spool) removeFile(name string) {
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("cannot remove segment", "segment", name, "err", err)
	}
}

// detach marks g, already taken out of s.segs, as removed. Called with mu held.
func (s *Spool) detach(g *segment) {
	g.removed = true
	s.bytes -= g.size
	if g.refs == 0 && g.f != nil {
		g.f.Close()
		g.f = nil
	}
	if s.hint.g == g {
		s.hint = readHint{}
	}
}

// request is one Append call on its way to the writer.
type request struct {
	ctx  context.Context
	buf  []byte   // framed records; seqs and CRCs are filled in by the writer
	offs []int    // start of each record in buf
	crcs []uint32 // CRC-32C of each record's encoded event
	done chan error
}

// encode frames evs into r, leaving the seq and CRC of each record for the writer.
func (r *request) encode(evs []telemetry.Event, limit int64) error {
	r.buf, r.offs, r.crcs = r.buf[:0], r.offs[:0], r.crcs[:0]
	var zero [8]byte
	for i := range evs {
		start := len(r.buf)
		r.buf = append(r.buf, magic[:]...)
		r.buf = append(r.buf, zero[:]...) // length and CRC
		var err error
		if r.buf, err = encodeEvent(r.buf, &evs[i]); err != nil {
			return fmt.Errorf("%w (event %d of %d)", err, i, len(evs))
		}
		ev := r.buf[start+headerLen:]
		plen := len(ev) + seqLen
		if plen > maxPayload || int64(len(r.buf)+seqLen) > limit {
			return fmt.Errorf("%w: %d events, %d bytes encoded by event %d, limit %d", ErrTooLarge, len(evs), len(r.buf)+seqLen, i, limit)
		}
		binary.LittleEndian.PutUint32(r.buf[start+4:], uint32(plen))
		r.crcs = append(r.crcs, crc32.Checksum(ev, castagnoli))
		r.offs = append(r.offs, start)
		r.buf = append(r.buf, zero[:]...) // seq
	}
	return nil
}

// seal completes the record at the start of b, framed by request.encode: it stores seq
// and the payload's CRC, extended from eventCRC, the CRC of the encoded event.
func seal(b []byte, eventCRC uint32, seq uint64) {
	end := headerLen + int(binary.LittleEndian.Uint32(b[4:8]))
	binary.LittleEndian.PutUint64(b[end-seqLen:end], seq)
	binary.LittleEndian.PutUint32(b[8:12], crc32.Update(eventCRC, castagnoli, b[end-seqLen:end]))
}

// Append makes evs durable: when it returns nil, they are written and fsynced, with
// consecutive sequence numbers, and survive a crash or power cut. Concurrent callers
// are group-committed: each encodes its own events, then one writer goroutine takes
// every pending append, writes them with one write and one fsync, and releases them
// all. The events of one call get consecutive seqs and are acknowledged together.
//
// Append returns ctx.Err() if ctx ends before the commit; the events may or may not be
// durable then, and the caller must treat them as not acknowledged. It returns an
// error wrapping ErrInvalidEvent or ErrTooLarge for events it will never store, an
// error wrapping the disk's error (e.g. syscall.ENOSPC, syscall.EIO) if the write or
// fsync failed, and ErrClosed after Close. After a failed Append none of its events is
// readable, but a power cut may still bring back some of them from the disk: a retry
// can deliver an event twice, never lose one.
func (s *Spool) Append(ctx context.Context, evs ...telemetry.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.inflight.Add(1)
	s.mu.Unlock()
	defer s.inflight.Done()
	if len(evs) == 0 {
		return nil
	}
	r := s.reqPool.Get().(*request)
	if err := r.encode(evs, s.opt.SegmentBytes); err != nil {
		s.putRequest(r)
		return err
	}
	r.ctx = ctx
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		s.putRequest(r)
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		s.putRequest(r)
		return err
	case <-ctx.Done():
		return ctx.Err() // the writer still owns r
	}
}

func (s *Spool) putRequest(r *request) {
	r.ctx = nil
	if cap(r.buf) > 1<<20 {
		return
	}
	s.reqPool.Put(r)
}

// writeLoop is the writer goroutine: it takes every pending request, up to a segment's
// worth of bytes, and commits them together.
func (s *Spool) writeLoop() {
	defer close(s.writerDone)
	var (
		batch []*request
		carry *request
	)
	for {
		r := carry
		carry = nil
		if r == nil {
			select {
			case r = <-s.reqs:
			case <-s.quit:
				// No Append is in flight: whatever is left was abandoned by its caller.
				for {
					select {
					case r := <-s.reqs:
						r.done <- ErrClosed
					default:
						return
					}
				}
			}
		}
		batch = append(batch[:0], r)
		size := int64(len(r.buf))
	drain:
		for {
			select {
			case r := <-s.reqs:
				if size+int64(len(r.buf)) > s.opt.SegmentBytes {
					carry = r
					break drain
				}
				batch = append(batch, r)
				size += int64(len(r.buf))
			default:
				break drain
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// commit writes and fsyncs one group of requests and releases their callers.
func (s *Spool) commit(batch []*request) {
	live := batch[:0]
	var size int64
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // abandoned: nobody waits for it to be durable
			continue
		}
		live = append(live, r)
		size += int64(len(r.buf))
	}
	if len(live) == 0 {
		return
	}
	err := s.write(live, size)
	s.mu.Lock()
	s.writeErr = err
	s.mu.Unlock()
	for _, r := range live {
		r.done <- err
	}
}

// write appends the records of live to the active segment, fsyncs it and publishes
// them. On failure it truncates the segment back to its last good size.
func (s *Spool) write(live []*request, size int64) error {
	if err := s.makeRoom(size); err != nil {
		return err
	}
	g := s.active
	seq := s.head
	idx := s.idxBuf[:0]
	buf := s.wbuf[:0]
	for _, r := range live {
		for i, start := range r.offs {
			seal(r.buf[start:], r.crcs[i], seq)
			idx = append(idx, indexEntry{seq, g.size + int64(len(buf)+start)})
			seq++
		}
		if len(live) > 1 {
			buf = append(buf, r.buf...)
		}
	}
	if len(live) == 1 {
		buf = live[0].buf
	} else {
		s.wbuf = buf
	}
	s.idxBuf = idx
	n := uint64(len(idx))

	_, err := g.f.WriteAt(buf, g.size)
	if err == nil {
		err = g.f.Sync()
	}
	if err != nil {
		return s.undoWrite(g, n, err)
	}

	s.mu.Lock()
	for _, e := range idx {
		if g.records == 0 {
			g.lo = e.seq
		}
		g.records++
		g.addIndex(e.seq, e.off)
	}
	g.next = seq
	g.size += int64(len(buf))
	s.bytes += int64(len(buf))
	s.head, s.end = seq, seq
	s.appended += n
	s.commits++
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	return nil
}

// undoWrite truncates g back to its last good size after a failed write or fsync. If
// that fails too, the seqs of the failed records are never reused and the next write
// goes to a new segment, so no two records on disk can share a seq.
func (s *Spool) undoWrite(g *segment, n uint64, err error) error {
	werr := fmt.Errorf("spool: write %s: %w", g.name, err)
	terr := g.f.Truncate(g.size)
	if terr == nil {
		terr = g.f.Sync()
	}
	if terr != nil {
		s.log.Error("cannot undo a failed write; continuing in a new segment", "segment", g.name, "err", terr)
		s.mu.Lock()
		s.head += n
		s.mu.Unlock()
		s.broken = true
	}
	return werr
}

// makeRoom rolls to a new segment if the active one cannot take size more bytes, then
// deletes the oldest segments until size more bytes fit under MaxBytes.
func (s *Spool) makeRoom(size int64) error {
	s.mu.Lock()
	full := s.writeErr != nil && isNoSpace(s.writeErr)
	// On a full disk, a delivered active segment is only freed once it is no longer
	// active: roll, and the delivered segments go below.
	delivered := s.active.next <= s.cursor
	s.mu.Unlock()
	if g := s.active; s.broken || (g.size > 0 && g.size+size > s.opt.SegmentBytes) || (full && g.size > 0 && delivered) {
		if err := s.roll(); err != nil {
			return err
		}
		s.broken = false
	}
	type drop struct {
		name   string
		events uint64
	}
	var (
		drops []drop
		gone  []string
	)
	s.mu.Lock()
	for len(s.segs) > 1 && s.segs[0].next <= s.cursor && s.segs[0] != s.active {
		g := s.segs[0]
		s.segs = s.segs[1:]
		s.detach(g)
		gone = append(gone, g.name)
	}
	for s.bytes+size > s.opt.MaxBytes && len(s.segs) > 1 {
		g := s.segs[0]
		s.segs = s.segs[1:]
		n := uint64(g.undelivered(s.cursor))
		s.dropped += n
		s.detach(g)
		drops = append(drops, drop{g.name, n})
	}
	s.mu.Unlock()
	for _, name := range gone {
		s.removeFile(name)
	}
	for _, d := range drops {
		s.removeFile(d.name)
		if d.events > 0 {
			s.log.Warn("spool full: dropped undelivered events", "segment", d.name, "events", d.events)
		}
	}
	return nil
}

// roll starts a new active segment named by the next seq.
func (s *Spool) roll() error {
	g, err := s.createSegment(s.head)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.active
	s.segs = append(s.segs, g)
	s.active = g
	if old.refs == 0 && old.f != nil {
		old.f.Close() // Read reopens it read-only when needed
		old.f = nil
	}
	s.mu.Unlock()
	return nil
}

// Read returns up to max records with Seq >= from, in seq order, without blocking;
// fewer or none at the end of the spool. If from is below the oldest record still on
// disk (dropped, or delivered and deleted), reading starts at the oldest one. Read does
// not consult the cursor: records below it that are still on disk are returned.
// Records damaged since Open are skipped, logged and counted in Stats.Corrupt.
func (s *Spool) Read(from uint64, max int) ([]Record, error) {
	return s.read(from, max, true)
}

type segView struct {
	g    *segment
	size int64 // durable bytes when Read started
	off  int64 // where to start looking
}

var errGone = errors.New("segment deleted")

func (s *Spool) read(from uint64, max int, setHint bool) ([]Record, error) {
	if max <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	end := s.end
	if from >= end {
		s.mu.Unlock()
		return nil, nil
	}
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].next > from })
	views := make([]segView, 0, len(s.segs)-i)
	for _, g := range s.segs[i:] {
		if g.records == 0 {
			continue
		}
		e, _ := g.seek(from)
		off := e.off
		if h := s.hint; h.g == g && h.seq <= from && h.off > off {
			off = h.off
		}
		g.refs++
		views = append(views, segView{g, g.size, off})
	}
	s.mu.Unlock()

	var (
		out  = make([]Record, 0, min(uint64(max), end-from))
		hint readHint
		rerr error
		dec  = decoder{intern: make(map[string]string)}
		bufp = s.bufPool.Get().(*[]byte)
	)
	for _, v := range views {
		if len(out) >= max {
			break
		}
		f, err := s.readFile(v.g)
		if errors.Is(err, errGone) {
			continue
		}
		if err != nil {
			rerr = err
			break
		}
		w := window{r: f, size: v.size, buf: (*bufp)[:0]}
		var (
			off  = v.off
			last uint64
			have bool
		)
		accept := func(seq uint64) bool { return !have || seq > last }
		for len(out) < max {
			at, rec, found, err := w.next(off, accept)
			if err != nil {
				rerr = fmt.Errorf("spool: read %s: %w", v.g.name, err)
				break
			}
			if !found {
				break
			}
			if at != off {
				s.damaged(v.g, off, at)
			}
			seq := recordSeq(rec)
			last, have = seq, true
			off = at + int64(len(rec))
			if seq < from {
				continue
			}
			ev, err := dec.decode(recordEvent(rec))
			if err != nil {
				s.log.Warn("skipped undecodable record", "segment", v.g.name, "offset", at, "seq", seq, "err", err)
				s.mu.Lock()
				s.corrupt++
				s.mu.Unlock()
				continue
			}
			out = append(out, Record{Seq: seq, Event: ev})
			hint = readHint{g: v.g, seq: seq + 1, off: off}
		}
		*bufp = w.buf
		if rerr != nil {
			break
		}
	}
	if cap(*bufp) <= 2*windowChunk {
		s.bufPool.Put(bufp)
	}
	s.release(views, hint, setHint)
	if rerr != nil && len(out) > 0 {
		rerr = nil // the next Read, starting after out, meets the error again
	}
	return out, rerr
}

// damaged notes that Read skipped the bytes [off, at) of g; damage that recovery did
// not already report is logged and counted once.
func (s *Spool) damaged(g *segment, off, at int64) {
	s.mu.Lock()
	known := g.isHole(off)
	if !known {
		g.holes = append(g.holes, hole{off, at})
		s.corrupt++
	}
	s.mu.Unlock()
	if !known {
		s.log.Warn("skipped damaged bytes", "segment", g.name, "offset", off, "bytes", at-off)
	}
}

// readFile returns a handle to read g, opening it if needed.
func (s *Spool) readFile(g *segment) (segFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.f != nil {
		return g.f, nil
	}
	if g.removed {
		return nil, errGone
	}
	f, err := s.open(filepath.Join(s.dir, g.name), os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	g.f = f
	return f, nil
}

// release ends a Read: it drops the references taken on segments and closes the read
// handles nobody needs, keeping the one the next sequential Read will use.
func (s *Spool) release(views []segView, h readHint, setHint bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if setHint && h.g != nil && !h.g.removed {
		s.hint = h
	}
	for _, v := range views {
		g := v.g
		g.refs--
		if g.refs > 0 || g.f == nil || (g == s.active && !s.filesClosed) {
			continue
		}
		if g.removed || s.closed || g != s.hint.g {
			g.f.Close()
			g.f = nil
		}
	}
}

// Wait blocks until a record with Seq >= from exists, or ctx ends (returning
// ctx.Err()), or the spool is closed (returning ErrClosed).
func (s *Spool) Wait(ctx context.Context, from uint64) error {
	for {
		s.mu.Lock()
		if s.end > from {
			s.mu.Unlock()
			return nil
		}
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ch:
		case <-s.closedCh:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Commit durably records that every record with Seq < seq was delivered: the cursor file
// is written to a temporary file, fsynced, renamed over the old one, and the directory
// fsynced. Segments wholly below the cursor are then deleted (except the one being
// written). Commit never moves the cursor backwards: a seq at or below the cursor is a
// no-op. A seq beyond Head is an error.
func (s *Spool) Commit(seq uint64) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	cur, head := s.cursor, s.head
	s.mu.Unlock()
	if seq <= cur {
		return nil
	}
	if seq > head {
		return fmt.Errorf("spool: commit %d beyond head %d", seq, head)
	}
	if err := writeCursor(s.dir, s.dirf, seq, s.opt.syncFile); err != nil {
		return fmt.Errorf("spool: commit %d: %w", seq, err)
	}
	var gone []string
	s.mu.Lock()
	s.cursor = seq
	for len(s.segs) > 1 && s.segs[0].next <= seq && s.segs[0] != s.active {
		g := s.segs[0]
		s.segs = s.segs[1:]
		s.detach(g)
		gone = append(gone, g.name)
	}
	s.mu.Unlock()
	for _, name := range gone {
		s.removeFile(name)
	}
	return nil
}

// Cursor returns the durable delivered cursor: the first undelivered seq.
func (s *Spool) Cursor() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}

// Head returns the next seq to be assigned.
func (s *Spool) Head() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head
}

// Stats returns a snapshot of the spool's counters. Finding Oldest may read one record
// from disk.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	st := Stats{
		Appended:       s.appended,
		Dropped:        s.dropped,
		Corrupt:        s.corrupt,
		TruncatedBytes: s.truncated,
		Bytes:          s.bytes,
		Commits:        s.commits,
		Lost:           s.lost,
		MaxBytes:       s.opt.MaxBytes,
		DiskFree:       -1,
	}
	if s.writeErr != nil {
		st.WriteError = s.writeErr.Error()
	}
	var (
		first uint64
		have  bool
	)
	for _, g := range s.segs {
		st.Backlog += g.undelivered(s.cursor)
		if !have && g.records > 0 && g.next > s.cursor {
			first, have = max(g.lo, s.cursor), true
		}
	}
	cache, closed := s.oldest, s.closed
	s.mu.Unlock()
	if free, err := freeBytes(s.dir); err == nil {
		st.DiskFree = free
		st.DiskLow = free < 2*s.opt.SegmentBytes
	}
	if !have || closed {
		return st
	}
	if cache.valid && cache.from == first {
		st.Oldest = cache.t
		return st
	}
	recs, err := s.read(first, 1, false)
	if err != nil || len(recs) == 0 {
		return st
	}
	st.Oldest = recs[0].Event.Time
	s.mu.Lock()
	s.oldest = oldestCache{valid: true, from: first, t: st.Oldest}
	s.mu.Unlock()
	return st
}

// Close waits for the Append calls in flight to finish, then fsyncs and closes the
// files and releases the directory. Append, Read, Wait and Commit return ErrClosed
// once Close has started. Calling Close again waits for the first call to finish and
// returns its result.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.closeDone
		return s.closeErr
	}
	s.closed = true
	close(s.closedCh)
	s.mu.Unlock()
	s.closeErr = s.close()
	close(s.closeDone)
	return s.closeErr
}

func (s *Spool) close() error {
	s.inflight.Wait()
	close(s.quit)
	<-s.writerDone
	s.commitMu.Lock() // let a Commit in progress finish with the directory
	defer s.commitMu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if g := s.active; g != nil && g.f != nil {
		if err := g.f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("sync %s: %w", g.name, err))
		}
	}
	for _, g := range s.segs {
		if g.f != nil && g.refs == 0 {
			if err := g.f.Close(); err != nil {
				errs = append(errs, err)
			}
			g.f = nil
		}
	}
	if err := s.dirf.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := s.lock.Close(); err != nil { // releases the lock
		errs = append(errs, err)
	}
	s.filesClosed = true
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("spool: close: %w", err)
	}
	return nil
}
