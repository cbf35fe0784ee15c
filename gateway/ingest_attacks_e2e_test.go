package gateway_test

// The attempts of issue 15 ("Trusted rating 2"), one test each, tried against the
// real ingest in front of the real InfluxDB; docs/RATING.md lists them.

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

// gatewayChain is a registered centre's own chain, driven by hand as the
// gateway's transport does (prepare, send, commit or drop as refused).
type gatewayChain struct {
	ie  *ingestEnv
	ch  *chain.Chain
	key ed25519.PrivateKey
}

func (ie *ingestEnv) chainFor(t *testing.T, centre string) *gatewayChain {
	t.Helper()
	_, key := ie.register(t, centre)
	ch, err := chain.Open(filepath.Join(t.TempDir(), "chain.json"), centre, key)
	if err != nil {
		t.Fatal(err)
	}
	return &gatewayChain{ie: ie, ch: ch, key: key}
}

// send writes body as the chain's next link; it returns the status and reason and
// the link sent.
func (gc *gatewayChain) send(t *testing.T, body string) (int, string, chain.Link) {
	t.Helper()
	l, err := gc.ch.Prepare([]byte(body), "ns")
	if err != nil {
		t.Fatal(err)
	}
	status, reason, _ := gc.ie.post(t, body, &l)
	switch {
	case status/100 == 2:
		err = gc.ch.Commit(l)
	case status/100 == 4:
		err = gc.ch.Refused(l)
	}
	if err != nil {
		t.Fatal(err)
	}
	return status, reason, l
}

func wantRefused(t *testing.T, what string, status int, reason string, wantStatus int, wantReason string) {
	t.Helper()
	if status != wantStatus || reason != wantReason {
		t.Fatalf("%s: HTTP %d %q, want %d %q", what, status, reason, wantStatus, wantReason)
	}
}

func scoreLine(centre string, total float64, at time.Time) string {
	return fmt.Sprintf("safety_score,centre=%s,period=day total=%g %d\n", centre, total, at.UnixNano())
}

func countScores(t *testing.T, in *testenv.Influx, centre string) int64 {
	t.Helper()
	return in.Count(t, "safety_score", "total", `"centre"='`+centre+`'`)
}

// TestAttackScoreWrittenStraight: 27 days of safety_score 100 written straight,
// without the gateway's key: unsigned → 401, signed by a key the registry does not
// hold for the centre → 401, the signed body swapped → 401. Nothing lands.
func TestAttackScoreWrittenStraight(t *testing.T) {
	in := testenv.StartInflux(t, "saqshy")
	ie := startIngest(t, in)
	gc := ie.chainFor(t, "honest-c1")
	day0 := time.Now().Add(-30 * 24 * time.Hour).Truncate(24 * time.Hour)
	var body strings.Builder
	for d := range 27 {
		body.WriteString(scoreLine("honest-c1", 100, day0.Add(time.Duration(d)*24*time.Hour)))
	}
	status, reason, _ := ie.post(t, body.String(), nil)
	wantRefused(t, "unsigned", status, reason, http.StatusUnauthorized, "unsigned")

	_, forger, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	l := chain.Link{Centre: "honest-c1", Seq: 1, Body: chain.BodyHash([]byte(body.String())), Precision: "ns"}
	l.Sign(forger)
	status, reason, _ = ie.post(t, body.String(), &l)
	wantRefused(t, "signed by another key", status, reason, http.StatusUnauthorized, "unknown_key")

	// An honest link taken, its headers reused for the forged body.
	honest := scoreLine("honest-c1", 41, time.Now().Add(-time.Hour))
	if status, _, _ := gc.send(t, honest); status != http.StatusNoContent {
		t.Fatalf("honest link: HTTP %d", status)
	}
	seq, prev := gc.ch.Head()
	swapped := chain.Link{Centre: "honest-c1", Seq: seq + 1, Prev: prev, Body: chain.BodyHash([]byte(honest)), Precision: "ns"}
	swapped.Sign(gc.key)
	status, reason, _ = ie.post(t, body.String(), &swapped)
	wantRefused(t, "signed link with the body swapped", status, reason, http.StatusUnauthorized, "bad_signature")

	if n := countScores(t, in, "honest-c1"); n != 1 {
		t.Fatalf("%d safety_score points, want only the honest one", n)
	}
}

