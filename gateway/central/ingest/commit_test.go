package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// TestHeadLog: a head log's last complete line is the head; a torn last line (a
// crash mid-append) is read as the line before it and the next change replaces the
// file; the old one-object format is read; the log is replaced by its last line
// before it grows past headsRotate.
func TestHeadLog(t *testing.T) {
	h := heads{t.TempDir()}
	reopen := func() (*headFile, Head) {
		t.Helper()
		hf, hd, err := h.open("c1")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { hf.Close() })
		return hf, hd
	}
	change := func(seq uint64) {
		t.Helper()
		hf, hd := reopen()
		hd.Seq, hd.Accepted = seq, seq
		if err := hf.append(hd); err != nil {
			t.Fatal(err)
		}
		hf.Close()
	}
	if _, hd := reopen(); hd.Seq != 0 || hd.Centre != "c1" {
		t.Fatalf("a centre never seen: %+v", hd)
	}
	os.WriteFile(h.path("c1"), nil, 0o640) // made, killed before its first line
	if _, hd := reopen(); hd.Seq != 0 || hd.Centre != "c1" {
		t.Fatalf("an empty head log: %+v", hd)
	}
	for seq := uint64(1); seq <= 3; seq++ {
		change(seq)
	}
	if _, hd := reopen(); hd.Seq != 3 {
		t.Fatalf("after 3 changes the head is seq %d", hd.Seq)
	}
	if data, _ := os.ReadFile(h.path("c1")); bytes.Count(data, []byte{'\n'}) != 3 {
		t.Fatalf("the log has %d lines, want 3 appended: %q", bytes.Count(data, []byte{'\n'}), data)
	}

	f, _ := os.OpenFile(h.path("c1"), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"centre":"c1","seq":4,"hash":"`) // torn: killed mid-append
	f.Close()
	hf, hd := reopen()
	if hd.Seq != 3 || !hf.rotate {
		t.Fatalf("torn last line: head seq %d, rotate %v; want seq 3 and the file replaced on the next change", hd.Seq, hf.rotate)
	}
	hf.Close()
	change(4)
	if _, hd := reopen(); hd.Seq != 4 {
		t.Fatalf("after a change following a torn line the head is seq %d, want 4", hd.Seq)
	}

	old, _ := json.MarshalIndent(Head{Centre: "c1", Seq: 9}, "", "  ") // before head logs
	os.WriteFile(h.path("c1"), old, 0o640)
	if hf, hd := reopen(); hd.Seq != 9 || !hf.rotate {
		t.Fatalf("old format: seq %d rotate %v", hd.Seq, hf.rotate)
	}
	change(10)
	if _, hd := reopen(); hd.Seq != 10 {
		t.Fatalf("old format then a change: seq %d", hd.Seq)
	}

	for seq := uint64(11); seq < 11+2*headsRotate/100; seq++ {
		change(seq)
		if st, _ := os.Stat(h.path("c1")); st.Size() > headsRotate {
			t.Fatalf("the log grew to %d bytes, past %d", st.Size(), headsRotate)
		}
	}
	if hs, err := h.all(); err != nil || len(hs) != 1 || hs[0].Seq != 10+2*headsRotate/100 {
		t.Fatalf("all: %+v %v", hs, err)
	}
}

