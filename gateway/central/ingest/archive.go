package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/chain"
)

// The archive keeps every authentic request (its signature verified) as received:
// one file per centre per UTC day of receipt, <archive>/<centre>/<YYYY-MM-DD>.log,
// opened O_APPEND and fsynced after each record (in a group commit with other
// requests' records), before the request is answered.
// A record is a JSON header line followed by the body and a newline:
//
//	{"v":1,"received":"2025-11-27T10:00:00.123Z","verdict":"accepted","status":204,"after":6,
//	 "link":{"centre":"c1","key":"…","seq":7,"prev":"…","body_sha256":"…","precision":"ns","sig":"<base64>"},
//	 "body_len":5123}\n
//	<body_len bytes: the uncompressed line protocol the link signs>\n
//
// verdict is "accepted" (verified and forwarded to InfluxDB: a link of the chain),
// "resend" (an exact resend of the head, answered 204 without writing) or
// "refused" (signed by the centre's key but refused; reason says why). after is the
// sequence number of the chain's head when the record was made, so that a removed
// accepted record is told from a gap in what the gateway sent. Requests
// whose signature does not verify are not archived (anyone could fill the disk
// with them); they are counted and logged. The body is archived uncompressed
// because the signature covers the uncompressed bytes.
//
// An ingest killed after appending a record but before saving the head appends
// the same link again when the gateway resends it; Verify accepts such an exact
// repeat of the previous accepted link.
//
// An ingest killed in the middle of writing a record (a record larger than a page
// is not written atomically) leaves a torn record at the end of the day file: a
// strict prefix of a record, never acknowledged, since its fsync never completed.
// The head records where the archive ended after the last record it committed
// (Head.ArchiveDay, ArchiveEnd); before it appends, the ingest reads the records
// after that point and truncates a torn one (repair). So a torn record is only
// ever the last bytes of a centre's newest day file; Verify reports it apart from
// tampering there, and as tampering anywhere else (docs/SCALING.md).
type archive struct {
	dir string
	log *slog.Logger
}

type record struct {
	V        int        `json:"v"`
	Received time.Time  `json:"received"`
	Verdict  string     `json:"verdict"`
	Status   int        `json:"status"`
	Reason   string     `json:"reason,omitempty"`
	After    uint64     `json:"after"` // the chain head's seq when the record was made
	Link     chain.Link `json:"link"`
	BodyLen  int        `json:"body_len"`
}

// Verdicts of archive records.
const (
	VerdictAccepted = "accepted"
	VerdictResend   = "resend"
	VerdictRefused  = "refused"
)

// DayFile returns the archive file of centre for a UTC day "YYYY-MM-DD".
func DayFile(dir, centre, day string) string {
	return filepath.Join(dir, centre, day+".log")
}

// ErrTornTail: a day file ends in an incomplete record (see archive).
var ErrTornTail = errors.New("the day file ends in an incomplete record")

// errTorn: the data ended inside a record.
var errTorn = errors.New("incomplete record")

// readRecord reads one record (header line, body, newline) from br. It returns
// errTorn, wrapped, when the data ends inside the record, io.EOF when it ends
// before it, and another error when the framing is broken.
func readRecord(br *bufio.Reader) (r record, body []byte, n int64, err error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) { // a header longer than the buffer
		var more []byte
		more, err = br.ReadBytes('\n')
		line = append(append([]byte(nil), line...), more...)
	}
	n = int64(len(line))
	if err == io.EOF {
		if len(line) == 0 {
			return r, nil, 0, io.EOF
		}
		return r, nil, n, fmt.Errorf("%w: header of %d bytes without its newline", errTorn, len(line))
	}
	if err != nil {
		return r, nil, n, err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, nil, n, fmt.Errorf("header: %w", err)
	}
	if r.V != 1 || r.BodyLen < 0 || r.BodyLen > maxBody {
		return r, nil, n, fmt.Errorf("header: version %d, body_len %d", r.V, r.BodyLen)
	}
	body = make([]byte, r.BodyLen+1)
	k, err := io.ReadFull(br, body)
	n += int64(k)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return r, nil, n, fmt.Errorf("%w: %d of the body's %d bytes and its newline", errTorn, k, r.BodyLen)
	}
	if err != nil {
		return r, nil, n, err
	}
	if body[r.BodyLen] != '\n' {
		return r, nil, n, errors.New("body is not followed by a newline (framing altered)")
	}
	return r, body[:r.BodyLen], n, nil
}

