package ingest_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/ingest"
	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// TestSIGKILLMidCommitLosesNothing: 40 gateways send to an ingest process (this
// binary as saqshy-ingest serve) without pause, so that requests are always in
// the group commit; the ingest is SIGKILLed 3 times with requests in flight and
// started again on the same directories, and each gateway sends its unanswered
// link again, as the spool does. Afterwards every acknowledged link is a link of
// its centre's archived chain (Verify: intact, no gap), the head is the last
// acknowledged link, nothing was refused, and InfluxDB has every point once.
func TestSIGKILLMidCommitLosesNothing(t *testing.T) {
	const gateways, kills, points = 40, 3, 5
	in := testenv.StartInflux(t, "kill")
	dir := t.TempDir()
	archive, heads := filepath.Join(dir, "archive"), filepath.Join(dir, "heads")
	gws := make([]*benchGW, gateways)
	var keys bytes.Buffer
	for i := range gws {
		seed := make([]byte, ed25519.SeedSize)
		binary.BigEndian.PutUint64(seed, uint64(i)+1)
		gws[i] = &benchGW{id: fmt.Sprintf("kz-%05d", i), key: ed25519.NewKeyFromSeed(seed)}
		fmt.Fprintf(&keys, "%s %s\n", gws[i].id, chain.PublicKeyString(gws[i].key.Public().(ed25519.PublicKey)))
	}
	keysPath := filepath.Join(dir, "keys")
	if err := os.WriteFile(keysPath, keys.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	logPath := filepath.Join(dir, "ingest.log")
	var mu sync.Mutex // guards cmd
	cmd := startChild(t, addr, in, archive, heads, keysPath, logPath, 0)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		cmd.Process.Kill()
		cmd.Wait()
	})

	start := time.Now().Add(-time.Minute)
	client := &http.Client{Timeout: 30 * time.Second}
	var stop atomic.Bool
	var inFlight, acked atomic.Int64
	errs := make(chan error, gateways)
	var wg sync.WaitGroup
	for gi, g := range gws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; !stop.Load(); k++ {
				var body []byte
				for p := range points { // distinct timestamps: InfluxDB counts each point once
					body = fmt.Appendf(body, "climate,centre=%s,zone=z%d temperature_c=%d.5 %d\n", g.id, p, gi, start.Add(time.Duration(k*points+p)*time.Millisecond).UnixNano())
				}
				l := chain.Link{Centre: g.id, Seq: g.seq + 1, Prev: g.prev, Body: chain.BodyHash(body), Precision: "ns"}
				l.Sign(g.key)
				for { // the same link until it is answered, as the spool
					req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v2/write?precision=ns", bytes.NewReader(body))
					l.SetHeaders(req.Header)
					inFlight.Add(1)
					resp, err := client.Do(req)
					inFlight.Add(-1)
					if err != nil {
						time.Sleep(50 * time.Millisecond) // the ingest is down
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusNoContent {
						break
					}
					if resp.StatusCode != http.StatusServiceUnavailable {
						errs <- fmt.Errorf("%s link %d: %d %s", g.id, l.Seq, resp.StatusCode, resp.Header.Get("X-Saqshy-Reason"))
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				g.seq, g.prev = l.Seq, l.Hash()
				acked.Add(1)
			}
		}()
	}
	for range kills {
		time.Sleep(700 * time.Millisecond)
		for inFlight.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		mu.Lock()
		n := inFlight.Load()
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		t.Logf("SIGKILL with %d requests in flight, %d acknowledged so far", n, acked.Load())
		cmd = startChild(t, addr, in, archive, heads, keysPath, logPath, 0)
		mu.Unlock()
	}
	time.Sleep(700 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	resp, err := http.Get("http://" + addr + "/centres")
	if err != nil {
		t.Fatal(err)
	}
	var hs []ingest.Head
	err = json.NewDecoder(resp.Body).Decode(&hs)
	resp.Body.Close()
	if err != nil || len(hs) != gateways {
		t.Fatalf("/centres: %d heads, %v", len(hs), err)
	}
	ks, err := ingest.LoadKeys(keysPath)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for i, h := range hs {
		g := gws[i]
		total += g.seq
		if h.Centre != g.id || h.Seq != g.seq || h.Hash != g.prev || h.GapsTotal != 0 || len(h.Refused) != 0 {
			t.Errorf("head of %s: seq %d gaps %d refused %v; the gateway's last acknowledged link is %d", g.id, h.Seq, h.GapsTotal, h.Refused, g.seq)
		}
		rep, err := ingest.Verify(archive, g.id, time.Now().UTC().Format(time.DateOnly), ks)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("verify %s: %v", g.id, err)
			continue
		}
		if rep.Accepted != int(g.seq) || rep.FirstSeq != 1 || rep.LastSeq != g.seq || len(rep.Gaps) != 0 {
			t.Errorf("archive of %s: %+v; want links 1..%d", g.id, rep, g.seq)
		}
	}
	if got := in.Count(t, "climate", "temperature_c", ""); got != int64(total*points) {
		t.Errorf("InfluxDB has %d points, want the %d of %d acknowledged requests", got, total*points, total)
	}
	t.Logf("%d requests acknowledged across %d SIGKILLs", total, kills)
}