// TestAttackDayOverwritten: a day's score of 41 (a scald cap) rewritten with 100 at
// the same timestamp: the taken link resent with the new body → 401, re-signed at
// the same sequence → 409 replay, and a day older than the grace rewritten in a
// new link → 422 backdate. The 41 stays.
func TestAttackDayOverwritten(t *testing.T) {
	in := testenv.StartInflux(t, "saqshy")
	ie := startIngest(t, in)
	gc := ie.chainFor(t, "scald-c1")
	old := time.Now().Add(-5 * 24 * time.Hour).Truncate(24 * time.Hour)
	if status, _, _ := gc.send(t, scoreLine("scald-c1", 41, old)); status != http.StatusNoContent {
		t.Fatalf("first contact: HTTP %d", status)
	}
	day := time.Now().Add(-20 * time.Hour).Truncate(time.Hour)
	status, _, taken := gc.send(t, scoreLine("scald-c1", 41, day))
	if status != http.StatusNoContent {
		t.Fatalf("day point: HTTP %d", status)
	}
	forged := scoreLine("scald-c1", 100, day)
	status, reason, _ := ie.post(t, forged, &taken)
	wantRefused(t, "the taken link with a new body", status, reason, http.StatusUnauthorized, "bad_signature")

	resigned := taken
	resigned.Body = chain.BodyHash([]byte(forged))
	resigned.Sign(gc.key)
	status, reason, _ = ie.post(t, forged, &resigned)
	wantRefused(t, "re-signed at the same sequence", status, reason, http.StatusConflict, "replay")

	status, reason, _ = gc.send(t, scoreLine("scald-c1", 100, old))
	wantRefused(t, "a closed day rewritten in a new link", status, reason, http.StatusUnprocessableEntity, "backdate")

	series, err := in.Query(context.Background(), `SELECT "total" FROM "safety_score" WHERE "centre"='scald-c1'`)
	if err != nil || len(series) != 1 || len(series[0].Values) != 2 {
		t.Fatalf("safety_score: %v %v", series, err)
	}
	for _, row := range series[0].Values {
		if fmt.Sprint(row[1]) != "41" {
			t.Fatalf("a day point was overwritten: %v", series[0].Values)
		}
	}
	h, _ := ie.head(t, "scald-c1")
	if h.Refused["replay"] != 1 || h.Refused["backdate"] != 1 || h.Backdates != 1 {
		t.Fatalf("the ingest did not record the attempts: %+v", h)
	}
}

// TestAttackRivalCentre: 30 days of total 20 for a rival centre: tagged with the
// rival's centre in one's own signed link → 403 wrong_centre_tag; sent as the
// rival's link with one's own key → 401 unknown_key. The rival has no points.
func TestAttackRivalCentre(t *testing.T) {
	in := testenv.StartInflux(t, "saqshy")
	ie := startIngest(t, in)
	me := ie.chainFor(t, "me-c1")
	ie.chainFor(t, "rival-c1")
	var body strings.Builder
	for d := range 30 {
		body.WriteString(scoreLine("rival-c1", 20, time.Now().Add(-time.Duration(d+1)*24*time.Hour).Truncate(24*time.Hour)))
	}
	status, reason, _ := me.send(t, body.String())
	wantRefused(t, "rival's points in one's own link", status, reason, http.StatusForbidden, "wrong_centre_tag")

	l := chain.Link{Centre: "rival-c1", Seq: 1, Body: chain.BodyHash([]byte(body.String())), Precision: "ns"}
	l.Sign(me.key)
	status, reason, _ = ie.post(t, body.String(), &l)
	wantRefused(t, "a link as the rival with one's own key", status, reason, http.StatusUnauthorized, "unknown_key")

	if n := countScores(t, in, "rival-c1"); n != 0 {
		t.Fatalf("%d safety_score points for the rival", n)
	}
}

