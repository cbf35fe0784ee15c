package influxsink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/saqshy/saqshy/gateway/internal/clockx"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// lineWriter is the part of api.WriteAPIBlocking the writer uses: one POST per call.
// The writer passes one string holding every line of the batch, each ending in '\n'.
type lineWriter interface {
	WriteRecord(ctx context.Context, lines ...string) error
}

// pendingLink is implemented by a signing client ([NewSignedClient]): the body of
// the chain's link that was sent but not answered, to be sent again first.
type pendingLink interface {
	PendingBody() (string, bool)
}

// queue is the part of the spool the writer reads.
type queue interface {
	Read(from uint64, max int) ([]telemetry.Record, error)
	Wait(ctx context.Context, from uint64) error
	Commit(seq uint64) error
	Cursor() uint64
	Head() uint64
}

// Options configure a Writer. Zero values take the documented defaults.
type Options struct {
	Centre     string        // value of the centre tag; required
	BatchSize  int           // events per batch; default 5000
	LiveLag    uint64        // backlog (events) above which the live lane runs; default 2×BatchSize
	Timeout    time.Duration // per POST; default 10s
	MinBackoff time.Duration // first retry delay; default 1s
	MaxBackoff time.Duration // retry delay cap; default 30s
	DeadLetter string        // file that receives rejected points as line protocol; "" discards (still counted)
	KeyID      string        // fingerprint of the signing key, named in refusal messages; "" when unsigned
	// FlushEvery, when set, spaces the POSTs of a trickle: after a POST of fewer
	// than a hundredth of BatchSize events, the next one waits until FlushEvery has
	// passed or BatchSize events are ready, gathering what arrives meanwhile into
	// one request. A backlog, or a burst, is not delayed. Each POST costs a request
	// head of about 300 bytes on the uplink; at a centre's live rate that was more
	// than its gzip'd points (docs/BENCHMARKS.md).
	FlushEvery time.Duration
	Logger     *slog.Logger // default: discard
}

// gatherBurst is how long, at most, the writer waits after a POST in a burst for a
// full batch, counted from when that POST began (bounded by Options.FlushEvery):
// live data waits no longer than that.
const gatherBurst = 250 * time.Millisecond

// Stats are the writer's counters since it started.
type Stats struct {
	Points       uint64    // points InfluxDB accepted
	Batches      uint64    // successful POSTs
	LiveBatches  uint64    // of which sent by the live lane
	Retries      uint64    // failed POSTs that were retried
	DeadLettered uint64    // points InfluxDB rejected as malformed while it accepted others
	RefusedAll   uint64    // retries because InfluxDB (or a proxy) refused every point
	Refused      uint64    // batches the ministry's ingest refused (dead-lettered with its reason)
	RefusedWhy   string    // the last refusal, with the fix; "" after the ingest accepts a batch
	LastError    string    // the last write error, "" after a success
	LastSuccess  time.Time // when InfluxDB last accepted a batch
	FailingSince time.Time // first failure of the current run of failures; zero when healthy
}

// Writer moves events from the spool to InfluxDB. Run it in one goroutine.
type Writer struct {
	q   queue
	w   lineWriter
	opt Options
	log *slog.Logger

	mu      sync.Mutex
	stats   Stats
	control batch // a point InfluxDB accepted (see refused)

	live     []seqRange // ranges delivered by the live lane, ascending, above the backlog position
	liveNext uint64     // next seq the live lane would send
	enc      encoder
	sleep    func(ctx context.Context, d time.Duration) error
	deadMu   sync.Mutex
	deadFile io.WriteCloser
	deadOpen bool
	// pending: a link may be pending at the signing client (at start, and after
	// the live lane failed); it is resent before anything else.
	pending bool
}

type seqRange struct{ from, to uint64 } // [from, to)

// New returns a Writer reading q and writing through w (a [Client], in production).
func New(q queue, w lineWriter, opt Options) *Writer {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 5000
	}
	if opt.LiveLag == 0 {
		opt.LiveLag = 2 * uint64(opt.BatchSize)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 30 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Writer{
		q: q, w: w, opt: opt,
		log:     opt.Logger.With("component", "influxsink"),
		enc:     encoder{centre: opt.Centre},
		sleep:   clockx.Sleep,
		pending: true,
	}
}

