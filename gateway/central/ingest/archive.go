package ingest

import (
	"bufio"
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
type archive struct{ dir string }

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

// append writes the record to its day file and returns the file, open, and the
// directories that have a new entry: the record is durable once the caller has
// synced them (the group commit), and the caller closes the file.
func (a *archive) append(r record, body []byte) (f *os.File, made []string, err error) {
	hdr, err := json.Marshal(r)
	if err != nil {
		return nil, nil, fmt.Errorf("archive: %w", err)
	}
	buf := make([]byte, 0, len(hdr)+len(body)+2)
	buf = append(append(append(append(buf, hdr...), '\n'), body...), '\n')
	path := DayFile(a.dir, r.Link.Centre, r.Received.UTC().Format(time.DateOnly))
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) { // the centre's first record of the day
		f, made, err = a.create(path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("archive: %w", err)
	}
	// One write of the whole record: O_APPEND places it after every other
	// process's records whole.
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("archive %s: %w", path, err)
	}
	return f, made, nil
}

// create makes a day file (and its centre's directory), returning the directories
// whose new entries are to be synced with it.
func (a *archive) create(path string) (*os.File, []string, error) {
	dir := filepath.Dir(path)
	var made []string
	if err := os.Mkdir(dir, 0o750); err == nil {
		made = append(made, a.dir)
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, nil, err
	}
	return f, append(made, dir), nil
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
}

// Verify re-verifies the archive of centre for day ("YYYY-MM-DD", UTC): every
// record's framing, body hash and signature against keys, and that the accepted
// links form a chain (each names the previous one's hash; gaps are reported, not
// errors). The first link is checked against the previous day's last accepted link
// when that file exists. Any tampered byte is an error naming the record.
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
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			return prev, nil
		}
		where := fmt.Sprintf("%s record %d (byte %d)", path, n, off)
		if err != nil {
			return prev, fmt.Errorf("%s: truncated header: %w", where, err)
		}
		off += int64(len(line))
		var r record
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return prev, fmt.Errorf("%s: header: %w", where, err)
		}
		if r.V != 1 || r.BodyLen < 0 || r.BodyLen > maxBody {
			return prev, fmt.Errorf("%s: header: version %d, body_len %d", where, r.V, r.BodyLen)
		}
		body := make([]byte, r.BodyLen+1)
		if _, err := io.ReadFull(br, body); err != nil {
			return prev, fmt.Errorf("%s: truncated body: %w", where, err)
		}
		off += int64(len(body))
		if body[r.BodyLen] != '\n' {
			return prev, fmt.Errorf("%s: body is not followed by a newline (framing altered)", where)
		}
		body = body[:r.BodyLen]
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
