package influxsink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// lyingProxy is a reverse proxy to target that answers 400 to every request while
// lying is set, as a misconfigured proxy or a broken server does.
func lyingProxy(t *testing.T, target string) (*httptest.Server, *atomic.Bool, *atomic.Int64) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var lying atomic.Bool
	var refused atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lying.Load() {
			refused.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintln(w, `{"error":"bad request"}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts, &lying, &refused
}

// TestBlanket400IsRetriedNotDeadLettered: a proxy in front of a real InfluxDB 1.8
// answers 400 to everything for a while. No point goes to the dead-letter file; all
// land once it heals. Before, every point of the batches sent meanwhile was bisected
// down to one and dead-lettered.
func TestBlanket400IsRetriedNotDeadLettered(t *testing.T) {
	in := testenv.StartInflux(t, "faults")
	proxy, lying, refused := lyingProxy(t, in.URL())
	const n = 3000
	q := newMemQueue(0)
	c := NewClient(proxy.URL, "", "", in.Bucket(), 5*time.Second)
	defer c.Close()
	dead := filepath.Join(t.TempDir(), "deadletter.lp")
	w := New(q, c, Options{Centre: "c1", BatchSize: 250, MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, DeadLetter: dead})

	for i := range n / 2 {
		q.add(ev(i))
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	waitFor(t, func() bool { return q.Cursor() == n/2 }) // a control point was accepted
	lying.Store(true)
	for i := n / 2; i < n; i++ {
		q.add(ev(i))
	}
	waitFor(t, func() bool { return refused.Load() > 50 })
	lying.Store(false)
	waitFor(t, func() bool { return q.Cursor() == n })
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.DeadLettered != 0 || st.RefusedAll == 0 {
		t.Fatalf("stats %+v", st)
	}
	if b, err := os.ReadFile(dead); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dead-letter file exists (%v):\n%.500s", err, b)
	}
	if got := in.Count(t, "climate", "temperature_c", ""); got != n {
		t.Fatalf("InfluxDB has %d points, want %d", got, n)
	}
}

// TestMalformedPointAloneIsDeadLettered: a point refused while the server accepts
// its control point is dead-lettered even when nothing else in its batch passes.
func TestMalformedPointAloneIsDeadLettered(t *testing.T) {
	q := newMemQueue(10)
	sw := &scriptWriter{}
	w := noSleep(New(q, sw, Options{Centre: "c1", BatchSize: 5}))
	runUntil(t, w, q, func() bool { return q.Cursor() == 10 })
	e := ev(10)
	e.Sensor = "poison"
	q.add(e)
	runUntil(t, w, q, func() bool { return q.Cursor() == 11 })
	if st := w.Stats(); st.DeadLettered != 1 || st.Points != 10 {
		t.Fatalf("stats %+v (the control point is not counted twice)", st)
	}
}

// TestRefusedAllScripted: every POST refused with 400 for a while: nothing is
// dead-lettered, everything is accepted after.
func TestRefusedAllScripted(t *testing.T) {
	q := newMemQueue(100)
	refuse := func([]string) error { return &http2.Error{StatusCode: 400, Message: "bad request"} }
	accept := func([]string) error { return nil }
	sw := &scriptWriter{script: []func([]string) error{accept}} // one accepted POST: a control exists
	for range 200 {
		sw.script = append(sw.script, refuse)
	}
	w := noSleep(New(q, sw, Options{Centre: "c1", BatchSize: 10}))
	runUntil(t, w, q, func() bool { return q.Cursor() == 100 })
	if st := w.Stats(); st.DeadLettered != 0 || sw.distinct() != 100 {
		t.Fatalf("stats %+v distinct %d", st, sw.distinct())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReplayFile: a dead-letter file is sent to a real InfluxDB 1.8 again (what
// `saqshy-gateway deadletter replay` does), with progress output; the file is renamed
// and the point refused again is kept, with the reason, in a .refused file.
func TestReplayFile(t *testing.T) {
	in := testenv.StartInflux(t, "replay")
	spoolDir := t.TempDir()
	var sb strings.Builder
	sb.WriteString("# 2026-01-01T00:00:00Z Unexpected status code 400: bad request\n")
	for i := range 100 {
		fmt.Fprintf(&sb, "climate,centre=c1,sensor=s-%d temperature_c=%d %d\n", i%7, i, 1_700_000_000_000_000_000+int64(i)*1_000_000)
		if i == 50 {
			sb.WriteString("climate,centre=c1,sensor=broken temperature_c=\"oops 1700000000000000000\n")
		}
	}
	dead := filepath.Join(spoolDir, "deadletter.lp")
	if err := os.WriteFile(dead, []byte(sb.String()), 0o640); err != nil {
		t.Fatal(err)
	}
	c := NewClient(in.URL(), "", "", in.Bucket(), 5*time.Second)
	defer c.Close()
	var out strings.Builder
	st, err := ReplayFile(t.Context(), c, dead, 40, &out)
	stdout := out.String()
	if err != nil || st != (ReplayStats{Points: 101, Sent: 100, Refused: 1}) || !strings.Contains(stdout, "sent 40, refused 0 of 40 points read") ||
		!strings.Contains(stdout, "done: 100 points sent, 1 refused again") {
		t.Fatalf("ReplayFile: %+v %v\n%s", st, err, stdout)
	}
	if got := in.Count(t, "climate", "temperature_c", ""); got != 100 {
		t.Fatalf("InfluxDB has %d points, want 100", got)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("dead-letter file still there: %v", err)
	}
	refused, _ := filepath.Glob(dead + ".refused-*")
	replayed, _ := filepath.Glob(dead + ".replayed-*")
	if len(refused) != 1 || len(replayed) != 1 {
		t.Fatalf("refused %v replayed %v", refused, replayed)
	}
	b, _ := os.ReadFile(refused[0])
	if !strings.Contains(string(b), "sensor=broken") || !strings.Contains(string(b), "# refused again:") {
		t.Fatalf("refused file:\n%s", b)
	}

}