// Stats returns a snapshot of the counters. Safe for concurrent use.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Run delivers events until ctx is cancelled; it returns nil then. It returns an
// error only if the spool fails.
func (w *Writer) Run(ctx context.Context) error {
	defer w.closeDeadLetter()
	next := w.q.Cursor()
	var trickle time.Time // when the last POST of a trickle (a small batch) was made
	var burst time.Time   // when the last POST of a burst (not a trickle) was made
	for {
		if err := w.resendPending(ctx); err != nil {
			return nil // ctx ended
		}
		if !burst.IsZero() && w.opt.FlushEvery > 0 && w.q.Head()-next < uint64(w.opt.BatchSize) {
			// In a burst (a drain after an outage), gather a full batch for up to
			// gatherBurst after the last POST: fewer, larger POSTs cost less CPU here
			// and in InfluxDB. Counting is cheap; reading the spool is not.
			if d := min(w.opt.FlushEvery, gatherBurst) - time.Since(burst); d > 0 {
				if err := w.sleep(ctx, min(d, 10*time.Millisecond)); err != nil {
					return nil
				}
				continue
			}
		}
		recs, err := w.q.Read(next, w.opt.BatchSize)
		if err != nil {
			return fmt.Errorf("influxsink: read spool: %w", err)
		}
		if len(recs) == 0 {
			if err := w.q.Wait(ctx, next); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("influxsink: wait spool: %w", err)
			}
			continue
		}
		if len(recs) < w.opt.BatchSize && !trickle.IsZero() && w.opt.FlushEvery > 0 {
			if d := w.opt.FlushEvery - time.Since(trickle); d > 0 {
				if err := w.sleep(ctx, min(d, max(w.opt.FlushEvery/50, 10*time.Millisecond))); err != nil {
					return nil // the events stay in the spool
				}
				continue // read again: more arrived meanwhile
			}
		}
		if len(recs) < max(1, w.opt.BatchSize/100) {
			trickle, burst = time.Now(), time.Time{}
		} else {
			trickle, burst = time.Time{}, time.Now()
		}
		end := recs[len(recs)-1].Seq + 1
		if err := w.deliver(ctx, w.skipLive(recs), false); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := w.q.Commit(end); err != nil {
			return fmt.Errorf("influxsink: commit spool: %w", err)
		}
		next = end
		w.pruneLive(next)
		if head := w.q.Head(); head > next && head-next > w.opt.LiveLag {
			w.sendLive(ctx, next, head)
		}
	}
}

// skipLive drops the records the live lane already delivered, in place (recs is
// the writer's own, fresh from the spool).
func (w *Writer) skipLive(recs []telemetry.Record) []telemetry.Record {
	if len(w.live) == 0 {
		return recs
	}
	out := recs[:0]
	for _, r := range recs {
		if !w.sentLive(r.Seq) {
			out = append(out, r)
		}
	}
	return out
}

func (w *Writer) sentLive(seq uint64) bool {
	for _, r := range w.live {
		if seq >= r.from && seq < r.to {
			return true
		}
		if seq < r.from {
			return false
		}
	}
	return false
}

func (w *Writer) pruneLive(next uint64) {
	i := 0
	for i < len(w.live) && w.live[i].to <= next {
		i++
	}
	w.live = w.live[i:]
}

// sendLive makes one attempt to deliver the newest batch. A failure is only logged:
// the backlog lane delivers those events later anyway.
func (w *Writer) sendLive(ctx context.Context, backlog, head uint64) {
	from := max(w.liveNext, backlog)
	if head-from > uint64(w.opt.BatchSize) {
		from = head - uint64(w.opt.BatchSize)
	}
	if from >= head {
		return
	}
	recs, err := w.q.Read(from, int(head-from))
	if err != nil || len(recs) == 0 {
		return
	}
	if err := w.deliver(ctx, recs, true); err != nil {
		w.pending = true
		return
	}
	to := recs[len(recs)-1].Seq + 1
	w.live = append(w.live, seqRange{recs[0].Seq, to})
	w.liveNext = to
}

// deliver writes recs. The backlog lane (live false) retries until InfluxDB accepts
// the batch or ctx ends; the live lane makes a single attempt.
func (w *Writer) deliver(ctx context.Context, recs []telemetry.Record, live bool) error {
	if len(recs) == 0 {
		return nil
	}
	pts := w.enc.encode(recs)
	if pts.len() == 0 {
		return nil
	}
	if live {
		err := w.post(ctx, pts)
		if err == nil {
			w.count(func(s *Stats) { s.LiveBatches++ })
		}
		return err
	}
	return w.writeAll(ctx, pts)
}