// TestAttackForgedHeartbeat: a heartbeat (the gateway measurement) for a centre
// whose gateway is off: unsigned → 401, signed by another key → 401. The ingest's
// view of the centre (its last verified contact, which the monitor's silent-gateway
// watch reads) does not move, and nothing lands.
func TestAttackForgedHeartbeat(t *testing.T) {
	in := testenv.StartInflux(t, "saqshy")
	ie := startIngest(t, in)
	off := ie.chainFor(t, "off-c1")
	if status, _, _ := off.send(t, fmt.Sprintf("gateway,centre=off-c1 uptime_s=10i %d\n", time.Now().Add(-time.Hour).UnixNano())); status != http.StatusNoContent {
		t.Fatalf("last honest heartbeat: HTTP %d", status)
	}
	before, _ := ie.head(t, "off-c1")
	beat := fmt.Sprintf("gateway,centre=off-c1 uptime_s=99999i,mqtt_connected=true,influx_ok=true %d\n", time.Now().UnixNano())
	status, reason, _ := ie.post(t, beat, nil)
	wantRefused(t, "unsigned heartbeat", status, reason, http.StatusUnauthorized, "unsigned")
	_, other, _ := ed25519.GenerateKey(nil)
	seq, prev := off.ch.Head()
	l := chain.Link{Centre: "off-c1", Seq: seq + 1, Prev: prev, Body: chain.BodyHash([]byte(beat)), Precision: "ns"}
	l.Sign(other)
	status, reason, _ = ie.post(t, beat, &l)
	wantRefused(t, "heartbeat signed by another key", status, reason, http.StatusUnauthorized, "unknown_key")

	after, _ := ie.head(t, "off-c1")
	if !after.LastContact.Equal(before.LastContact) || after.Seq != before.Seq {
		t.Fatalf("a forged heartbeat moved the centre's last verified contact: %v → %v", before.LastContact, after.LastContact)
	}
	if n := in.Count(t, "gateway", "uptime_s", `"centre"='off-c1'`); n != 1 {
		t.Fatalf("%d heartbeats in InfluxDB, want the honest one", n)
	}
}

// backClock is the wall clock set back by a fixed offset, reported synchronised
// (what --assume-clock-synced gives a gateway whose clock was set back).
type backClock struct{ off time.Duration }

func (c backClock) Now() time.Time { return time.Now().Add(-c.off) }
func (c backClock) Synced() bool   { return true }

// TestAttackClockSetBack: the gateway's clock set back three days and in-band
// readings published for a closed day: the ingest refuses the backdated points
// (422 backdate, counted), the gateway dead-letters them with the reason and
// raises the uplink condition; nothing lands at the old time.
func TestAttackClockSetBack(t *testing.T) {
	e := newEnv(t)
	ie := startIngest(t, e.in)
	c := sim.NewFleet("clock-c1", 3, 5)
	ie.signedCentre(t, e, c, true)
	g, stop := startGateway(t, c)
	p := newPublisher(t, e.mq.URL())
	for _, r := range ticks(c, 0, 2, expectation{}) {
		p.send(r...)
	}
	p.flush()
	waitFor(t, 30*time.Second, "honest readings", func() bool { return g.Stats().Written > 0 && g.Stats().SpoolBacklog == 0 }, g)
	stop()
	if h, _ := ie.head(t, "clock-c1"); h.LastContact.IsZero() {
		t.Fatal("no verified contact")
	}
	honest := e.in.Count(t, "climate", "temperature_c", "")

	g2, err := gateway.New(c.Config, gateway.Options{Logger: testLogger(t), Clock: backClock{off: 72 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g2.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 20*time.Second, "gateway connected", func() bool { return g2.Stats().MQTTConnected })
	for _, r := range ticks(c, 2, 3, expectation{}) {
		p.send(r...)
	}
	p.flush()
	waitFor(t, 30*time.Second, "backdated batches refused", func() bool {
		return g2.Stats().DeadLettered > 0 && strings.Contains(g2.Stats().InfluxRefused, "backdate")
	}, g2)
	if !strings.Contains(g2.Stats().InfluxRefused, "never set it back") {
		t.Errorf("the refusal does not name the fix: %q", g2.Stats().InfluxRefused)
	}
	h, _ := ie.head(t, "clock-c1")
	if h.Backdates == 0 || h.Refused["backdate"] == 0 {
		t.Fatalf("the ingest did not count the backdate: %+v", h)
	}
	old := e.in.Count(t, "climate", "temperature_c", fmt.Sprintf("time < %d", time.Now().Add(-48*time.Hour).UnixNano()))
	if old != 0 {
		t.Fatalf("%d backdated readings landed", old)
	}
	if n := e.in.Count(t, "climate", "temperature_c", ""); n != honest {
		t.Fatalf("%d readings after the attempt, %d before", n, honest)
	}
	dl, err := os.ReadFile(filepath.Join(c.Config.Spool.Dir, "deadletter.lp"))
	if err != nil || !strings.Contains(string(dl), "HTTP 422 backdate") {
		t.Fatalf("dead-letter file: %v\n%.500s", err, dl)
	}
}
