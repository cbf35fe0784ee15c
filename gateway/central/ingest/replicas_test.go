package ingest_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/ingest"
	"github.com/saqshy/saqshy/gateway/chain"
)

// replica starts another ingest handler on the env's heads and archive
// directories (a second replica on shared disk) and returns its URL.
func (e *env) replica(t *testing.T) *httptest.Server {
	t.Helper()
	s, err := ingest.New(ingest.Config{
		Keys:       e.keys,
		Forward:    &ingest.Influx{URL: e.influx.URL(), Bucket: e.influx.Bucket()},
		ArchiveDir: e.archive, HeadsDir: e.heads,
		Now: func() time.Time { return e.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

// sendTo posts body with link l to one replica.
func (e *env) sendTo(t *testing.T, srv *httptest.Server, l chain.Link, body string) (int, string) {
	t.Helper()
	return sendURL(t, srv.URL, l, body)
}

// TestReplicasShareHeads: two ingest handlers on one heads directory (two
// replicas on shared disk, no routing by centre). A gateway's requests alternate
// between them, each link is also resent to the other replica, and then every
// link goes to both at once: the chain stays unbroken (no gap, no fork), no link
// is accepted twice, and the archive re-verifies.
func TestReplicasShareHeads(t *testing.T) {
	e := newEnv(t)
	g := e.gateway(t, "c1")
	reps := []*httptest.Server{e.srv, e.replica(t)}
	const alternating, raced = 12, 12
	for i := range alternating {
		body := climate("c1", i, e.now.Add(time.Duration(i)*time.Second)) + "\n"
		l, err := g.ch.Prepare([]byte(body), "ns")
		if err != nil {
			t.Fatal(err)
		}
		if st, r := e.sendTo(t, reps[i%2], l, body); st != http.StatusNoContent {
			t.Fatalf("link %d on replica %d: %d %s", l.Seq, i%2, st, r)
		}
		// The gateway did not see the 204 (timeout) and resends to the other one.
		if st, r := e.sendTo(t, reps[(i+1)%2], l, body); st != http.StatusNoContent {
			t.Fatalf("resend of link %d on replica %d: %d %s", l.Seq, (i+1)%2, st, r)
		}
		if err := g.ch.Commit(l); err != nil {
			t.Fatal(err)
		}
	}
	for i := alternating; i < alternating+raced; i++ {
		body := climate("c1", i, e.now.Add(time.Duration(i)*time.Second)) + "\n"
		l, err := g.ch.Prepare([]byte(body), "ns")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		st := make([]int, len(reps))
		errs := make([]error, len(reps))
		for j, srv := range reps {
			wg.Add(1)
			go func() { // no t.Fatal off the test's goroutine
				defer wg.Done()
				req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/v2/write?precision=ns", strings.NewReader(body))
				if err != nil {
					errs[j] = err
					return
				}
				l.SetHeaders(req.Header)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs[j] = err
					return
				}
				resp.Body.Close()
				st[j] = resp.StatusCode
			}()
		}
		wg.Wait()
		for j, s := range st {
			if errs[j] != nil || s != http.StatusNoContent {
				t.Fatalf("link %d sent to both replicas at once: replica %d answered %d (%v)", l.Seq, j, s, errs[j])
			}
		}
		if err := g.ch.Commit(l); err != nil {
			t.Fatal(err)
		}
	}
	const n = alternating + raced
	for j, srv := range reps {
		e.srv = srv
		hd := e.heads1(t, "c1")
		if hd.Seq != n || hd.Accepted != n || hd.Resends != n || hd.GapsTotal != 0 || len(hd.Refused) != 0 || hd.Points != n {
			t.Fatalf("replica %d's view of the head: seq %d accepted %d resends %d gaps %d refused %v points %d; want %d links accepted once, %d resends, no gap or refusal",
				j, hd.Seq, hd.Accepted, hd.Resends, hd.GapsTotal, hd.Refused, hd.Points, n, n)
		}
	}
	rep, err := ingest.Verify(e.archive, "c1", e.now.UTC().Format(time.DateOnly), e.keys)
	if err != nil {
		t.Fatalf("verify the shared archive: %v", err)
	}
	if rep.Accepted != n || rep.Resends != n || rep.Refused != 0 || len(rep.Gaps) != 0 || rep.LastSeq != n {
		t.Fatalf("verify report: %+v", rep)
	}
	if c := e.count(t, "climate", "temperature_c", "c1"); c != n {
		t.Fatalf("climate points in InfluxDB: %d, want %d", c, n)
	}
}

// TestNewMakesDirs: New creates missing heads and archive directories (the lock
// file lives in the heads directory from the first request on), and says which
// one it could not make.
func TestNewMakesDirs(t *testing.T) {
	dir := t.TempDir()
	cfg := ingest.Config{Keys: ingest.FileKeys{}, Forward: &ingest.Influx{URL: "http://127.0.0.1:1"},
		ArchiveDir: filepath.Join(dir, "a", "archive"), HeadsDir: filepath.Join(dir, "h", "heads")}
	if _, err := ingest.New(cfg); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{cfg.ArchiveDir, cfg.HeadsDir} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			t.Errorf("%s not made: %v", d, err)
		}
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	cfg.HeadsDir = filepath.Join(file, "heads")
	if _, err := ingest.New(cfg); err == nil || !strings.Contains(err.Error(), cfg.HeadsDir) {
		t.Errorf("heads dir under a file: %v, want an error naming %s", err, cfg.HeadsDir)
	}
}