// TestSyncerGroupCommit: requests that ask while a round of fsyncs runs share the
// next round (their fsyncs run together); none returns before its own file was
// fsynced; a failed fsync is the error of its request only.
func TestSyncerGroupCommit(t *testing.T) {
	dir := t.TempDir()
	s := newSyncer()
	first := make(chan struct{})
	var mu sync.Mutex
	synced := map[string]bool{}
	var inFlight, peak atomic.Int32
	s.fsync = func(f *os.File) error {
		if strings.HasSuffix(f.Name(), "first") {
			<-first
		}
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		mu.Lock()
		synced[f.Name()] = true
		mu.Unlock()
		if strings.HasSuffix(f.Name(), "bad") {
			return errors.New("EIO")
		}
		return nil
	}
	open := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	firstDone := make(chan error)
	go func() { firstDone <- s.sync([]string{dir}, open("first")) }()
	for s.mu.Lock(); !s.running; s.mu.Lock() { // the first round has begun
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	s.mu.Unlock()
	const n = 30
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		name := fmt.Sprint(i)
		if i == 7 {
			name += "-bad"
		}
		a, b := open(name+"-archive"), open(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.sync(nil, a, nil, b)
			mu.Lock()
			defer mu.Unlock()
			if !synced[a.Name()] || !synced[b.Name()] {
				errs[i] = fmt.Errorf("returned before its fsyncs: %v %v", synced[a.Name()], synced[b.Name()])
			}
		}()
	}
	for s.mu.Lock(); len(s.next) < n; s.mu.Lock() { // all queued behind the first round
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	s.mu.Unlock()
	close(first)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 7) != (err != nil) || (err != nil && !strings.Contains(err.Error(), "7-bad")) {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if p := peak.Load(); p != 2*n {
		t.Errorf("at most %d fsyncs ran at once; want the %d of the second round together", p, 2*n)
	}
}

// TestFsyncFailureIsNotAcknowledged: when the archive's or the head's fsync fails
// the request is answered 503 (the gateway sends it again), and the resend is
// acknowledged once the disk works: the archive re-verifies, the chain unbroken.
func TestFsyncFailureIsNotAcknowledged(t *testing.T) {
	in := testenv.StartInflux(t, "commit")
	dir := t.TempDir()
	_, key, _ := ed25519.GenerateKey(nil)
	keys := FileKeys{"c1": key.Public().(ed25519.PublicKey)}
	s, err := New(Config{Keys: keys, Forward: &Influx{URL: in.URL(), Bucket: in.Bucket()},
		ArchiveDir: filepath.Join(dir, "archive"), HeadsDir: filepath.Join(dir, "heads")})
	if err != nil {
		t.Fatal(err)
	}
	var failing atomic.Value // the path part whose fsync fails
	failing.Store("")
	s.syncer.fsync = func(f *os.File) error {
		if p := failing.Load().(string); p != "" && strings.Contains(f.Name(), p) {
			return errors.New("input/output error")
		}
		return f.Sync()
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var prev chain.Hash
	post := func(seq uint64, body string) (int, string) {
		l := chain.Link{Centre: "c1", Seq: seq, Prev: prev, Body: chain.BodyHash([]byte(body)), Precision: "ns"}
		l.Sign(key)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v2/write?precision=ns", strings.NewReader(body))
		l.SetHeaders(req.Header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNoContent {
			prev = l.Hash()
		}
		return resp.StatusCode, resp.Header.Get("X-Saqshy-Reason")
	}
	now := time.Now()
	for seq, fail := range []string{"", "archive", "heads"} {
		body := fmt.Sprintf("climate,centre=c1,zone=z temperature_c=%d.5 %d\n", seq, now.Add(time.Duration(seq)*time.Second).UnixNano())
		if fail != "" {
			failing.Store(string(filepath.Separator) + fail + string(filepath.Separator))
			if st, reason := post(uint64(seq+1), body); st != http.StatusServiceUnavailable || reason != map[string]string{"archive": "archive", "heads": "head"}[fail] {
				t.Fatalf("link %d with the %s fsync failing: %d %s, want 503", seq+1, fail, st, reason)
			}
			failing.Store("")
		}
		if st, reason := post(uint64(seq+1), body); st != http.StatusNoContent {
			t.Fatalf("link %d: %d %s", seq+1, st, reason)
		}
	}
	hd, err := s.heads.load("c1")
	if err != nil || hd.Seq != 3 || hd.Points != 3 || hd.GapsTotal != 0 || len(hd.Refused) != 0 {
		t.Fatalf("head %+v %v", hd, err)
	}
	rep, err := Verify(filepath.Join(dir, "archive"), "c1", now.UTC().Format(time.DateOnly), keys)
	if err != nil || rep.Accepted != 3 || rep.LastSeq != 3 || len(rep.Gaps) != 0 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// counting is a Forwarder in front of the real one that counts its writes and can
// hold the first until told.
type counting struct {
	next   Forwarder
	writes atomic.Int32
	hold   chan struct{}
}

func (c *counting) Write(ctx context.Context, body []byte, precision string) error {
	if c.writes.Add(1) == 1 && c.hold != nil {
		<-c.hold
	}
	return c.next.Write(ctx, body, precision)
}

// TestCoalescerJoinsWrites: requests that queue while InfluxDB is busy go in one
// write; when InfluxDB refuses the joined write for one request's points (a field
// type conflict), that request alone is refused and the others' points land.
func TestCoalescerJoinsWrites(t *testing.T) {
	in := testenv.StartInflux(t, "coalesce")
	inf := &Influx{URL: in.URL(), Bucket: in.Bucket()}
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour).UnixNano()
	if err := inf.Write(ctx, fmt.Appendf(nil, "climate,centre=c0 temperature_c=1.5 %d\n", t0), "ns"); err != nil {
		t.Fatal(err)
	}
	cnt := &counting{next: inf, hold: make(chan struct{})}
	c := newCoalescer(cnt)
	c.slots = 1
	const n = 30
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	write := func(i int, body []byte) {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.Write(ctx, body, "ns") }()
	}
	write(0, fmt.Appendf(nil, "climate,centre=c0 temperature_c=2.5 %d", t0+1))
	for c.mu.Lock(); c.busy == 0 || len(c.queue) > 0; c.mu.Lock() { // the first is being written
		c.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	c.mu.Unlock()
	for i := 1; i <= n; i++ {
		body := fmt.Appendf(nil, "climate,centre=c%d temperature_c=%d.5 %d\n", i, i, t0)
		if i == 13 {
			body = fmt.Appendf(nil, "climate,centre=c0 temperature_c=\"warm\" %d\n", t0+2)
		}
		write(i, body)
	}
	for c.mu.Lock(); len(c.queue) < n; c.mu.Lock() {
		c.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	c.mu.Unlock()
	close(cnt.hold)
	wg.Wait()
	for i, err := range errs {
		var fe *ForwardError
		if i == 13 {
			if !errors.As(err, &fe) || !fe.Refusal() {
				t.Errorf("the request with the conflicting field: %v, want InfluxDB's refusal", err)
			}
		} else if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	// 1 alone, 1 joined (refused), then each of the n again alone.
	if w := cnt.writes.Load(); w != 2+n {
		t.Errorf("%d writes to InfluxDB, want %d", w, 2+n)
	}
	if got := in.Count(t, "climate", "temperature_c", "centre != 'c0'"); got != n-1 {
		t.Errorf("%d points of c1..c%d in InfluxDB, want %d", got, n, n-1)
	}
}

// TestOpenFilesBounded: at most Config.OpenCentres centres keep their files open
// between requests (least recently used closed first), and a centre whose files
// were closed, or whose head another replica changed, goes on where it was.
func TestOpenFilesBounded(t *testing.T) {
	in := testenv.StartInflux(t, "lru")
	dir := t.TempDir()
	archive, headsDir := filepath.Join(dir, "archive"), filepath.Join(dir, "heads")
	keys := FileKeys{}
	privs := map[string]ed25519.PrivateKey{}
	for i := range 5 {
		_, key, _ := ed25519.GenerateKey(nil)
		c := fmt.Sprintf("c%d", i)
		keys[c], privs[c] = key.Public().(ed25519.PublicKey), key
	}
	newServer := func() *Server {
		s, err := New(Config{Keys: keys, Forward: &Influx{URL: in.URL(), Bucket: in.Bucket()},
			ArchiveDir: archive, HeadsDir: headsDir, OpenCentres: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := httptest.NewServer(newServer()), httptest.NewServer(newServer()) // two replicas
	defer a.Close()
	defer b.Close()
	prev := map[string]chain.Hash{}
	now := time.Now()
	post := func(base, c string, seq uint64) {
		t.Helper()
		body := fmt.Sprintf("climate,centre=%s,zone=z temperature_c=1.5 %d\n", c, now.Add(time.Duration(seq)*time.Second).UnixNano())
		l := chain.Link{Centre: c, Seq: seq, Prev: prev[c], Body: chain.BodyHash([]byte(body)), Precision: "ns"}
		l.Sign(privs[c])
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v2/write?precision=ns", strings.NewReader(body))
		l.SetHeaders(req.Header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s link %d via %s: %d %s", c, seq, base, resp.StatusCode, resp.Header.Get("X-Saqshy-Reason"))
		}
		prev[c] = l.Hash()
	}
	openUnder := func() int {
		ents, _ := os.ReadDir("/proc/self/fd")
		n := 0
		for _, e := range ents {
			if p, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(p, dir) {
				n++
			}
		}
		return n
	}
	for seq := uint64(1); seq <= 4; seq++ {
		for i := range 5 {
			base := a.URL
			if (int(seq)+i)%2 == 0 {
				base = b.URL // the replicas take turns: each sees the other's changes
			}
			post(base, fmt.Sprintf("c%d", i), seq)
		}
		if n := openUnder(); n > 2*2*3 {
			t.Fatalf("%d files open under the test's directories; want at most 3 for each of 2 centres in each of 2 replicas", n)
		}
	}
	for seq := uint64(5); seq <= 8; seq++ { // one centre, files open in both replicas
		post([]string{a.URL, b.URL}[seq%2], "c0", seq)
	}
	for i := range 5 {
		c := fmt.Sprintf("c%d", i)
		rep, err := Verify(archive, c, now.UTC().Format(time.DateOnly), keys)
		want := 4
		if i == 0 {
			want = 8
		}
		if err != nil || rep.Accepted != want || len(rep.Gaps) != 0 {
			t.Errorf("verify %s: %+v %v", c, rep, err)
		}
	}
}

// TestOpenCentresWithinFileLimit: open_centres larger than the open-file limit
// leaves room for (three descriptors a centre, a quarter spare) is lowered with a
// warning that names the limit, instead of failing accepts and opens later with
// "too many open files".
func TestOpenCentresWithinFileLimit(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	for _, c := range []struct {
		want  int
		limit uint64
		got   int
	}{
		{4096, 1 << 20, 4096},
		{4096, 20000, 4096},
		{20000, 20000, 5000},
		{20000, 65536, 16384},
		{20000, 262144, 20000},
		{10, 100, 1},
	} {
		logs.Reset()
		if got := openCentresWithin(c.want, c.limit, log); got != c.got {
			t.Errorf("open_centres %d, nofile %d: %d, want %d", c.want, c.limit, got, c.got)
		}
		if warned := strings.Contains(logs.String(), "LimitNOFILE"); warned != (c.got < c.want) {
			t.Errorf("open_centres %d, nofile %d: warned %v: %q", c.want, c.limit, warned, logs.String())
		}
	}
}