// resendPending sends the signing client's pending link again, byte for byte,
// until the server answers it: the ingest takes an exact resend of a link once,
// and the next link then follows it without a gap. Its points are still in the
// spool (the cursor advances only after a batch is accepted), so a refusal only
// drops the link: the points are sent again in a new one. It returns an error only
// when ctx ends.
func (w *Writer) resendPending(ctx context.Context) error {
	if !w.pending {
		return nil
	}
	pl, ok := w.w.(pendingLink)
	if !ok {
		w.pending = false
		return nil
	}
	for attempt := 0; ; attempt++ {
		body, ok := pl.PendingBody()
		if !ok {
			w.pending = false
			return nil
		}
		cctx, cancel := context.WithTimeout(ctx, w.opt.Timeout)
		err := w.w.WriteRecord(cctx, body)
		cancel()
		if err == nil {
			w.log.Info("resent the chain's pending link", "bytes", len(body))
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if st := statusOf(err); st >= 400 && st < 500 && st != http.StatusRequestTimeout && st != http.StatusTooManyRequests {
			w.log.Warn("the chain's pending link was refused on resend; its points are sent again in a new link", "err", err, "status", st)
			continue // the transport dropped it
		}
		d := w.backoff(attempt)
		w.count(func(s *Stats) { s.Retries++; s.LastError = err.Error() })
		w.log.Warn("resending the chain's pending link failed; will retry", "err", err, "retry_in", d.Round(time.Millisecond))
		if err := w.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// errRefusesAll is wrapped when InfluxDB, or a proxy in front of it, refused a point
// as malformed and then refused, or could not take, a point it had accepted before:
// the server is at fault, not the points.
var errRefusesAll = errors.New("influxdb refuses points it accepted before")

// writeAll writes pts until InfluxDB accepts them, or sets them aside in the
// dead-letter file when InfluxDB refuses them as malformed while it accepts others.
// When it refuses everything (a broken server, a misconfigured proxy answering 400 to
// every request), nothing is dead-lettered: the batch stays in the spool and is
// retried with backoff until the server takes it.
func (w *Writer) writeAll(ctx context.Context, pts batch) error {
	for attempt := 0; ; attempt++ {
		err := w.split(ctx, pts)
		if !errors.Is(err, errRefusesAll) {
			return err
		}
		d := w.backoff(attempt)
		w.count(func(s *Stats) { s.Retries++; s.RefusedAll++ })
		w.log.Error("InfluxDB, or a proxy in front of it, refuses every point as malformed; "+
			"keeping them in the spool and retrying: check the server and any proxy in front of it",
			"err", err, "points", pts.len(), "retry_in", d.Round(time.Millisecond))
		if err := w.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// split writes pts, retrying transient failures and splitting around malformed or
// oversized content.
func (w *Writer) split(ctx context.Context, pts batch) error {
	attempt := 0
	for {
		err := w.post(ctx, pts)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var he *http2.Error
		status := 0
		if errors.As(err, &he) {
			status = he.StatusCode
		}
		if ir := ingestRefusal(err); ir != nil {
			w.refusedByIngest(pts, ir)
			return nil
		}
		switch {
		case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
			if pts.len() == 1 {
				return w.refused(ctx, pts, err)
			}
			first, second := pts.halves()
			if err := w.split(ctx, first); err != nil {
				return err
			}
			return w.split(ctx, second)
		case status == http.StatusRequestEntityTooLarge && pts.len() > 1:
			first, second := pts.halves()
			if err := w.split(ctx, first); err != nil {
				return err
			}
			return w.split(ctx, second)
		}
		d := w.backoff(attempt)
		if he != nil && he.RetryAfter > 0 {
			d = max(d, time.Duration(he.RetryAfter)*time.Second)
		}
		attempt++
		w.count(func(s *Stats) { s.Retries++ })
		w.log.Warn("influxdb write failed; will retry", "err", err, "status", status,
			"points", pts.len(), "retry_in", d.Round(time.Millisecond))
		if err := w.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// refused handles a single point InfluxDB refused as malformed. It is dead-lettered
// only if the server then accepts the last point it accepted before (the control,
// written again: the same point overwrites itself) and still refuses this one. Else
// the server refuses everything and the batch is retried (errRefusesAll). Until a
// first point has been accepted there is no control, and a refused point is retried.
func (w *Writer) refused(ctx context.Context, p batch, cause error) error {
	w.mu.Lock()
	ctl := w.control
	w.mu.Unlock()
	if ctl.len() == 0 {
		return fmt.Errorf("%w (none accepted yet): %w", errRefusesAll, cause)
	}
	if err := w.post(ctx, ctl); err != nil {
		if ir := ingestRefusal(err); ir != nil {
			w.refusedByIngest(p, ir)
			return nil
		}
		return fmt.Errorf("%w: %w", errRefusesAll, err)
	}
	w.count(func(s *Stats) { s.Points--; s.Batches-- }) // the control was counted before
	err := w.post(ctx, p)
	if err == nil {
		return nil
	}
	if ir := ingestRefusal(err); ir != nil {
		w.refusedByIngest(p, ir)
		return nil
	}
	if status := statusOf(err); status != http.StatusBadRequest && status != http.StatusUnprocessableEntity {
		return fmt.Errorf("%w: %w", errRefusesAll, err)
	}
	w.deadLetter(p, err)
	return nil
}

func statusOf(err error) int {
	var he *http2.Error
	if errors.As(err, &he) {
		return he.StatusCode
	}
	return 0
}

// post makes one POST with the per-request timeout and records the outcome.
func (w *Writer) post(ctx context.Context, pts batch) error {
	cctx, cancel := context.WithTimeout(ctx, w.opt.Timeout)
	defer cancel()
	err := w.w.WriteRecord(cctx, pts.body())
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.stats.LastError = err.Error()
		if w.stats.FailingSince.IsZero() {
			w.stats.FailingSince = now
		}
		return err
	}
	if pts.len() > 0 {
		line := strings.Clone(pts.text[pts.start:pts.ends[0]])
		w.control = batch{text: line, ends: []int{len(line)}}
	}
	w.stats.Points += uint64(pts.len())
	w.stats.Batches++
	w.stats.RefusedWhy = ""
	w.stats.LastError = ""
	w.stats.LastSuccess = now
	w.stats.FailingSince = time.Time{}
	return nil
}

// backoff returns the delay before retry number attempt (0-based): exponential from
// MinBackoff to MaxBackoff with ±20 % jitter, so that many gateways coming back after
// a central outage do not retry in lockstep.
func (w *Writer) backoff(attempt int) time.Duration {
	d := w.opt.MinBackoff << min(attempt, 20)
	if d <= 0 || d > w.opt.MaxBackoff {
		d = w.opt.MaxBackoff
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

func (w *Writer) count(f func(*Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

// deadLetter appends rejected points to the dead-letter file, one comment line with
// the time and the server's reason, then the points as line protocol.
func (w *Writer) deadLetter(pts batch, cause error) {
	w.count(func(s *Stats) { s.DeadLettered += uint64(pts.len()) })
	w.log.Error("influxdb rejected points as malformed; set aside in the dead-letter file",
		"err", cause, "points", pts.len(), "file", w.opt.DeadLetter)
	w.appendDeadLetter(pts, cause)
}

func (w *Writer) appendDeadLetter(pts batch, cause error) {
	if w.opt.DeadLetter == "" {
		return
	}
	w.deadMu.Lock()
	defer w.deadMu.Unlock()
	if !w.deadOpen {
		f, err := os.OpenFile(w.opt.DeadLetter, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			w.log.Error("cannot open dead-letter file", "err", err, "file", w.opt.DeadLetter)
			return
		}
		w.deadFile, w.deadOpen = f, true
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "# %s %s\n", time.Now().UTC().Format(time.RFC3339), strings.ReplaceAll(cause.Error(), "\n", " "))
	sb.WriteString(pts.body())
	if _, err := io.WriteString(w.deadFile, sb.String()); err != nil {
		w.log.Error("cannot write dead-letter file", "err", err, "file", w.opt.DeadLetter)
	}
	if f, ok := w.deadFile.(*os.File); ok {
		_ = f.Sync()
	}
}

func (w *Writer) closeDeadLetter() {
	w.deadMu.Lock()
	defer w.deadMu.Unlock()
	if w.deadOpen {
		_ = w.deadFile.Close()
		w.deadOpen = false
	}
}
