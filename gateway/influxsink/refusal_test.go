package influxsink

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"
)

func ingestErr(status int, reason, msg string) error {
	h := http.Header{}
	if reason != "" {
		h.Set(ReasonHeader, reason)
	}
	return &http2.Error{StatusCode: status, Code: "refused", Message: msg, Header: h}
}

// TestIngestRefusalIsDeadLetteredNotRetried: a batch the ingest refuses for good
// (401/403/409/422 with a reason) goes to the dead-letter file with the reason and
// the fix, once, and the writer moves on.
func TestIngestRefusalIsDeadLetteredNotRetried(t *testing.T) {
	for _, tc := range []struct {
		status int
		reason string
		fix    string
	}{
		{401, "unknown_key", "register this gateway's key fingerprint abcdef0123456789"},
		{401, "bad_signature", "no proxy rewrites"},
		{403, "wrong_centre_tag", "centre.id"},
		{409, "replay", "sequence conflict"},
		{422, "backdate", "never set it back"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			q := newMemQueue(30)
			refuse := func([]string) error { return ingestErr(tc.status, tc.reason, "the ingest's words") }
			sw := &scriptWriter{script: []func([]string) error{refuse}}
			dead := filepath.Join(t.TempDir(), "deadletter.lp")
			w := noSleep(New(q, sw, Options{Centre: "c1", BatchSize: 10, DeadLetter: dead, KeyID: "abcdef0123456789"}))
			runUntil(t, w, q, func() bool { return q.Cursor() == 30 })
			st := w.Stats()
			if st.DeadLettered != 10 || st.Refused != 1 || st.Retries != 0 || sw.posts != 3 || sw.n() != 20 {
				t.Fatalf("stats %+v, posts %d, accepted %d", st, sw.posts, sw.n())
			}
			if st.RefusedWhy != "" {
				t.Errorf("RefusedWhy %q after later batches were accepted", st.RefusedWhy)
			}
			b, err := os.ReadFile(dead)
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			if !strings.Contains(s, "ingest refused the batch (HTTP ") || !strings.Contains(s, tc.reason) ||
				!strings.Contains(s, "the ingest's words") || !strings.Contains(s, tc.fix) || strings.Count(s, "\nclimate,") != 10 {
				t.Fatalf("dead-letter file:\n%s", s)
			}
		})
	}
}

// TestIngestRefusingEverythingEnds: an ingest that refuses every batch (a key not
// registered) does not make the writer loop: each batch is posted once and
// dead-lettered, and the refusal stays reported with the fix.
func TestIngestRefusingEverythingEnds(t *testing.T) {
	q := newMemQueue(100)
	sw := &scriptWriter{}
	for range 1000 {
		sw.script = append(sw.script, func([]string) error { return ingestErr(401, "unknown_key", "centre c1 has no gateway key") })
	}
	w := noSleep(New(q, sw, Options{Centre: "c1", BatchSize: 10, LiveLag: 1000, KeyID: "00112233aabbccdd"}))
	runUntil(t, w, q, func() bool { return q.Cursor() == 100 })
	st := w.Stats()
	if sw.posts != 10 || st.DeadLettered != 100 || st.Refused != 10 || st.RefusedAll != 0 {
		t.Fatalf("posts %d, stats %+v", sw.posts, st)
	}
	if !strings.Contains(st.RefusedWhy, "unknown_key") || !strings.Contains(st.RefusedWhy, "00112233aabbccdd") {
		t.Fatalf("RefusedWhy %q", st.RefusedWhy)
	}
}

// TestPlain401IsRetried: a 401 without the ingest's reason (a plain InfluxDB whose
// token is wrong) is retried as before: the token may be fixed without a restart.
func TestPlain401IsRetried(t *testing.T) {
	q := newMemQueue(10)
	sw := &scriptWriter{script: []func([]string) error{
		func([]string) error { return ingestErr(401, "", "unauthorized access") },
		func([]string) error { return ingestErr(401, "", "unauthorized access") },
	}}
	w := noSleep(New(q, sw, Options{Centre: "c1", BatchSize: 10}))
	runUntil(t, w, q, func() bool { return q.Cursor() == 10 })
	if st := w.Stats(); st.DeadLettered != 0 || st.Retries != 2 || sw.n() != 10 {
		t.Fatalf("stats %+v", st)
	}
}

// TestControlRefusedByIngestEnds: a malformed point is bisected down to one; the
// control point written again is then refused by the ingest for good (the key was
// revoked meanwhile). The point is dead-lettered with that reason instead of the
// batch being retried for ever.
func TestControlRefusedByIngestEnds(t *testing.T) {
	q := newMemQueue(10)
	sw := &scriptWriter{}
	w := noSleep(New(q, sw, Options{Centre: "c1", BatchSize: 10}))
	runUntil(t, w, q, func() bool { return q.Cursor() == 10 }) // a control exists
	q.add(ev(10))
	sw.mu.Lock()
	sw.script = []func([]string) error{
		func([]string) error { return ingestErr(400, "bad_line_protocol", "point 1: bad") },
		func([]string) error { return ingestErr(401, "unknown_key", "no key") },
	}
	sw.mu.Unlock()
	runUntil(t, w, q, func() bool { return q.Cursor() == 11 })
	if st := w.Stats(); st.DeadLettered != 1 || st.Refused != 1 || st.RefusedAll != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// pendingWriter is a scriptWriter with a pending link, as a signing client after a
// crash between send and answer.
type pendingWriter struct {
	scriptWriter
	pmu     sync.Mutex
	pending string
	first   string
}

func (p *pendingWriter) PendingBody() (string, bool) {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	return p.pending, p.pending != ""
}

func (p *pendingWriter) WriteRecord(ctx context.Context, body ...string) error {
	p.pmu.Lock()
	if p.first == "" {
		p.first = strings.Join(body, "\n")
	}
	p.pmu.Unlock()
	err := p.scriptWriter.WriteRecord(ctx, body...)
	if err == nil {
		p.pmu.Lock()
		p.pending = ""
		p.pmu.Unlock()
	}
	return err
}

// TestPendingLinkIsResentFirst: at start, the signing client's pending link is
// sent again byte for byte before any new batch, retried while the server fails.
func TestPendingLinkIsResentFirst(t *testing.T) {
	q := newMemQueue(20)
	const body = "climate,centre=c1,sensor=s-x temperature_c=1 1700000000000000000\n"
	pw := &pendingWriter{pending: body}
	pw.script = []func([]string) error{func([]string) error { return ingestErr(503, "influxdb_unavailable", "down") }}
	w := noSleep(New(q, pw, Options{Centre: "c1", BatchSize: 10}))
	runUntil(t, w, q, func() bool { return q.Cursor() == 20 })
	if pw.first != body {
		t.Fatalf("first POST %q, want the pending body", pw.first)
	}
	if pw.accepted[0] != body || pw.n() != 21 || pw.posts != 4 {
		t.Fatalf("accepted %d (first %q), posts %d", pw.n(), pw.accepted[0], pw.posts)
	}
}
