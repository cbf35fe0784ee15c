package monitor

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway/central/ingest"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// TestSilentWatchReadsIngest: with ingest.url set, the silent-gateway watch reads
// the ingest's last verified link of each centre. A heartbeat forged straight into
// the bucket for a centre whose gateway is off (issue 15: "last seen 4 min ago", no
// silent alarm) does not count: the centre is raised silent with the last contact
// its signed chain made, while a centre whose gateway reports through the chain is
// not. The bucket-based view, which the forgery fools, is checked too, so the test
// knows the forged point landed.
func TestSilentWatchReadsIngest(t *testing.T) {
	in := testenv.StartInflux(t, "saqshy")
	var off atomic.Int64 // the shared clock's offset from the real one
	clock := func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
	keys := ingest.FileKeys{}
	chains := map[string]*chain.Chain{}
	for _, c := range []string{"c-on", "c-off"} {
		dir := t.TempDir()
		key, err := chain.GenerateKey(filepath.Join(dir, "gateway.key"))
		if err != nil {
			t.Fatal(err)
		}
		keys[c] = key.Public().(ed25519.PublicKey)
		if chains[c], err = chain.Open(filepath.Join(dir, "chain.json"), c, key); err != nil {
			t.Fatal(err)
		}
	}
	is, err := ingest.New(ingest.Config{Keys: keys, Forward: &ingest.Influx{URL: in.URL(), Bucket: in.Bucket()},
		ArchiveDir: t.TempDir(), HeadsDir: t.TempDir(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	isrv := httptest.NewServer(is)
	defer isrv.Close()
	heartbeat := func(c string, at time.Time) string {
		return "gateway,centre=" + c + " uptime_s=60i,mqtt_connected=true " + strconv.FormatInt(at.UnixNano(), 10) + "\n"
	}
	signed := func(c string) {
		t.Helper()
		body := heartbeat(c, clock())
		l, err := chains[c].Prepare([]byte(body), "ns")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, isrv.URL+"/api/v2/write?bucket=b&precision=ns", strings.NewReader(body))
		l.SetHeaders(req.Header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("signed heartbeat of %s: %d %s", c, resp.StatusCode, msg)
		}
		if err := chains[c].Commit(l); err != nil {
			t.Fatal(err)
		}
	}

	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	cfg, err := ParseConfig([]byte(`
influx: {url: "` + in.URL() + `", bucket: "` + in.Bucket() + `"}
ingest: {url: "` + isrv.URL + `"}
state_dir: ` + t.TempDir() + `
silent_after: 10m
centres:
  - {id: c-on, region: Shymkent}
  - {id: c-off, region: Shymkent}
users:
  - {name: min, role: ministry, lang: en, password_hash: "` + string(hash) + `"}
`))
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(cfg, slog.New(slog.DiscardHandler), clock)
	if err != nil {
		t.Fatal(err)
	}
	poll := func() {
		t.Helper()
		if err := app.Watcher.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	// Both gateways report through the chain.
	signed("c-on")
	signed("c-off")
	lastOff := clock()
	poll()
	for c, st := range app.Watcher.States() {
		if st.Silent {
			t.Fatalf("%s silent right after its signed heartbeat: %+v", c, st)
		}
	}

	// 15 minutes on: c-off's gateway is off; a heartbeat "1 minute ago" is forged
	// straight into the bucket with a token that can write it. c-on keeps reporting.
	off.Store(int64(15 * time.Minute))
	forged := clock().Add(-time.Minute)
	w := influxsink.NewClient(in.URL(), "", "", in.Bucket(), 10*time.Second)
	defer w.Close()
	if err := w.WriteRecord(context.Background(), strings.TrimSpace(heartbeat("c-off", forged))); err != nil {
		t.Fatal(err)
	}
	signed("c-on")
	poll()
	st := app.Watcher.States()
	if !st["c-off"].Silent {
		t.Errorf("c-off, whose gateway is off, is not raised silent despite the forged heartbeat: %+v", st["c-off"])
	}
	if got := st["c-off"].LastSeen; got.Before(lastOff.Add(-time.Second)) || got.After(lastOff.Add(time.Second)) {
		t.Errorf("c-off last seen %s, want its last verified link at %s, not the forged heartbeat at %s", got, lastOff, forged)
	}
	if st["c-on"].Silent {
		t.Errorf("c-on, reporting through the chain, is silent: %+v", st["c-on"])
	}
	// The bucket holds the forgery: the store's view (used without ingest.url)
	// would have believed it.
	bucket, err := app.Store.LastSeen(context.Background(), clock().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if bucket["c-off"].Before(forged.Add(-time.Second)) {
		t.Fatalf("the forged heartbeat is not in the bucket (store says %s, forged %s): the test proves nothing", bucket["c-off"], forged)
	}

	// The ingest unreachable is no reason to call every gateway silent: the poll
	// fails, and nothing new is raised.
	isrv.Close()
	off.Store(int64(40 * time.Minute))
	if err := app.Watcher.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "ingest") {
		t.Errorf("poll with the ingest down: %v, want an error naming the ingest", err)
	}
	if app.Watcher.States()["c-on"].Silent {
		t.Error("c-on raised silent because the ingest did not answer")
	}
}
