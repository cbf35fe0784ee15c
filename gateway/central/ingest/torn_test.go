package ingest_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/ingest"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// bigBody is a batch whose archive record spans several pages.
func bigBody(centre string, k int, t time.Time) string {
	var b strings.Builder
	for p := range 80 {
		fmt.Fprintf(&b, "climate,centre=%s,sensor=room-%03d-t,source=zigbee2mqtt,zone=room-%03d,zone_kind=living temperature_c=21.%d %d\n",
			centre, p, p, k, t.Add(time.Duration(k*100+p)*time.Millisecond).UnixNano())
	}
	return b.String()
}

// TestTornArchiveRecordAfterSIGKILL: an ingest process is SIGKILLed in the middle
// of writing a record larger than a page (made here as the crash leaves it: the
// day file cut in the middle of its last record, the head as it was before that
// request); Verify tells the torn tail apart (ErrTornTail, the records before it
// intact). The ingest is started again, the gateway resends its unanswered link,
// the ingest truncates the torn record (logged, counted in the head) and accepts
// the resend; the day verifies intact with every link once.
func TestTornArchiveRecordAfterSIGKILL(t *testing.T) {
	in := testenv.StartInflux(t, "torn")
	dir := t.TempDir()
	archive, heads := filepath.Join(dir, "archive"), filepath.Join(dir, "heads")
	_, key, _ := ed25519.GenerateKey(nil)
	g := &benchGW{id: "kz-torn", key: key}
	keysPath := filepath.Join(dir, "keys")
	os.WriteFile(keysPath, []byte(g.id+" "+chain.PublicKeyString(key.Public().(ed25519.PublicKey))+"\n"), 0o600)
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	logPath := filepath.Join(dir, "ingest.log")
	cmd := startChild(t, addr, in, archive, heads, keysPath, logPath, 0)
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	start := time.Now().Add(-time.Minute)
	for k := range 3 {
		if st := sendNext(t, "http://"+addr, g, bigBody(g.id, k, start)); st != http.StatusNoContent {
			t.Fatalf("link %d: %d", k+1, st)
		}
	}
	day := time.Now().UTC().Format(time.DateOnly)
	path := ingest.DayFile(archive, g.id, day)
	headPath := filepath.Join(heads, g.id+".json")
	before, _ := os.ReadFile(path)
	headBefore, _ := os.ReadFile(headPath)

	// Link 4 is written; the ingest dies with its record half on disk and the head
	// not saved: the gateway never had an answer.
	body4 := bigBody(g.id, 3, start)
	l4 := nextLink(g, body4)
	if st, _ := sendURL(t, "http://"+addr, l4, body4); st != http.StatusNoContent {
		t.Fatalf("link 4: %d", st)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	after, _ := os.ReadFile(path)
	rec := len(after) - len(before)
	if rec <= 4096 {
		t.Fatalf("link 4's record has %d bytes: not larger than a page", rec)
	}
	cutAt := int64(len(before) + 4096 + 100)
	if err := os.Truncate(path, cutAt); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(headPath, headBefore, 0o640)

	ks, err := ingest.LoadKeys(keysPath)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ingest.Verify(archive, g.id, day, ks)
	if !errors.Is(err, ingest.ErrTornTail) || rep.Accepted != 3 || rep.TornTail != cutAt-int64(len(before)) {
		t.Fatalf("verify with a torn tail: %+v, %v; want ErrTornTail after 3 intact links", rep, err)
	}

	cmd = startChild(t, addr, in, archive, heads, keysPath, logPath, 0)
	if st, _ := sendURL(t, "http://"+addr, l4, body4); st != http.StatusNoContent { // the spool's resend
		t.Fatalf("resend of link 4 after the restart: %d", st)
	}
	g.seq, g.prev = l4.Seq, l4.Hash()
	if st := sendNext(t, "http://"+addr, g, bigBody(g.id, 4, start)); st != http.StatusNoContent {
		t.Fatalf("link 5: %d", st)
	}
	rep, err = ingest.Verify(archive, g.id, day, ks)
	if err != nil || rep.Accepted != 5 || rep.Resends != 0 || rep.LastSeq != 5 || len(rep.Gaps) != 0 {
		t.Fatalf("verify after the resend: %+v, %v; want 5 links intact", rep, err)
	}
	hd := headOf(t, "http://"+addr, g.id)
	if hd.Seq != 5 || hd.TornTails != 1 || hd.ArchiveDay != day {
		t.Errorf("head: %+v; want seq 5, one torn tail truncated", hd)
	}
	if log, _ := os.ReadFile(logPath); !bytes.Contains(log, []byte("truncated a torn archive record")) {
		t.Errorf("the ingest did not log the truncation:\n%s", log)
	}
	if got := in.Count(t, "climate", "temperature_c", ""); got != 5*80 {
		t.Errorf("InfluxDB has %d points, want 400", got)
	}
}

// TestTornTailBeforeNextDay: a torn record at the end of one day whose resend
// lands the next day is truncated before the next day's file is written, so that
// both days verify intact and chained; a day file cut mid-record while a later
// day follows is tampering, not a torn tail.
func TestTornTailBeforeNextDay(t *testing.T) {
	e := newEnv(t)
	g := e.gateway(t, "c1")
	e.now = time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
	e.start(t)
	for k := range 2 {
		if st, r := e.post(t, g, bigBody("c1", k, e.now)); st != http.StatusNoContent {
			t.Fatalf("%d %s", st, r)
		}
	}
	d1, d2 := "2026-03-01", "2026-03-02"
	path := ingest.DayFile(e.archive, "c1", d1)
	headPath := filepath.Join(e.heads, "c1.json")
	before, _ := os.ReadFile(path)
	headBefore, _ := os.ReadFile(headPath)
	body := bigBody("c1", 2, e.now)
	l, err := g.ch.Prepare([]byte(body), "ns")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := e.send(t, l, body); st != http.StatusNoContent {
		t.Fatal(st)
	}
	// The crash: the record cut mid-way, the head not saved.
	os.Truncate(path, int64(len(before)+5000))
	os.WriteFile(headPath, headBefore, 0o640)

	e.now = e.now.Add(2 * time.Minute) // the resend comes after midnight
	e.start(t)
	if st, _ := e.send(t, l, body); st != http.StatusNoContent {
		t.Fatalf("resend: %d", st)
	}
	g.ch.Commit(l)
	for _, d := range []struct {
		day   string
		links int
	}{{d1, 2}, {d2, 1}} {
		rep, err := ingest.Verify(e.archive, "c1", d.day, e.keys)
		if err != nil || rep.Accepted != d.links {
			t.Errorf("verify %s: %+v, %v; want %d links intact", d.day, rep, err, d.links)
		}
	}
	if hd := e.heads1(t, "c1"); hd.TornTails != 1 || hd.ArchiveDay != d2 {
		t.Errorf("head: %+v", hd)
	}

	// Cut the first day mid-record now that the second follows: tampering.
	os.Truncate(path, int64(len(before)-100))
	_, err = ingest.Verify(e.archive, "c1", d1, e.keys)
	if err == nil || errors.Is(err, ingest.ErrTornTail) || !strings.Contains(err.Error(), "goes on in "+d2) {
		t.Errorf("a day cut before a later day: %v; want tampering", err)
	}
	if _, err = ingest.Verify(e.archive, "c1", d2, e.keys); err == nil || errors.Is(err, ingest.ErrTornTail) {
		t.Errorf("the day after a cut day: %v; want tampering", err)
	}
}

// nextLink signs g's next link for body (g's chain advances when it is answered).
func nextLink(g *benchGW, body string) chain.Link {
	l := chain.Link{Centre: g.id, Seq: g.seq + 1, Prev: g.prev, Body: chain.BodyHash([]byte(body)), Precision: "ns"}
	l.Sign(g.key)
	return l
}

// sendNext sends body as g's next link; an answered link advances g's chain.
func sendNext(t *testing.T, base string, g *benchGW, body string) int {
	t.Helper()
	l := nextLink(g, body)
	st, _ := sendURL(t, base, l, body)
	if st == http.StatusNoContent {
		g.seq, g.prev = l.Seq, l.Hash()
	}
	return st
}

// headOf returns centre's head from the ingest at base.
func headOf(t *testing.T, base, centre string) ingest.Head {
	t.Helper()
	resp, err := http.Get(base + "/centres")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var hs []ingest.Head
	if err := json.NewDecoder(resp.Body).Decode(&hs); err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.Centre == centre {
			return h
		}
	}
	t.Fatalf("no head for %s in /centres", centre)
	return ingest.Head{}
}