// appendRecord writes the record to f (the centre's day file, open and repaired:
// it ends at end) and returns where the file now ends. The record is durable once
// the caller has synced f (the group commit).
func (a *archive) appendRecord(f *os.File, end int64, r record, body []byte) (int64, error) {
	hdr, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("archive: %w", err)
	}
	buf := make([]byte, 0, len(hdr)+len(body)+2)
	buf = append(append(append(append(buf, hdr...), '\n'), body...), '\n')
	// One write of the whole record: O_APPEND places it after every other
	// process's records whole.
	if _, err := f.Write(buf); err != nil {
		return 0, fmt.Errorf("archive %s: %w", f.Name(), err)
	}
	return end + int64(len(buf)), nil
}

// openDay opens centre's day file for appending and reading, making it (and the
// centre's directory) when missing; made lists the directories whose new entries
// are to be synced with it.
func (a *archive) openDay(centre, day string) (f *os.File, made []string, err error) {
	path := DayFile(a.dir, centre, day)
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) { // the centre's first record of the day
		dir := filepath.Dir(path)
		if err := os.Mkdir(dir, 0o750); err == nil {
			made = append(made, a.dir)
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, nil, fmt.Errorf("archive: %w", err)
		}
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o640)
		made = append(made, dir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("archive: %w", err)
	}
	return f, made, nil
}

// repair checks what f holds after from, the end of the last record the head
// committed (0 when the head committed none to this file), and returns where the
// file ends once repaired: complete records after from (committed to the archive,
// but the head not saved: the gateway resends them) are kept; a torn last record
// is truncated (torn reports it). A file shorter than from, or broken framing after
// it, is not the ingest's to mend (tampering or a disk fault: Verify reports it);
// it is logged and left as it is.
func (a *archive) repair(f *os.File, from int64) (end int64, torn bool, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, false, fmt.Errorf("archive: %w", err)
	}
	size := st.Size()
	switch {
	case size == from:
		return size, false, nil
	case size < from:
		a.log.Error("ingest: archive file is shorter than its chain head records: cut or replaced after it was written", "file", f.Name(), "size", size, "head_end", from)
		return size, false, nil
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, from, size-from), 1<<16)
	end = from
	for {
		_, _, n, err := readRecord(br)
		switch {
		case err == nil:
			end += n
			continue
		case err == io.EOF:
			return end, false, nil
		case errors.Is(err, errTorn):
			if err := f.Truncate(end); err != nil {
				return 0, false, fmt.Errorf("archive %s: truncate a torn record: %w", f.Name(), err)
			}
			if err := f.Sync(); err != nil {
				return 0, false, fmt.Errorf("archive %s: %w", f.Name(), err)
			}
			a.log.Warn("ingest: truncated a torn archive record (a write cut by a crash, never acknowledged)", "file", f.Name(), "at", end, "bytes", size-end, "err", err)
			return end, true, nil
		default:
			a.log.Error("ingest: archive file damaged after its last committed record", "file", f.Name(), "at", end, "err", err)
			return size, false, nil
		}
	}
}

// Report is what Verify found in a day's archive.
type Report struct {
	Records  int      // records read
	Accepted int      // links of the chain
	Resends  int      // exact resends
	Refused  int      // signed requests refused
	FirstSeq uint64   // first accepted link's sequence (0: none)
	LastSeq  uint64   // last accepted link's sequence
	Points   int      // lines in accepted bodies
	Gaps     []Gap    // sequence gaps within the day (and from the previous day, when its file exists)
	Notes    []string // e.g. that the previous day was not there to check the first link against
	// TornTail is the length of an incomplete last record (with ErrTornTail).
	TornTail int64
}

