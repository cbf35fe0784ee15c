package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/klauspost/compress/gzip"

	"github.com/saqshy/saqshy/gateway/chain"
)

// DefaultMeasurements are the measurements a gateway may write: the schema of
// DESIGN.md and what the gateway writes today (round_night, and doctor's test
// point).
var DefaultMeasurements = []string{
	"climate", "device", "camera", "coverage", "round", "round_night", "alert",
	"safety_score", "gateway", "doctor",
}

const maxBody = 64 << 20

// Config configures a Server.
type Config struct {
	Keys       Keys
	Forward    Forwarder
	ArchiveDir string
	HeadsDir   string
	// Measurements a gateway may write; default DefaultMeasurements.
	Measurements []string
	// Grace: how much older than the centre's last verified contact a point may be
	// (clock skew, batching). Default 10 min. Points more than Grace in the future
	// of the ingest's clock are refused too.
	Grace time.Duration
	// DayScoreGrace replaces Grace for safety_score and coverage points of
	// period=day, which are timestamped at the start of a local day and written
	// during and after it. Default 50 h.
	DayScoreGrace time.Duration
	// QuietAfter: a centre without an accepted link for longer is quiet; the backlog
	// of a quiet period may arrive later. Default 2 min.
	QuietAfter time.Duration
	// MaxBody bounds an uncompressed body. Default 64 MiB.
	MaxBody int64
	// OpenCentres: how many centres keep their files open between requests (the
	// head lock's, the head log's and the archive day file's descriptors: three
	// each), the least recently used closed first. Default 4096; make it the number
	// of centres one replica serves, with an open-file limit of three times as
	// many (it is lowered, with a warning, to what the limit leaves room for).
	OpenCentres int
	Now         func() time.Time
	Log         *slog.Logger
}

// Server is the verifying ingest: an http.Handler speaking InfluxDB's v2 write API.
type Server struct {
	cfg     Config
	allowed map[string]bool
	heads   heads
	archive *archive
	syncer  *syncer
	open    *openFiles

	mu      sync.Mutex
	centres map[string]*centreState
	unauth  uint64 // requests refused before a centre's key verified them
}

