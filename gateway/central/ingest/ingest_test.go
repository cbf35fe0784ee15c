package ingest_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/saqshy/saqshy/gateway/central/ingest"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

type env struct {
	influx  *testenv.Influx
	keys    ingest.FileKeys
	archive string
	heads   string
	now     time.Time
	srv     *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{influx: testenv.StartInflux(t, "ingest"), keys: ingest.FileKeys{},
		archive: t.TempDir(), heads: t.TempDir(), now: time.Now()}
	e.start(t)
	return e
}

// start starts (or restarts, from the heads directory) the ingest.
func (e *env) start(t *testing.T) {
	t.Helper()
	if e.srv != nil {
		e.srv.Close()
	}
	s, err := ingest.New(ingest.Config{
		Keys:       e.keys,
		Forward:    &ingest.Influx{URL: e.influx.URL(), Bucket: e.influx.Bucket()},
		ArchiveDir: e.archive, HeadsDir: e.heads,
		Now: func() time.Time { return e.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(s)
	t.Cleanup(e.srv.Close)
}

type gw struct {
	centre string
	key    ed25519.PrivateKey
	ch     *chain.Chain
	state  string
}

func (e *env) gateway(t *testing.T, centre string) *gw {
	t.Helper()
	dir := t.TempDir()
	key, err := chain.GenerateKey(filepath.Join(dir, "gateway.key"))
	if err != nil {
		t.Fatal(err)
	}
	e.keys[centre] = key.Public().(ed25519.PublicKey)
	g := &gw{centre: centre, key: key, state: filepath.Join(dir, "chain.json")}
	if g.ch, err = chain.Open(g.state, centre, key); err != nil {
		t.Fatal(err)
	}
	return g
}

// post sends body signed with the gateway's next link; it returns the status and
// the reason code of a refusal.
func (e *env) post(t *testing.T, g *gw, body string) (int, string) {
	t.Helper()
	l, err := g.ch.Prepare([]byte(body), "ns")
	if err != nil {
		t.Fatal(err)
	}
	st, reason := e.send(t, l, body)
	switch {
	case st/100 == 2:
		err = g.ch.Commit(l)
	case st/100 == 4:
		err = g.ch.Refused(l)
	}
	if err != nil {
		t.Fatal(err)
	}
	return st, reason
}

// send posts body with link l as is.
func (e *env) send(t *testing.T, l chain.Link, body string) (int, string) {
	t.Helper()
	return sendURL(t, e.srv.URL, l, body)
}

// sendURL posts body with link l as is to the ingest at base.
func sendURL(t *testing.T, base string, l chain.Link, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/v2/write?org=o&bucket=b&precision=ns", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	l.SetHeaders(req.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		var m struct{ Code, Message, Reason string }
		if err := json.Unmarshal(msg, &m); err != nil || m.Message == "" || m.Code == "" {
			t.Fatalf("status %d without an InfluxDB-style JSON reason: %q", resp.StatusCode, msg)
		}
		t.Logf("%d %s: %s", resp.StatusCode, m.Reason, m.Message)
		return resp.StatusCode, m.Reason
	}
	return resp.StatusCode, ""
}

func (e *env) count(t *testing.T, m, field, centre string) int64 {
	return e.influx.Count(t, m, field, fmt.Sprintf("centre = '%s'", centre))
}

func climate(centre string, i int, t time.Time) string {
	return fmt.Sprintf("climate,centre=%s,zone=room-%d temperature_c=%d.5 %d", centre, i, 20+i%5, t.UnixNano())
}

func TestSignedChainLandsAndReplaysAreRefused(t *testing.T) {
	e := newEnv(t)
	g := e.gateway(t, "c1")
	var bodies []string
	for i := range 3 {
		b := climate("c1", i, e.now.Add(time.Duration(i)*time.Second)) + "\n"
		bodies = append(bodies, b)
		if st, r := e.post(t, g, b); st != http.StatusNoContent {
			t.Fatalf("link %d: %d %s", i+1, st, r)
		}
	}
	if n := e.count(t, "climate", "temperature_c", "c1"); n != 3 {
		t.Fatalf("climate points: %d, want 3", n)
	}
	// A replay of link 1, byte for byte, is older than the head: refused.
	l1 := chain.Link{Centre: "c1", Seq: 1, Body: chain.BodyHash([]byte(bodies[0])), Precision: "ns"}
	l1.Sign(g.key)
	if st, r := e.send(t, l1, bodies[0]); st != http.StatusConflict || r != "replay" {
		t.Fatalf("replay of link 1: %d %s, want 409 replay", st, r)
	}
	// A fork: link 4 naming a wrong previous hash.
	l4 := chain.Link{Centre: "c1", Seq: 4, Prev: l1.Hash(), Body: chain.BodyHash([]byte(bodies[0])), Precision: "ns"}
	l4.Sign(g.key)
	if st, r := e.send(t, l4, bodies[0]); st != http.StatusConflict || r != "fork" {
		t.Fatalf("fork: %d %s, want 409 fork", st, r)
	}

	// An exact resend of the head (the gateway killed between send and commit):
	// accepted once, not written twice.
	body := "device,centre=c1,device=d1 battery_pct=80i " + fmt.Sprint(e.now.UnixNano()) + "\n"
	l, err := g.ch.Prepare([]byte(body), "ns")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := e.send(t, l, body); st != http.StatusNoContent {
		t.Fatalf("link 4: %d", st)
	}
	// restart: the pending link comes back from the state file
	g.ch, err = chain.Open(g.state, "c1", g.key)
	if err != nil {
		t.Fatal(err)
	}
	pl, pbody, ok := g.ch.Pending()
	if !ok || string(pbody) != body || pl.Hash() != l.Hash() {
		t.Fatalf("pending after restart: %v %q", ok, pbody)
	}
	same, err := g.ch.Prepare(pbody, "ns")
	if err != nil || string(same.Signature) != string(l.Signature) || same.Seq != l.Seq {
		t.Fatalf("resend is not the same link: %+v %v", same, err)
	}
	// Drop the data in InfluxDB to see that the resend is not forwarded again.
	if _, err := e.influx.Query(t.Context(), "DELETE FROM device"); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.send(t, same, body); st != http.StatusNoContent {
		t.Fatalf("exact resend: %d, want 204", st)
	}
	if n := e.count(t, "device", "battery_pct", "c1"); n != 0 {
		t.Fatalf("the resend was written again: %d device points", n)
	}
	if err := g.ch.Commit(same); err != nil {
		t.Fatal(err)
	}
	// A second resend of the same link is still the head: 204 again, nothing written.
	if st, _ := e.send(t, same, body); st != http.StatusNoContent {
		t.Fatalf("second resend: %d", st)
	}

	// The ingest restarts from its heads directory and the chain continues.
	e.start(t)
	if st, r := e.post(t, g, climate("c1", 9, e.now)); st != http.StatusNoContent {
		t.Fatalf("after ingest restart: %d %s", st, r)
	}
	if st, r := e.send(t, l1, bodies[0]); st != http.StatusConflict {
		t.Fatalf("replay after ingest restart: %d %s", st, r)
	}
	hs := e.heads1(t, "c1")
	if hs.Seq != 5 || hs.Resends != 2 || hs.Refused["replay"] != 2 || hs.Refused["fork"] != 1 {
		t.Fatalf("head: %+v", hs)
	}

	rep, err := ingest.Verify(e.archive, "c1", e.now.UTC().Format(time.DateOnly), e.keys)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if rep.Accepted != 5 || rep.FirstSeq != 1 || rep.LastSeq != 5 || rep.Resends != 2 || rep.Refused != 3 || len(rep.Gaps) != 0 {
		t.Fatalf("verify report: %+v", rep)
	}
}

func (e *env) heads1(t *testing.T, centre string) ingest.Head {
	t.Helper()
	return headOf(t, e.srv.URL, centre)
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	g := e.gateway(t, "c1")
	e.gateway(t, "c2")
	if st, r := e.post(t, g, climate("c1", 1, e.now)); st != http.StatusNoContent {
		t.Fatalf("first link: %d %s", st, r)
	}

	// Signed with a key that is not the registered one.
	_, other, _ := ed25519.GenerateKey(nil)
	body := climate("c1", 2, e.now)
	seq, head := g.ch.Head()
	forged := chain.Link{Centre: "c1", Seq: seq + 1, Prev: head, Body: chain.BodyHash([]byte(body)), Precision: "ns"}
	forged.Sign(other)
	if st, r := e.send(t, forged, body); st != http.StatusUnauthorized || r != "unknown_key" {
		t.Fatalf("forged key: %d %s", st, r)
	}
	// The right key id but a signature that does not verify.
	bad := forged
	bad.Key = chain.Fingerprint(e.keys["c1"])
	if st, r := e.send(t, bad, body); st != http.StatusUnauthorized || r != "bad_signature" {
		t.Fatalf("bad signature: %d %s", st, r)
	}
	// A body changed after signing.
	good := forged
	good.Sign(g.key)
	if st, r := e.send(t, good, body+"climate,centre=c1 temperature_c=99 1\n"); st != http.StatusUnauthorized || r != "bad_signature" {
		t.Fatalf("changed body: %d %s", st, r)
	}
	// An unknown centre.
	_, r := e.send(t, chain.Link{Centre: "nobody", Seq: 1, Signature: make([]byte, 64), Key: strings.Repeat("0", 16)}, body)
	if r != "unknown_key" {
		t.Fatalf("unknown centre: %s", r)
	}
	// Unsigned.
	resp, err := http.Post(e.srv.URL+"/api/v2/write?bucket=b", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned: %d", resp.StatusCode)
	}

	// A point of another centre in an otherwise good batch: 403, nothing lands.
	mixed := climate("c1", 3, e.now) + "\n" + "safety_score,centre=c2,period=day total=20 " + fmt.Sprint(e.now.UnixNano()) + "\n"
	if st, r := e.post(t, g, mixed); st != http.StatusForbidden || r != "wrong_centre_tag" {
		t.Fatalf("other centre's tag: %d %s", st, r)
	}
	noTag := "climate,zone=z temperature_c=1 " + fmt.Sprint(e.now.UnixNano())
	if st, r := e.post(t, g, noTag); st != http.StatusForbidden || r != "wrong_centre_tag" {
		t.Fatalf("no centre tag: %d %s", st, r)
	}
	if st, r := e.post(t, g, "secrets,centre=c1 x=1 "+fmt.Sprint(e.now.UnixNano())); st != http.StatusForbidden || r != "forbidden_measurement" {
		t.Fatalf("forbidden measurement: %d %s", st, r)
	}
	if n := e.count(t, "climate", "temperature_c", "c1"); n != 1 {
		t.Fatalf("climate points of c1: %d, want 1", n)
	}
	if n := e.count(t, "safety_score", "total", "c2"); n != 0 {
		t.Fatalf("c2's score was written: %d", n)
	}

	// Backdates: the centre was in contact at now; a day later (after a quiet
	// day) a live score point from a week ago is refused, a day point of
	// yesterday and backlog of the quiet day are accepted.
	e.now = e.now.Add(24 * time.Hour)
	old := e.now.Add(-7 * 24 * time.Hour)
	if st, r := e.post(t, g, fmt.Sprintf("safety_score,centre=c1,period=live total=100 %d", old.UnixNano())); st != http.StatusUnprocessableEntity || r != "backdate" {
		t.Fatalf("backdated score: %d %s", st, r)
	}
	if st, r := e.post(t, g, fmt.Sprintf("safety_score,centre=c1,period=day total=100 %d", old.UnixNano())); st != http.StatusUnprocessableEntity || r != "backdate" {
		t.Fatalf("backdated day score: %d %s", st, r)
	}
	backlog := fmt.Sprintf("climate,centre=c1,zone=z temperature_c=21 %d\nsafety_score,centre=c1,period=day total=70 %d\n",
		e.now.Add(-12*time.Hour).UnixNano(), e.now.Add(-30*time.Hour).UnixNano())
	if st, r := e.post(t, g, backlog); st != http.StatusNoContent {
		t.Fatalf("backlog of the quiet day: %d %s", st, r)
	}
	// Now in contact again: the quiet day's backlog still comes in, a point from
	// before it does not.
	e.now = e.now.Add(time.Minute)
	if st, r := e.post(t, g, fmt.Sprintf("climate,centre=c1,zone=z temperature_c=22 %d", e.now.Add(-6*time.Hour).UnixNano())); st != http.StatusNoContent {
		t.Fatalf("more backlog: %d %s", st, r)
	}
	if st, r := e.post(t, g, fmt.Sprintf("climate,centre=c1,zone=z temperature_c=22 %d", e.now.Add(-26*time.Hour).UnixNano())); st != http.StatusUnprocessableEntity || r != "backdate" {
		t.Fatalf("point before the quiet day: %d %s", st, r)
	}
	if st, r := e.post(t, g, fmt.Sprintf("climate,centre=c1,zone=z temperature_c=22 %d", e.now.Add(time.Hour).UnixNano())); st != http.StatusUnprocessableEntity || r != "future" {
		t.Fatalf("point from the future: %d %s", st, r)
	}
	if n := e.count(t, "safety_score", "total", "c1"); n != 1 {
		t.Fatalf("score points of c1: %d, want 1 (the day point of the quiet day)", n)
	}
	hd := e.heads1(t, "c1")
	if hd.Backdates != 3 || hd.Refused["backdate"] != 3 || hd.Seq != 3 || len(hd.Quiet) != 1 {
		t.Fatalf("head: %+v", hd)
	}

	// A gap: the gateway lost link 4 (sent, never arrived, not refused).
	lost, err := g.ch.Prepare([]byte(climate("c1", 5, e.now)), "ns")
	if err != nil {
		t.Fatal(err)
	}
	_ = lost
	if st, r := e.post(t, g, climate("c1", 6, e.now)); st != http.StatusNoContent {
		t.Fatalf("after a lost link: %d %s", st, r)
	}
	hd = e.heads1(t, "c1")
	if hd.GapsTotal != 1 || len(hd.Gaps) != 1 || hd.Gaps[0].From != 4 || hd.Seq != 5 {
		t.Fatalf("gap not recorded: %+v", hd)
	}
}

func TestArchiveVerifyDetectsTampering(t *testing.T) {
	e := newEnv(t)
	g := e.gateway(t, "c1")
	for i := range 3 {
		if st, r := e.post(t, g, climate("c1", i, e.now)); st != http.StatusNoContent {
			t.Fatalf("%d %s", st, r)
		}
	}
	day := e.now.UTC().Format(time.DateOnly)
	if _, err := ingest.Verify(e.archive, "c1", day, e.keys); err != nil {
		t.Fatalf("untouched archive: %v", err)
	}
	path := ingest.DayFile(e.archive, "c1", day)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Change one digit of the second record's temperature.
	i := strings.Index(string(orig), "zone=room-1 temperature_c=2") + len("zone=room-1 temperature_c=2")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"a body byte", replaceByte(orig, i, '9'), "body sha256"},
		{"a header byte", []byte(strings.Replace(string(orig), `"seq":2`, `"seq":3`, 1)), "bad link signature"},
		{"a record removed", cut(orig, "zone=room-1"), "records are missing"},
		{"cut in its last record", orig[:len(orig)-5], "ends in an incomplete record"}, // ErrTornTail: TestTornTailBeforeNextDay
	} {
		if err := os.WriteFile(path, tc.data, 0o640); err != nil {
			t.Fatal(err)
		}
		_, err := ingest.Verify(e.archive, "c1", day, e.keys)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

func replaceByte(b []byte, i int, c byte) []byte {
	out := append([]byte(nil), b...)
	out[i] = c
	return out
}

// cut removes the record (header line and body line) whose body contains s.
func cut(b []byte, s string) []byte {
	lines := strings.SplitAfter(string(b), "\n")
	for i := 1; i < len(lines); i++ {
		if strings.Contains(lines[i], s) {
			return []byte(strings.Join(append(lines[:i-1:i-1], lines[i+1:]...), ""))
		}
	}
	panic("no record with " + s)
}

// A real influxdb-client-go write goes through chain.Transport (with the
// influxsink-style gzip transport beneath it) and arrives signed.
func TestInfluxClientThroughTransport(t *testing.T) {
	e := newEnv(t)
	g := e.gateway(t, "c1")
	opts := influxdb2.DefaultOptions().SetPrecision(time.Nanosecond).SetHTTPRequestTimeout(5)
	hc := opts.HTTPClient()
	hc.Transport = &chain.Transport{Chain: g.ch, Next: &gzipRT{next: hc.Transport}}
	c := influxdb2.NewClientWithOptions(e.srv.URL, "", opts)
	defer c.Close()
	w := c.WriteAPIBlocking("o", "b")
	ctx := context.Background()
	for i := range 3 {
		if err := w.WriteRecord(ctx, climate("c1", i, e.now), climate("c1", i+10, e.now)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if n := e.count(t, "climate", "temperature_c", "c1"); n != 6 {
		t.Fatalf("points: %d, want 6", n)
	}
	if seq, _ := g.ch.Head(); seq != 3 {
		t.Fatalf("chain head %d, want 3", seq)
	}
	if _, _, ok := g.ch.Pending(); ok {
		t.Fatal("a link is still pending after 204")
	}
	// A refusal reaches the library's error with the ingest's message, and the
	// chain goes on without a gap.
	err := w.WriteRecord(ctx, "climate,centre=c2 temperature_c=1 "+fmt.Sprint(e.now.UnixNano()))
	if err == nil || !strings.Contains(err.Error(), "centre=c2") {
		t.Fatalf("refused write: %v", err)
	}
	if err := w.WriteRecord(ctx, climate("c1", 20, e.now)); err != nil {
		t.Fatal(err)
	}
	if hd := e.heads1(t, "c1"); hd.Seq != 4 || hd.GapsTotal != 0 {
		t.Fatalf("head: %+v", hd)
	}
	if ok, err := c.Ping(ctx); !ok || err != nil {
		t.Fatalf("ping through the transport: %v %v", ok, err)
	}
}
