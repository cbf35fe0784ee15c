package gateway_test

// End to end through the ministry's verifying ingest (issue 15): real Mosquitto,
// real InfluxDB 1.8.10, the real ingest (the saqshy-ingest command, built and run
// as a child process on a loopback port, forwarding to the test's InfluxDB) and
// the gateway signing every write with its key. The attacks of issue 15 are listed in docs/RATING.md.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/central/ingest"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

// ingestEnv is the ministry's side of a test: a saqshy-ingest process (the built
// command, as deployed) in front of the test's InfluxDB, with its key registry,
// archive and chain heads in a temporary dir.
type ingestEnv struct {
	t    *testing.T
	in   *testenv.Influx
	bin  string
	dir  string
	addr string
	keys ingest.FileKeys // what the keys file holds
	proc *testenv.Process
}

func startIngest(t *testing.T, in *testenv.Influx) *ingestEnv {
	t.Helper()
	ie := &ingestEnv{t: t, in: in, bin: testenv.BuildCommand(t, "saqshy-ingest"), keys: ingest.FileKeys{}, dir: t.TempDir(),
		addr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	ie.writeKeys()
	cfg := fmt.Sprintf("listen: %q\ninflux: {url: %q, bucket: %q}\narchive_dir: %q\nheads_dir: %q\nkeys_file: %q\n",
		ie.addr, in.URL(), in.Bucket(), ie.archive(), filepath.Join(ie.dir, "heads"), filepath.Join(ie.dir, "keys"))
	cfgPath := filepath.Join(ie.dir, "ingest.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ie.proc = testenv.StartProcess(t, "saqshy-ingest", ie.bin, ie.addr, "serve", "--config", cfgPath)
	return ie
}

func (ie *ingestEnv) URL() string     { return "http://" + ie.addr }
func (ie *ingestEnv) archive() string { return filepath.Join(ie.dir, "archive") }

// kill SIGKILLs the ingest process; start starts it again on the same address,
// archive and heads.
func (ie *ingestEnv) kill()  { ie.proc.Kill() }
func (ie *ingestEnv) start() { ie.t.Helper(); ie.proc.Start() }

func (ie *ingestEnv) writeKeys() {
	ie.t.Helper()
	var b strings.Builder
	for centre, pub := range ie.keys {
		fmt.Fprintf(&b, "%s %s\n", centre, chain.PublicKeyString(pub))
	}
	if err := os.WriteFile(filepath.Join(ie.dir, "keys"), []byte(b.String()), 0o600); err != nil {
		ie.t.Fatal(err)
	}
}

// setKey registers pub for centre: the keys file is rewritten and the ingest,
// which reads it at start, restarted.
func (ie *ingestEnv) setKey(centre string, pub ed25519.PublicKey) {
	ie.t.Helper()
	ie.keys[centre] = pub
	ie.writeKeys()
	ie.proc.Stop()
	ie.proc.Start()
}

// verify runs `saqshy-ingest verify` for centre's day; it returns the exit code and
// the output.
func (ie *ingestEnv) verify(t *testing.T, centre, day string) (int, string) {
	t.Helper()
	return runExit(t, exec.Command(ie.bin, "verify", "--archive", ie.archive(), "--keys", filepath.Join(ie.dir, "keys"),
		"--centre", centre, "--day", day))
}

// runExit runs cmd; it returns its exit code and its output (stdout and stderr).
func runExit(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("%s: %v", cmd, err)
	return 0, ""
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
	ie.setKey(centre, key.Public().(ed25519.PublicKey))
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

// checkNoGap asserts the ingest's chain of centre has no gap and no refusal, and
// that its archive re-verifies: `saqshy-ingest verify` of each day it holds (today,
// and yesterday should the test have crossed midnight UTC) exits 0 and finds no gap.
func checkNoGap(t *testing.T, ie *ingestEnv, centre string) ingest.Head {
	t.Helper()
	h, ok := ie.head(t, centre)
	if !ok {
		t.Fatalf("the ingest has no chain for %s", centre)
	}
	if h.GapsTotal != 0 || len(h.Gaps) != 0 || len(h.Refused) != 0 {
		t.Fatalf("chain of %s: gaps %d %v, refused %v", centre, h.GapsTotal, h.Gaps, h.Refused)
	}
	verified := 0
	for _, at := range []time.Time{time.Now().Add(-24 * time.Hour), time.Now()} {
		day := at.UTC().Format(time.DateOnly)
		if _, err := os.Stat(ingest.DayFile(ie.archive(), centre, day)); err != nil {
			continue
		}
		code, out := ie.verify(t, centre, day)
		if code != 0 || !strings.Contains(out, "intact") || !strings.Contains(out, " 0 refused, 0 gaps") {
			t.Fatalf("saqshy-ingest verify --centre %s --day %s: exit %d\n%s", centre, day, code, out)
		}
		verified++
	}
	if verified == 0 {
		t.Fatalf("the ingest archived nothing for %s", centre)
	}
	return h
}

// TestIngestRefusesGateway: a gateway whose key is not in the registry gets 401
// unknown_key; one whose requests arrive with a bad signature (a proxy on the way
// rewrites each link's sequence header) gets 401 bad_signature. Its batches go to
// the dead-letter file with the ingest's reason, are not retried for ever, and
// nothing lands; the real `saqshy-gateway doctor` command says which refusal it
// is, with the fix and the key's fingerprint (doctor's TestIngestProbe adds
// another key registered for the centre, and a URL that is not an ingest). Once
// fixed (the key registered, the proxy gone), doctor passes, and the dead-letter
// file replayed (gateway stopped) lands every reading as new links of the same
// chain, with no gap. The private key appears in no log, status or doctor output.
func TestIngestRefusesGateway(t *testing.T) {
	for _, tc := range []struct {
		name       string
		registered bool   // the registry holds the gateway's key for its centre
		rewrite    bool   // a proxy between the gateway and the ingest rewrites each link's sequence
		reason     string // the ingest's reason, in the dead-letter file
		fix        string // in the gateway's refusal
		doctor     string // doctor's ✗ line
		doctorFix  string
	}{
		{"unregistered key", false, false, "unknown_key", "register this gateway's key fingerprint %s",
			"does not know this gateway's key", "fix: register this fingerprint (%s) with the ministry"},
		{"bad signature", true, true, "bad_signature", "check that influx.sign.key_file is this gateway's key, and that no proxy rewrites the request",
			"could not verify this gateway's signature", "fix: bad signature: check that no proxy between the centre and the ministry rewrites requests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ie := startIngest(t, e.in)
			c := sim.NewFleet("refuse-c1", 4, 5)
			keyFile, key := ie.signedCentre(t, e, c, tc.registered)
			pub := key.Public().(ed25519.PublicKey)
			fp := chain.Fingerprint(pub)
			if tc.rewrite {
				c.Config.Influx.URL = rewritingProxy(t, ie.URL())
			}
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
			want := len(c.Devices) * 3
			waitFor(t, 30*time.Second, "batches dead-lettered", func() bool {
				st := g.Stats()
				return st.DeadLettered >= uint64(want) && st.SpoolBacklog == 0
			}, g)
			if st := g.Stats(); !strings.Contains(st.InfluxRefused, "HTTP 401 "+tc.reason) || !strings.Contains(st.InfluxRefused, withFP(tc.fix, fp)) {
				t.Fatalf("InfluxRefused = %q, want the %s reason and the fix", st.InfluxRefused, tc.reason)
			}
			dl, err := os.ReadFile(filepath.Join(c.Config.Spool.Dir, "deadletter.lp"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(dl, []byte("HTTP 401 "+tc.reason)) || !bytes.Contains(dl, []byte("climate,")) {
				t.Fatalf("dead-letter file lacks the reason or the points:\n%.600s", dl)
			}
			if n := e.in.Count(t, "climate", "temperature_c", ""); n != 0 {
				t.Fatalf("%d refused points reached InfluxDB", n)
			}
			if _, ok := ie.head(t, "refuse-c1"); ok {
				t.Fatal("the ingest started a chain for a refused gateway")
			}
			// Not retried for ever: the writer's POSTs stop once the spool is drained.
			before := g.Stats().WriterRetries
			time.Sleep(1500 * time.Millisecond)
			if after := g.Stats().WriterRetries; after != before {
				t.Fatalf("refused batches are retried: %d retries, then %d", before, after)
			}

			// Doctor says which refusal, with the fix and the fingerprint, not the key.
			bin := testenv.BuildCommand(t, "saqshy-gateway")
			code, out := runDoctor(t, bin, c.Config)
			if code != 1 || !strings.Contains(out, "✗ The ministry's ingest ") || !strings.Contains(out, withFP(tc.doctor, fp)) ||
				!strings.Contains(out, withFP(tc.doctorFix, fp)) || !strings.Contains(out, fp) ||
				!strings.Contains(out, "the gateway's last refused batch (dead-letter file): ") {
				t.Fatalf("doctor: exit %d, want 1 and %q, %q\n%s", code, withFP(tc.doctor, fp), withFP(tc.doctorFix, fp), out)
			}
			// The gateway stops before the fix, so that no live batch of its own
			// can start the chain that the doctor's probe must not start.
			snap, _ := json.Marshal(g.Snapshot())
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			done <- nil // for the deferred receive

			// Fixed: doctor passes, and its probe adds no link to the chain.
			if !tc.registered {
				ie.setKey("refuse-c1", pub)
			}
			c.Config.Influx.URL = ie.URL()
			_, fixed := runDoctor(t, bin, c.Config)
			if !strings.Contains(fixed, "✓ The ministry's ingest "+ie.URL()+" knows this gateway's key (centre refuse-c1, key fingerprint "+fp+") and verified a signed probe") {
				t.Fatalf("doctor once fixed:\n%s", fixed)
			}
			if _, ok := ie.head(t, "refuse-c1"); ok {
				t.Fatal("doctor's probe started a chain at the ingest")
			}
			assertNoPrivateKey(t, "logs, status snapshot and doctor output", logs.String()+string(snap)+out+fixed, key, keyFile)

			// The dead-letter file replayed: new links of the same chain, every
			// reading lands, no gap.
			replay, err := exec.Command(bin, "deadletter", "replay", "--config", writeCentreConfig(t, c.Config)).CombinedOutput()
			if err != nil {
				t.Fatalf("deadletter replay: %v\n%s", err, replay)
			}
			assertNoPrivateKey(t, "deadletter replay output", string(replay)+strings.Repeat(" ", 100), key, keyFile)
			if n := e.in.Count(t, "climate", "temperature_c", ""); n != int64(want) {
				t.Fatalf("%d readings after the replay, want %d:\n%s", n, want, replay)
			}
			checkNoGap(t, ie, "refuse-c1")
		})
	}
}

// withFP fills the %s of s with the fingerprint fp, if s has one.
func withFP(s, fp string) string {
	if strings.Contains(s, "%s") {
		return fmt.Sprintf(s, fp)
	}
	return s
}

// runDoctor runs `saqshy-gateway doctor` on cfg; it returns the exit code and
// the output (the checklist, after doctor's progress lines).
func runDoctor(t *testing.T, bin string, cfg *config.Config) (int, string) {
	t.Helper()
	return runExit(t, exec.Command(bin, "doctor", "--config", writeCentreConfig(t, cfg), "--listen", "1s", "--assume-clock-synced"))
}

// rewritingProxy is a proxy in front of target that adds one to each request's
// link sequence header: the link no longer matches its signature.
func rewritingProxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		if seq, err := strconv.ParseUint(r.In.Header.Get(chain.HeaderSeq), 10, 64); err == nil {
			r.Out.Header.Set(chain.HeaderSeq, strconv.FormatUint(seq+1, 10))
		}
	}})
	t.Cleanup(srv.Close)
	return srv.URL
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