// New returns a Server. The heads and archive directories are created if missing.
func New(cfg Config) (*Server, error) {
	if cfg.Keys == nil || cfg.Forward == nil || cfg.ArchiveDir == "" || cfg.HeadsDir == "" {
		return nil, errors.New("ingest: Keys, Forward, ArchiveDir and HeadsDir are required")
	}
	for _, d := range []struct{ name, dir string }{{"heads", cfg.HeadsDir}, {"archive", cfg.ArchiveDir}} {
		if err := os.MkdirAll(d.dir, 0o750); err != nil {
			return nil, fmt.Errorf("ingest: %s directory %s: %w", d.name, d.dir, err)
		}
	}
	if cfg.Measurements == nil {
		cfg.Measurements = DefaultMeasurements
	}
	if cfg.Grace == 0 {
		cfg.Grace = 10 * time.Minute
	}
	if cfg.DayScoreGrace == 0 {
		cfg.DayScoreGrace = 50 * time.Hour
	}
	if cfg.QuietAfter == 0 {
		cfg.QuietAfter = 2 * time.Minute
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = maxBody
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.OpenCentres <= 0 {
		cfg.OpenCentres = 4096
	}
	if limit, ok := fileLimit(); ok {
		cfg.OpenCentres = openCentresWithin(cfg.OpenCentres, limit, cfg.Log)
	}
	cfg.Forward = newCoalescer(cfg.Forward)
	s := &Server{cfg: cfg, allowed: map[string]bool{}, heads: heads{cfg.HeadsDir},
		archive: &archive{dir: cfg.ArchiveDir, log: cfg.Log}, syncer: newSyncer(),
		open: &openFiles{max: cfg.OpenCentres}, centres: map[string]*centreState{}}
	for _, m := range cfg.Measurements {
		s.allowed[m] = true
	}
	return s, nil
}

// descriptorsPerCentre: an open centre holds its head lock, head log and
// archive day file.
const descriptorsPerCentre = 3

// openCentresWithin bounds want so that the open centres' descriptors fit in the
// process's limit with a quarter of it (at least 1,024) left for the gateways'
// keep-alive connections, InfluxDB's and the rest: beyond it accepts and opens
// would fail with "too many open files".
func openCentresWithin(want int, limit uint64, log *slog.Logger) int {
	spare := max(1024, limit/4)
	fit := 1
	if limit > spare+descriptorsPerCentre {
		fit = int(min((limit-spare)/descriptorsPerCentre, 1<<30))
	}
	if want <= fit {
		return want
	}
	log.Warn("ingest: open_centres lowered to fit the open-file limit; raise LimitNOFILE (ulimit -n) for more",
		"open_centres", want, "lowered_to", fit, "nofile", limit, "descriptors_per_centre", descriptorsPerCentre)
	return fit
}

// ServeHTTP implements http.Handler: POST /api/v2/write, GET /ping, GET /health
// and GET /centres (every centre's Head as JSON: the ingest's view of the chains).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/api/v2/write":
		if r.Method != http.MethodPost {
			writeErr(w, http.StatusMethodNotAllowed, "method not allowed", "method", "use POST")
			return
		}
		s.write(w, r)
	case "/ping":
		w.Header().Set("X-Influxdb-Version", "saqshy-ingest")
		w.WriteHeader(http.StatusNoContent)
	case "/health":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"name":"saqshy-ingest","message":"ready for writes","status":"pass"}`)
	case "/centres":
		hs, err := s.Heads()
		if err != nil {
			writeErr(w, http.StatusInternalServerError, "internal error", "heads", err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(hs)
	default:
		writeErr(w, http.StatusNotFound, "not found", "path", "no such path: "+r.URL.Path)
	}
}

// Heads returns every centre's head, by centre id.
func (s *Server) Heads() ([]Head, error) {
	hs, err := s.heads.all()
	sort.Slice(hs, func(i, j int) bool { return hs[i].Centre < hs[j].Centre })
	return hs, err
}

// refusal is an HTTP error with a reason code for counters.
type refusal struct {
	status int
	reason string
	msg    string
}

func (e *refusal) Error() string { return e.msg }

func refuse(status int, reason, format string, a ...any) *refusal {
	return &refusal{status: status, reason: reason, msg: fmt.Sprintf(format, a...)}
}

var influxCodes = map[int]string{
	http.StatusBadRequest: "invalid", http.StatusUnauthorized: "unauthorized",
	http.StatusForbidden: "forbidden", http.StatusConflict: "conflict",
	http.StatusRequestEntityTooLarge: "request too large", http.StatusUnprocessableEntity: "unprocessable entity",
	http.StatusServiceUnavailable: "unavailable", http.StatusNotFound: "not found",
	http.StatusMethodNotAllowed: "method not allowed", http.StatusInternalServerError: "internal error",
}

// writeErr answers like InfluxDB ({"code","message"}), with Saqshy's reason code.
func writeErr(w http.ResponseWriter, status int, code, reason, msg string) {
	if c, ok := influxCodes[status]; ok {
		code = c
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Saqshy-Reason", reason)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg, "reason": reason})
}

func (s *Server) write(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now()
	link, body, ref := s.authenticate(r)
	if ref != nil {
		s.mu.Lock()
		s.unauth++
		s.mu.Unlock()
		s.cfg.Log.Warn("ingest: refused", "status", ref.status, "reason", ref.reason, "err", ref.msg, "remote", r.RemoteAddr)
		writeErr(w, ref.status, "", ref.reason, ref.msg)
		return
	}
	// One request per centre at a time: in this process (the mutex) and across
	// every replica sharing the heads directory (the flock). The head is read from
	// its file under the lock on every request, never from a cache, so a replica
	// continues a chain another one advanced (docs/SCALING.md).
	cs := s.centre(link.Centre)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	defer s.open.touch(cs)
	unlock, err := s.heads.lock(link.Centre, &cs.lock)
	if err != nil {
		s.cfg.Log.Error("ingest: chain head", "centre", link.Centre, "err", err)
		writeErr(w, http.StatusServiceUnavailable, "", "head", "the ingest could not lock the chain head: "+err.Error())
		return
	}
	defer unlock()
	cur, err := s.heads.current(cs, link.Centre)
	if err != nil {
		s.cfg.Log.Error("ingest: chain head", "centre", link.Centre, "err", err)
		writeErr(w, http.StatusInternalServerError, "", "head", err.Error())
		return
	}
	hd := cur // work on a copy: the file changes only once the record is durable
	verdict, ref := s.check(r.Context(), &hd, link, body, now)
	rec := record{V: 1, Received: now.UTC(), After: cur.Seq, Verdict: verdict, Status: http.StatusNoContent, Link: link, BodyLen: len(body)}
	if ref != nil {
		rec.Status, rec.Reason = ref.status, ref.reason+": "+ref.msg
	}
	if verdict == "" { // not the data's fault (InfluxDB down): nothing recorded, the gateway resends
		s.cfg.Log.Warn("ingest: not written", "centre", link.Centre, "seq", link.Seq, "err", ref.msg)
		writeErr(w, ref.status, "", ref.reason, ref.msg)
		return
	}
	if err := s.commit(cs, rec, body, hd); err != nil {
		s.cfg.Log.Error("ingest: commit", "centre", link.Centre, "seq", link.Seq, "err", err)
		writeErr(w, http.StatusServiceUnavailable, "", err.reason, err.msg)
		return
	}
	if ref != nil {
		s.cfg.Log.Warn("ingest: refused", "centre", link.Centre, "seq", link.Seq, "status", ref.status, "reason", ref.reason, "err", ref.msg)
		writeErr(w, ref.status, "", ref.reason, ref.msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// commit makes the archive record and then the new head durable, each in a group
// commit with the other requests in flight. The record is durable before the head
// changes, so a crash never leaves a head ahead of the archive (a record without
// its head is an exact resend to the next replica, which Verify accepts).
func (s *Server) commit(cs *centreState, rec record, body []byte, hd Head) *refusal {
	day := rec.Received.Format(time.DateOnly)
	err := s.dayFile(cs, &hd, day)
	if err == nil {
		var end int64
		if end, err = s.archive.appendRecord(cs.f, hd.ArchiveEnd, rec, body); err == nil {
			hd.ArchiveEnd = end
			if err = s.syncer.sync(cs.made, cs.f); err == nil {
				cs.made = nil
			}
		}
	}
	if err != nil {
		cs.closeDay() // what the file holds is repaired from the head's end next time
		return refuse(http.StatusServiceUnavailable, "archive", "the ingest could not archive the request: %v", err)
	}
	hf := cs.hf
	if err = hf.append(hd); err == nil && hf.f != nil { // nil: replaced, durably, by atomicfile
		var made []string
		if hf.made != "" {
			made = []string{hf.made}
		}
		err = s.syncer.sync(made, hf.f)
	}
	if err != nil {
		cs.closeHead() // read again from the file next time
		return refuse(http.StatusServiceUnavailable, "head", "the ingest could not save the chain head: %v", err)
	}
	hf.made, cs.head = "", hd
	return nil
}

// dayFile makes cs.f the centre's archive file of day, open and repaired (a torn
// record truncated: archive), and sets hd.ArchiveDay and ArchiveEnd to it and
// where it ends. Files of earlier days the head had not seen the end of are
// repaired first, so that a torn record never remains before a later one.
func (s *Server) dayFile(cs *centreState, hd *Head, day string) error {
	if cs.f != nil && cs.day != day {
		cs.closeDay()
	}
	from := hd.ArchiveEnd
	if hd.ArchiveDay != day {
		for d := hd.ArchiveDay; d != "" && d < day; d = nextDay(d) {
			if err := s.repairDay(hd, d, from); err != nil {
				return err
			}
			from = 0 // days after the head's: made by requests it never committed
		}
		from = 0
	}
	if cs.f == nil {
		f, made, err := s.archive.openDay(hd.Centre, day)
		if err != nil {
			return err
		}
		cs.f, cs.day, cs.made = f, day, append(cs.made, made...)
	}
	end, torn, err := s.archive.repair(cs.f, from)
	if err != nil {
		return err
	}
	if torn {
		hd.TornTails++
	}
	hd.ArchiveDay, hd.ArchiveEnd = day, end
	return nil
}

// repairDay repairs centre's archive file of an earlier day, if there is one.
func (s *Server) repairDay(hd *Head, day string, from int64) error {
	f, err := os.OpenFile(DayFile(s.archive.dir, hd.Centre, day), os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	_, torn, err := s.archive.repair(f, from)
	if torn {
		hd.TornTails++
	}
	return err
}

func nextDay(day string) string {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return "9999-12-31" // not a day: nothing to repair
	}
	return d.AddDate(0, 0, 1).Format(time.DateOnly)
}

func (s *Server) centre(id string) *centreState {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.centres[id]
	if cs == nil {
		cs = &centreState{}
		s.centres[id] = cs
	}
	return cs
}

// authenticate reads the link and the body and verifies the signature.
func (s *Server) authenticate(r *http.Request) (chain.Link, []byte, *refusal) {
	link, err := chain.ParseHeaders(r.Header, r.URL.Query().Get("precision"))
	switch {
	case errors.Is(err, chain.ErrUnsigned):
		return link, nil, refuse(http.StatusUnauthorized, "unsigned", "%v: this ingest takes only signed writes from registered gateways", err)
	case err != nil:
		return link, nil, refuse(http.StatusBadRequest, "bad_link", "%v", err)
	}
	pub, err := s.cfg.Keys.Key(link.Centre)
	if err != nil {
		if errors.Is(err, ErrUnknownCentre) {
			return link, nil, refuse(http.StatusUnauthorized, "unknown_key", "centre %s has no gateway key in the registry: register the key printed by saqshy-gateway keygen", link.Centre)
		}
		return link, nil, refuse(http.StatusServiceUnavailable, "keys", "key lookup: %v", err)
	}
	body, ref := s.readBody(r)
	if ref != nil {
		return link, nil, ref
	}
	if err := link.Verify(pub, body); err != nil {
		if errors.Is(err, chain.ErrWrongKey) {
			return link, nil, refuse(http.StatusUnauthorized, "unknown_key", "%v: the request is not signed with centre %s's registered key", err, link.Centre)
		}
		return link, nil, refuse(http.StatusUnauthorized, "bad_signature", "%v", err)
	}
	return link, body, nil
}

// gzipReaders reuses gzip readers (their window and tables) across requests.
var gzipReaders sync.Pool

func (s *Server) readBody(r *http.Request) ([]byte, *refusal) {
	var rd io.Reader = r.Body
	size := 0 // a first guess of the uncompressed length
	switch ce := r.Header.Get("Content-Encoding"); ce {
	case "", "identity":
		if r.ContentLength > 0 && r.ContentLength <= s.cfg.MaxBody {
			size = int(r.ContentLength)
		}
	case "gzip":
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(r.Body)
		} else {
			err = zr.Reset(r.Body)
		}
		if err != nil {
			return nil, refuse(http.StatusBadRequest, "bad_body", "gzip body: %v", err)
		}
		defer gzipReaders.Put(zr)
		rd = zr
		if r.ContentLength > 0 {
			size = int(min(4*r.ContentLength, s.cfg.MaxBody))
		}
	default:
		return nil, refuse(http.StatusBadRequest, "bad_body", "Content-Encoding %q: want gzip or none", ce)
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(size+1, 512))) // +1: EOF is seen without growing
	_, err := buf.ReadFrom(io.LimitReader(rd, s.cfg.MaxBody+1))
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "bad_body", "read body: %v", err)
	}
	if int64(buf.Len()) > s.cfg.MaxBody {
		return nil, refuse(http.StatusRequestEntityTooLarge, "too_large", "body larger than %d bytes uncompressed: split the batch", s.cfg.MaxBody)
	}
	return buf.Bytes(), nil
}

// check applies the chain rules to an authentic link, forwards it when it passes,
// and updates hd. verdict "" means nothing is to be recorded (a retryable failure).
func (s *Server) check(ctx context.Context, hd *Head, l chain.Link, body []byte, now time.Time) (string, *refusal) {
	count := func(ref *refusal) (string, *refusal) {
		hd.Refused = maps.Clone(hd.Refused) // the map is shared with the head held (heads.current)
		if hd.Refused == nil {
			hd.Refused = map[string]uint64{}
		}
		hd.Refused[ref.reason]++
		return VerdictRefused, ref
	}
	if hd.Seq > 0 && l.Seq == hd.Seq && l.Hash() == hd.Hash {
		hd.Resends++
		return VerdictResend, nil
	}
	switch {
	case l.Seq <= hd.Seq:
		return count(refuse(http.StatusConflict, "replay", "centre %s link %d is a replay or older than the chain's head %d", l.Centre, l.Seq, hd.Seq))
	case l.Seq == hd.Seq+1 && l.Prev != hd.Hash:
		return count(refuse(http.StatusConflict, "fork", "centre %s link %d names previous hash %s, the chain's head %d is %s", l.Centre, l.Seq, l.Prev, hd.Seq, hd.Hash))
	}
	n, ref := s.checkPoints(hd, l, body, now)
	if ref != nil {
		if ref.reason == "backdate" {
			hd.Backdates += uint64(n)
		}
		return count(ref)
	}
	if err := s.cfg.Forward.Write(ctx, body, l.Precision); err != nil {
		var fe *ForwardError
		if errors.As(err, &fe) && fe.Refusal() {
			st := fe.Status
			if st != http.StatusRequestEntityTooLarge {
				st = http.StatusBadRequest
			}
			return count(refuse(st, "influxdb_refused", "InfluxDB refused the batch: %s", fe.Message))
		}
		return "", refuse(http.StatusServiceUnavailable, "influxdb_unavailable", "InfluxDB: %v; send the same batch again later", err)
	}
	if l.Seq > hd.Seq+1 {
		g := Gap{From: hd.Seq + 1, To: l.Seq - 1, At: now.UTC()}
		hd.Gaps = appendCapped(hd.Gaps, g, maxGaps)
		hd.GapsTotal += g.To - g.From + 1
		s.cfg.Log.Warn("ingest: sequence gap", "centre", l.Centre, "from", g.From, "to", g.To)
	}
	if !hd.LastContact.IsZero() && now.Sub(hd.LastContact) > s.cfg.QuietAfter {
		hd.Quiet = appendCapped(hd.Quiet, Span{From: hd.LastContact, To: now.UTC()}, maxQuiet)
	}
	hd.Seq, hd.Hash, hd.LastContact = l.Seq, l.Hash(), now.UTC()
	hd.Accepted++
	hd.Points += uint64(n)
	return VerdictAccepted, nil
}

func appendCapped[T any](s []T, v T, max int) []T {
	s = append(s, v)
	if len(s) > max {
		s = append(s[:0:0], s[len(s)-max:]...)
	}
	return s
}

var precisions = map[string]lineprotocol.Precision{
	"ns": lineprotocol.Nanosecond, "us": lineprotocol.Microsecond,
	"ms": lineprotocol.Millisecond, "s": lineprotocol.Second,
}

var (
	tagCentre = []byte("centre")
	tagPeriod = []byte("period")
)

// checkPoints checks every point: measurement allowed, centre tag, timestamp. It
// returns the number of points (of backdated ones when the refusal is a backdate).
func (s *Server) checkPoints(hd *Head, l chain.Link, body []byte, now time.Time) (int, *refusal) {
	dec := lineprotocol.NewDecoderWithBytes(body)
	prec := precisions[l.Precision]
	n, back := 0, 0
	var firstBack string
	for line := 1; dec.Next(); line++ {
		m, err := dec.Measurement()
		if err != nil {
			return 0, refuse(http.StatusBadRequest, "bad_line_protocol", "point %d: %v", line, err)
		}
		if !s.allowed[string(m)] {
			return 0, refuse(http.StatusForbidden, "forbidden_measurement", "point %d: measurement %q is not one a gateway may write", line, m)
		}
		var centre []byte
		dayScore := false
		for {
			k, v, err := dec.NextTag()
			if err != nil {
				return 0, refuse(http.StatusBadRequest, "bad_line_protocol", "point %d: %v", line, err)
			}
			if k == nil {
				break
			}
			switch {
			case bytes.Equal(k, tagCentre):
				centre = v
			case bytes.Equal(k, tagPeriod):
				dayScore = string(v) == "day"
			}
		}
		if centre == nil {
			return 0, refuse(http.StatusForbidden, "wrong_centre_tag", "point %d (%s) has no centre tag; every point must carry centre=%s", line, m, l.Centre)
		}
		if string(centre) != l.Centre {
			return 0, refuse(http.StatusForbidden, "wrong_centre_tag", "point %d (%s) is tagged centre=%s, but the request is signed by centre %s", line, m, centre, l.Centre)
		}
		for {
			k, _, err := dec.NextField()
			if err != nil {
				return 0, refuse(http.StatusBadRequest, "bad_line_protocol", "point %d: %v", line, err)
			}
			if k == nil {
				break
			}
		}
		t, err := dec.Time(prec, now)
		if err != nil {
			return 0, refuse(http.StatusBadRequest, "bad_line_protocol", "point %d: %v", line, err)
		}
		n++
		if t.After(now.Add(s.cfg.Grace)) {
			return 0, refuse(http.StatusUnprocessableEntity, "future", "point %d (%s) is at %s, more than %s ahead of the ingest's clock", line, m, t.UTC().Format(time.RFC3339), s.cfg.Grace)
		}
		if s.backdated(hd, string(m), dayScore, t) {
			if back == 0 {
				firstBack = fmt.Sprintf("point %d (%s) is at %s", line, m, t.UTC().Format(time.RFC3339))
			}
			back++
		}
	}
	if back > 0 {
		return back, refuse(http.StatusUnprocessableEntity, "backdate", "%d point(s) older than centre %s's last verified contact (%s) beyond the grace, outside any period it was quiet; first: %s",
			back, l.Centre, hd.LastContact.Format(time.RFC3339), firstBack)
	}
	return n, nil
}

// backdated reports whether a point at t is older than the centre's last verified
// contact beyond the grace, and outside every recent quiet period (whose backlog may
// come late). The first contact of a chain has nothing to compare with.
func (s *Server) backdated(hd *Head, m string, dayScore bool, t time.Time) bool {
	if hd.LastContact.IsZero() {
		return false
	}
	grace := s.cfg.Grace
	if dayScore && (m == "safety_score" || m == "coverage") { // both stamped at the local day's start
		grace = s.cfg.DayScoreGrace
	}
	if !t.Before(hd.LastContact.Add(-grace)) {
		return false
	}
	for _, q := range hd.Quiet {
		if !t.Before(q.From.Add(-s.cfg.Grace)) && !t.After(q.To) {
			return false
		}
	}
	return true
}