// Verify re-verifies the archive of centre for day ("YYYY-MM-DD", UTC): every
// record's framing, body hash and signature against keys, and that the accepted
// links form a chain (each names the previous one's hash; gaps are reported, not
// errors). The first link is checked against the previous day's last accepted link
// when that file exists. Any tampered byte is an error naming the record. A torn
// last record of the centre's newest day file is an error wrapping ErrTornTail,
// with the report of the records before it (see archive).
func Verify(dir, centre, day string, keys Keys) (Report, error) {
	var rep Report
	if err := chain.CheckCentre(centre); err != nil {
		return rep, err
	}
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return rep, fmt.Errorf("day %q: want YYYY-MM-DD", day)
	}
	pub, err := keys.Key(centre)
	if err != nil {
		return rep, err
	}
	var prev *chain.Link
	prevDay := d.AddDate(0, 0, -1).Format(time.DateOnly)
	if _, err := os.Stat(DayFile(dir, centre, prevDay)); err == nil {
		var prep Report
		last, err := scanDay(dir, centre, prevDay, pub, nil, &prep)
		if err != nil {
			return rep, fmt.Errorf("previous day %s: %w", prevDay, err)
		}
		prev = last
	} else {
		rep.Notes = append(rep.Notes, fmt.Sprintf("no archive for %s: the day's first link is not checked against the one before", prevDay))
	}
	if _, err := scanDay(dir, centre, day, pub, prev, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

func scanDay(dir, centre, day string, pub []byte, prev *chain.Link, rep *Report) (*chain.Link, error) {
	path := DayFile(dir, centre, day)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var off int64
	for n := 1; ; n++ {
		r, body, size, err := readRecord(br)
		if err == io.EOF {
			return prev, nil
		}
		where := fmt.Sprintf("%s record %d (byte %d)", path, n, off)
		if errors.Is(err, errTorn) {
			return prev, tornTail(dir, centre, day, where, size, err, rep)
		}
		if err != nil {
			return prev, fmt.Errorf("%s: %w", where, err)
		}
		off += size
		rep.Records++
		if r.Link.Centre != centre {
			return prev, fmt.Errorf("%s: link of centre %q in %s's archive", where, r.Link.Centre, centre)
		}
		if got := r.Received.UTC().Format(time.DateOnly); got != day {
			return prev, fmt.Errorf("%s: received %s, not on %s", where, r.Received.Format(time.RFC3339), day)
		}
		if err := r.Link.Verify(pub, body); err != nil {
			return prev, fmt.Errorf("%s: seq %d: %w", where, r.Link.Seq, err)
		}
		switch r.Verdict {
		case VerdictRefused:
			rep.Refused++
		case VerdictResend:
			if prev != nil && r.Link.Hash() != prev.Hash() {
				return prev, fmt.Errorf("%s: resend of seq %d is not the head (seq %d)", where, r.Link.Seq, prev.Seq)
			}
			rep.Resends++
		case VerdictAccepted:
			l := r.Link
			switch {
			case prev == nil:
			case l.Hash() == prev.Hash():
				rep.Resends++ // appended again after an ingest crash before its head was saved
				continue
			case r.After != prev.Seq:
				return prev, fmt.Errorf("%s: seq %d was accepted after seq %d, but the archive's previous link is seq %d: records are missing", where, l.Seq, r.After, prev.Seq)
			case l.Seq <= prev.Seq:
				return prev, fmt.Errorf("%s: seq %d accepted after seq %d", where, l.Seq, prev.Seq)
			case l.Seq == prev.Seq+1 && l.Prev != prev.Hash():
				return prev, fmt.Errorf("%s: seq %d names previous hash %s, the previous link's hash is %s", where, l.Seq, l.Prev, prev.Hash())
			case l.Seq > prev.Seq+1:
				rep.Gaps = append(rep.Gaps, Gap{From: prev.Seq + 1, To: l.Seq - 1, At: r.Received})
			}
			if rep.FirstSeq == 0 {
				rep.FirstSeq = l.Seq
			}
			rep.LastSeq = l.Seq
			rep.Accepted++
			rep.Points += bytes.Count(body, []byte{'\n'}) + 1
			if len(body) == 0 || body[len(body)-1] == '\n' {
				rep.Points--
			}
			prev = &l
		default:
			return prev, fmt.Errorf("%s: verdict %q", where, r.Verdict)
		}
	}
}

// tornTail judges an incomplete last record. The ingest truncates a torn record
// before it appends anything more for the centre, so one can only remain at the end
// of the centre's newest day file: there it is told apart (ErrTornTail: the records
// before it verified, the tail no link; a crash mid-write, or a write still under
// way, or the file cut, which no file alone can tell from its end). Before a later
// day file of the centre, it is tampering.
func tornTail(dir, centre, day, where string, size int64, err error, rep *Report) error {
	later, lerr := laterDay(dir, centre, day)
	if lerr != nil {
		return fmt.Errorf("%s: %w (and: %w)", where, err, lerr)
	}
	if later != "" {
		return fmt.Errorf("%s: %w, yet the centre's archive goes on in %s: the ingest truncates a torn record before it appends again, so this file was cut after it was written", where, err, later)
	}
	rep.TornTail = size
	return fmt.Errorf("%s: %w: %w", where, ErrTornTail, err)
}

// laterDay returns the first day file of centre after day, or "".
func laterDay(dir, centre, day string) (string, error) {
	ents, err := os.ReadDir(filepath.Join(dir, centre))
	if err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	for _, e := range ents { // sorted by name: by day
		d, ok := strings.CutSuffix(e.Name(), ".log")
		if _, perr := time.Parse(time.DateOnly, d); ok && perr == nil && d > day {
			return e.Name(), nil
		}
	}
	return "", nil
}
