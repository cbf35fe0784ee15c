package gateway_test

// End to end through the ministry's verifying ingest (issue 15): real Mosquitto,
// real InfluxDB 1.8.10, the real ingest (gateway/central/ingest, in-process on a
// loopback port, forwarding to the test's InfluxDB) and the gateway signing every
// write with its key. The attacks of issue 15 are listed in docs/RATING.md.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/central/ingest"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/doctor"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

// ingestEnv is the ministry's side of a test: the ingest in front of the test's
// InfluxDB, with its key registry, archive and chain heads in temporary dirs.
type ingestEnv struct {
	t       *testing.T
	in      *testenv.Influx
	keys    ingest.FileKeys
	dir     string
	addr    string
	now     func() time.Time
	mu      sync.Mutex
	srv     *ingest.Server
	hs      *http.Server
	stopped chan struct{}
}

func startIngest(t *testing.T, in *testenv.Influx) *ingestEnv {
	t.Helper()
	ie := &ingestEnv{t: t, in: in, keys: ingest.FileKeys{}, dir: t.TempDir(),
		addr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), now: time.Now}
	ie.start()
	t.Cleanup(ie.stop)
	return ie
}

func (ie *ingestEnv) URL() string { return "http://" + ie.addr }

// start serves a new ingest.Server on the same address, archive and heads: a
// restarted ingest process.
func (ie *ingestEnv) start() {
	ie.t.Helper()
	srv, err := ingest.New(ingest.Config{Keys: ie.keys,
		Forward:    &ingest.Influx{URL: ie.in.URL(), Bucket: ie.in.Bucket()},
		ArchiveDir: filepath.Join(ie.dir, "archive"), HeadsDir: filepath.Join(ie.dir, "heads"),
		Now: func() time.Time { return ie.now() },
		Log: slog.New(slog.NewTextHandler(ie.t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		ie.t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ {
		if ln, err = net.Listen("tcp", ie.addr); err == nil {
			break
		}
		if i == 50 {
			ie.t.Fatalf("ingest listen: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	hs := &http.Server{Handler: srv}
	stopped := make(chan struct{})
	go func() { _ = hs.Serve(ln); close(stopped) }()
	ie.mu.Lock()
	ie.srv, ie.hs, ie.stopped = srv, hs, stopped
	ie.mu.Unlock()
}

// stop closes the ingest abruptly (connections cut, like a killed process).
func (ie *ingestEnv) stop() {
	ie.mu.Lock()
	hs, stopped := ie.hs, ie.stopped
	ie.hs = nil
	ie.mu.Unlock()
	if hs != nil {
		_ = hs.Close()
		<-stopped
	}
}

// register makes a key for centre and registers its public key; it returns the
// key file's path.
func (ie *ingestEnv) register(t *testing.T, centre string) (string, ed25519.PrivateKey) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.key")
	key, err := chain.GenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	ie.keys[centre] = key.Public().(ed25519.PublicKey)
	return path, key
}

// head returns the ingest's view of centre's chain, as GET /centres shows it.
func (ie *ingestEnv) head(t *testing.T, centre string) (ingest.Head, bool) {
	t.Helper()
	resp, err := http.Get(ie.URL() + "/centres")
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
			return h, true
		}
	}
	return ingest.Head{}, false
}

// post sends body to the ingest as a write, with link (nil: unsigned) and returns
// the status and the reason header.
func (ie *ingestEnv) post(t *testing.T, body string, link *chain.Link) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ie.URL()+"/api/v2/write?"+url.Values{"bucket": {ie.in.Bucket()}, "precision": {"ns"}}.Encode(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if link != nil {
		link.SetHeaders(req.Header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Saqshy-Reason"), string(msg)
}

// signedCentre configures c to sign with a key registered at ie (or not, when
// registered is false) and to write to the ingest.
func (ie *ingestEnv) signedCentre(t *testing.T, e env, c *sim.Centre, registered bool) (keyFile string, key ed25519.PrivateKey) {
	t.Helper()
	if registered {
		keyFile, key = ie.register(t, c.Config.Centre.ID)
	} else {
		keyFile = filepath.Join(t.TempDir(), "gateway.key")
		var err error
		if key, err = chain.GenerateKey(keyFile); err != nil {
			t.Fatal(err)
		}
	}
	spool := t.TempDir()
	c.Config.Influx.Sign.KeyFile = keyFile
	c.Config.Influx.Sign.ChainFile = filepath.Join(spool, "chain.json")
	e.configure(t, c, spool)
	c.Config.Influx.URL = ie.URL()
	return keyFile, key
}

func checkNoGap(t *testing.T, ie *ingestEnv, centre string) ingest.Head {
	t.Helper()
	h, ok := ie.head(t, centre)
	if !ok {
		t.Fatalf("the ingest has no chain for %s", centre)
	}
	if h.GapsTotal != 0 || len(h.Gaps) != 0 || len(h.Refused) != 0 {
		t.Fatalf("chain of %s: gaps %d %v, refused %v", centre, h.GapsTotal, h.Gaps, h.Refused)
	}
	return h
}

// TestIngestReadingsLandAndIngestRestartLosesNothing: readings go through the
// ingest into InfluxDB; the ingest is killed mid-stream and started again on the
// same heads and archive: every reading lands and the chain has no gap.
func TestIngestReadingsLandAndIngestRestartLosesNothing(t *testing.T) {
	e := newEnv(t)
	ie := startIngest(t, e.in)
	c := sim.NewFleet("ingest-c1", 10, 5)
	ie.signedCentre(t, e, c, true)
	g, stop := startGateway(t, c)
	defer stop()
	exp := expectation{}
	rounds := ticks(c, 0, 20, exp)
	p := newPublisher(t, e.mq.URL())
	for i, r := range rounds {
		p.send(r...)
		if i == 5 {
			p.flush()
			waitFor(t, 30*time.Second, "first readings through the ingest", func() bool { return g.Stats().Written > 0 }, g)
			ie.stop() // mid-stream
		}
		if i == 12 {
			time.Sleep(2 * time.Second) // the gateway retries against a dead ingest
			ie.start()
		}
	}
	p.flush()
	want := int64(len(c.Devices) * 20)
	waitFor(t, 90*time.Second, "every reading through the restarted ingest", func() bool {
		return e.in.Count(t, "climate", "temperature_c", "") >= want && g.Stats().SpoolBacklog == 0
	}, g)
	got, _ := landed(t, e.in)
	for s := range got {
		got[s] = dedup(got[s])
	}
	compare(t, exp, got)
	h := checkNoGap(t, ie, "ingest-c1")
	if st := g.Stats(); st.DeadLettered != 0 || st.InfluxRefused != "" || st.WriterRetries == 0 {
		t.Fatalf("dead-lettered %d, refused %q, %d retries (want some: the ingest was down)", st.DeadLettered, st.InfluxRefused, st.WriterRetries)
	}
	// The archive re-verifies: signatures, bodies and the chain of the day.
	day := time.Now().UTC().Format("2006-01-02")
	rep, err := ingest.Verify(filepath.Join(ie.dir, "archive"), "ingest-c1", day, ie.keys)
	if err != nil || len(rep.Gaps) != 0 || rep.Accepted == 0 {
		t.Fatalf("verify %s: %+v, %v", day, rep, err)
	}
	t.Logf("chain head %d, %d accepted, %d resends, %d points", h.Seq, h.Accepted, h.Resends, h.Points)
}

// TestIngestSIGKILLLosesNothing: TestSIGKILLLosesNothing through the ingest: the
// gateway process is killed twice mid-stream; every reading lands, with the same
// counts, and the ingest's chain shows no gap (a link pending at the kill is sent
// again byte for byte and taken once).
func TestIngestSIGKILLLosesNothing(t *testing.T) {
	bin := buildGateway(t)
	e := newEnv(t)
	ie := startIngest(t, e.in)
	c := sim.NewFleet("kill-ingest-c1", 40, 5)
	ie.signedCentre(t, e, c, true)
	cfgPath := filepath.Join(t.TempDir(), "centre.yaml")
	b, err := yaml.Marshal(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "run", "--config", cfgPath, "--assume-clock-synced", "--log-level", "warn", "--stats-every", "0")
		cmd.Stderr = t.Output()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	exp := expectation{}
	rounds := ticks(c, 0, 30, exp)
	p := newPublisher(t, e.mq.URL())
	gw := start()
	waitOnline(t, e.mq.URL(), "saqshy/kill-ingest-c1/gateway/status")
	for i, r := range rounds {
		p.send(r...)
		if i == 9 || i == 19 {
			if err := gw.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = gw.Wait()
			gw = start()
		}
	}
	p.flush()
	want := int64(len(c.Devices) * 30)
	defer func() { _ = gw.Process.Signal(syscall.SIGTERM); _ = gw.Wait() }()
	complete := func() (missing int) {
		got, _ := landed(t, e.in)
		for s, w := range exp {
			missing += max(0, len(w)-len(dedup(got[s])))
		}
		return missing
	}
	deadline := time.Now().Add(120 * time.Second)
	for e.in.Count(t, "climate", "temperature_c", "") < want || complete() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after two SIGKILLs, %d of %d readings never reached InfluxDB through the ingest", complete(), want)
		}
		time.Sleep(250 * time.Millisecond)
	}
	got, n := landed(t, e.in)
	for s := range got {
		got[s] = dedup(got[s])
	}
	compare(t, exp, got)
	h := checkNoGap(t, ie, "kill-ingest-c1")
	t.Logf("%d points for %d readings; chain head %d, %d accepted, %d exact resends", n, want, h.Seq, h.Accepted, h.Resends)
}

// TestIngestUnregisteredKey: a gateway whose key is not in the registry gets 401
// unknown_key; its batches go to the dead-letter file with the ingest's reason,
// are not retried for ever, raise the uplink condition, and doctor says to
// register the fingerprint. The key appears in no log, status or doctor output.
func TestIngestUnregisteredKey(t *testing.T) {
	e := newEnv(t)
	ie := startIngest(t, e.in)
	c := sim.NewFleet("unreg-c1", 4, 5)
	keyFile, key := ie.signedCentre(t, e, c, false)
	var logs lockedLog
	g, err := gateway.New(c.Config, gateway.Options{Clock: gateway.FixedSync(true),
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(&logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 20*time.Second, "gateway connected", func() bool { return g.Stats().MQTTConnected })
	p := newPublisher(t, e.mq.URL())
	for _, r := range ticks(c, 0, 3, expectation{}) {
		p.send(r...)
	}
	p.flush()
	waitFor(t, 30*time.Second, "batches dead-lettered", func() bool {
		st := g.Stats()
		return st.DeadLettered >= uint64(len(c.Devices)*3) && st.SpoolBacklog == 0
	}, g)
	st := g.Stats()
	if !strings.Contains(st.InfluxRefused, "unknown_key") || !strings.Contains(st.InfluxRefused, "register this gateway's key fingerprint") {
		t.Fatalf("InfluxRefused = %q, want the unknown_key reason and the fix", st.InfluxRefused)
	}
	fp := chain.Fingerprint(key.Public().(ed25519.PublicKey))
	if !strings.Contains(st.InfluxRefused, fp) {
		t.Errorf("the refusal does not name the fingerprint %s: %q", fp, st.InfluxRefused)
	}
	dl, err := os.ReadFile(filepath.Join(c.Config.Spool.Dir, "deadletter.lp"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dl, []byte("HTTP 401 unknown_key")) || !bytes.Contains(dl, []byte("climate,")) {
		t.Fatalf("dead-letter file lacks the reason or the points:\n%.600s", dl)
	}
	if n := e.in.Count(t, "climate", "temperature_c", ""); n != 0 {
		t.Fatalf("%d points of an unregistered gateway reached InfluxDB", n)
	}
	if _, ok := ie.head(t, "unreg-c1"); ok {
		t.Fatal("the ingest started a chain for an unregistered key")
	}
	// Not retried for ever: the writer's POSTs stop once the spool is drained.
	before := g.Stats().WriterRetries
	time.Sleep(1500 * time.Millisecond)
	if after := g.Stats().WriterRetries; after != before {
		t.Fatalf("refused batches are retried: %d retries, then %d", before, after)
	}
	// Doctor says which refusal, and prints the fingerprint, not the key.
	rep := &doctor.Report{}
	doctor.RunConfig(context.Background(), c.Config, doctor.Options{Listen: time.Second}, rep)
	ic, ok := rep.Get("influx")
	if !ok || ic.Status != doctor.Fail || !strings.Contains(ic.Title, "does not know this gateway's key") ||
		!strings.Contains(ic.Fix, "register this fingerprint ("+fp+")") {
		t.Fatalf("doctor's influx check: %+v", ic)
	}
	var out bytes.Buffer
	_, _ = rep.WriteTo(&out)
	// Registered now: doctor passes, and the chain still has no link from the probe.
	ie.keys["unreg-c1"] = key.Public().(ed25519.PublicKey)
	rep2 := &doctor.Report{}
	doctor.RunConfig(context.Background(), c.Config, doctor.Options{Listen: time.Second}, rep2)
	if ic, _ := rep2.Get("influx"); ic.Status != doctor.Pass || !strings.Contains(ic.Title, fp) {
		t.Fatalf("doctor after registration: %+v", ic)
	}
	_, _ = rep2.WriteTo(&out)
	if _, ok := ie.head(t, "unreg-c1"); ok {
		t.Fatal("doctor's probe started a chain at the ingest")
	}
	snap, _ := json.Marshal(g.Snapshot())
	assertNoPrivateKey(t, "logs, status snapshot and doctor output", logs.String()+string(snap)+out.String(), key, keyFile)

	// Once registered, the gateway stopped, the dead-letter file is replayed as new
	// links of the same chain: every reading lands and the chain has no gap.
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil // for the deferred receive
	bin := buildGateway(t)
	cfgPath := filepath.Join(t.TempDir(), "centre.yaml")
	b, err := yaml.Marshal(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	replay, err := exec.Command(bin, "deadletter", "replay", "--config", cfgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("deadletter replay: %v\n%s", err, replay)
	}
	assertNoPrivateKey(t, "deadletter replay output", string(replay)+strings.Repeat(" ", 100), key, keyFile)
	if n := e.in.Count(t, "climate", "temperature_c", ""); n != int64(len(c.Devices)*3) {
		t.Fatalf("%d readings after the replay, want %d:\n%s", n, len(c.Devices)*3, replay)
	}
	checkNoGap(t, ie, "unreg-c1")
}

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func assertNoPrivateKey(t *testing.T, what, text string, key ed25519.PrivateKey, path string) {
	t.Helper()
	pem, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(text) < 100 {
		t.Fatalf("%s: too little text to check (%d bytes)", what, len(text))
	}
	for _, l := range strings.Split(string(pem), "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") && strings.Contains(text, l) {
			t.Errorf("%s contain the private key file's text", what)
		}
	}
	for _, f := range []string{b64(key.Seed()), b64(key), fmt.Sprintf("%x", key.Seed()), "PRIVATE KEY-----"} {
		if strings.Contains(text, f) {
			t.Errorf("%s contain the private key (%.8s…)", what, f)
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
