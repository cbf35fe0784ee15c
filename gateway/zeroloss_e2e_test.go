package gateway_test

// The zero-loss tests: a fault mid-stream (the gateway SIGKILLed, InfluxDB down,
// the broker restarted, the ingest SIGKILLed) and every published reading lands in
// InfluxDB exactly once with its value. Each runs on both uplinks a centre can
// have: straight to InfluxDB, and signing every batch through a saqshy-ingest
// process in front of InfluxDB (issue 15), where the ingest's chain must also show
// no gap and no refusal and its archive re-verify.

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

// uplinks are the ways a zero-loss test's gateway writes to InfluxDB.
var uplinks = []string{"direct", "ingest"}

// lossless is one zero-loss test's centre, broker, database and uplink.
type lossless struct {
	e  env
	c  *sim.Centre
	ie *ingestEnv // nil: the gateway writes straight to InfluxDB
}

func newLossless(t *testing.T, uplink, centre string, sensors int, seed uint64) *lossless {
	t.Helper()
	z := &lossless{e: newEnv(t), c: sim.NewFleet(centre, sensors, seed)}
	switch uplink {
	case "direct":
		z.e.configure(t, z.c, t.TempDir())
	case "ingest":
		z.ie = startIngest(t, z.e.in)
		z.ie.signedCentre(t, z.e, z.c, true)
	default:
		t.Fatalf("unknown uplink %q", uplink)
	}
	return z
}

// untimed returns what the broker may deliver twice (after the gateway's SIGKILL
// or a broker restart) with no way to tell: an ESPHome reading carries no time of
// its own, so a redelivery is a second point at another time. Those sensors are
// compared by value; every other reading lands exactly once, as its payload time
// makes a redelivery the same point.
func (z *lossless) untimed() map[string]bool {
	out := map[string]bool{}
	for _, d := range z.c.Devices {
		if d.Format == "esphome" {
			out[d.Sensor.ID] = true
		}
	}
	return out
}

// landed returns the readings in InfluxDB per sensor, the untimed sensors'
// deduplicated when redelivered, and how many expected readings are missing.
func (z *lossless) landed(t *testing.T, exp expectation, redelivered bool) (got expectation, points, missing int) {
	t.Helper()
	got, points = landed(t, z.e.in)
	if redelivered {
		for s := range z.untimed() {
			got[s] = dedup(got[s])
		}
	}
	for s, w := range exp {
		missing += max(0, len(w)-len(got[s]))
	}
	return got, points, missing
}

// waitAll waits until every expected reading is in InfluxDB, then checks that
// exactly those landed (none missing, none extra, none with another value) and,
// through the ingest, that the chain has no gap and the archive re-verifies.
func (z *lossless) waitAll(t *testing.T, exp expectation, limit time.Duration, redelivered bool) {
	t.Helper()
	want := 0
	for _, w := range exp {
		want += len(w)
	}
	deadline := time.Now().Add(limit)
	for {
		_, _, missing := z.landed(t, exp, redelivered)
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d readings never reached InfluxDB", missing, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
	got, points, _ := z.landed(t, exp, redelivered)
	for s := range got {
		if _, ok := exp[s]; !ok {
			t.Errorf("points of a sensor never published: %s %v", s, got[s])
		}
	}
	compare(t, exp, got)
	msg := fmt.Sprintf("%d points for %d readings", points, want)
	if z.ie != nil {
		h := checkNoGap(t, z.ie, z.c.Config.Centre.ID)
		msg += fmt.Sprintf("; chain head %d, %d links accepted, %d exact resends", h.Seq, h.Accepted, h.Resends)
	}
	t.Log(msg)
}

// holdInflux sends SIGSTOP or SIGCONT to influxd: held, it takes connections and
// requests but answers nothing, so a write in flight stays in flight.
func (z *lossless) holdInflux(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := z.e.in.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// unread reports whether a request waits, unread, on InfluxDB's port.
func (z *lossless) unread(t *testing.T) bool {
	t.Helper()
	u, err := z.e.in.Unread()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// waitHeldWrite waits, InfluxDB held, until a write is in flight to it.
func (z *lossless) waitHeldWrite(t *testing.T) {
	t.Helper()
	waitFor(t, 30*time.Second, "a write in flight to the held InfluxDB", func() bool { return z.unread(t) })
}

// startProcess runs `saqshy-gateway run` for the centre as a child process, its
// status page on a free port (which tells when it is up), and waits until its
// persistent session exists: before that the broker keeps no messages for it.
func (z *lossless) startProcess(t *testing.T) *testenv.Process {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	z.c.Config.Status.Listen = addr
	gw := testenv.StartProcess(t, "saqshy-gateway", testenv.BuildCommand(t, "saqshy-gateway"), addr,
		"run", "--config", writeCentreConfig(t, z.c.Config), "--assume-clock-synced", "--log-level", "warn", "--stats-every", "0")
	waitOnline(t, z.e.mq.URL(), "saqshy/"+z.c.Config.Centre.ID+"/gateway/status")
	return gw
}

// writeCentreConfig writes cfg as a centre.yaml for the saqshy-gateway command.
func writeCentreConfig(t testing.TB, cfg *config.Config) string {
	t.Helper()
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "centre.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSIGKILLLosesNothing: the gateway process is killed with SIGKILL twice
// mid-stream and started again: every reading lands. The second kill comes after
// a write was taken but before the gateway learnt it: InfluxDB is held with
// SIGSTOP while a batch is in flight, the gateway frozen with SIGSTOP, InfluxDB
// resumed (it, or the ingest, takes the batch and answers), then the gateway
// killed. The new gateway sends the batch again: straight to InfluxDB the points
// are the same points again; through the ingest the pending link is sent again
// byte for byte and taken once as an exact resend, with no chain gap.
func TestSIGKILLLosesNothing(t *testing.T) {
	for _, uplink := range uplinks {
		t.Run(uplink, func(t *testing.T) {
			z := newLossless(t, uplink, "kill-c1", 40, 5)
			exp := expectation{}
			rounds := ticks(z.c, 0, 30, exp)
			p := newPublisher(t, z.e.mq.URL())
			gw := z.startProcess(t)
			for i, r := range rounds {
				if i == 19 {
					z.holdInflux(t, syscall.SIGSTOP)
				}
				p.send(r...)
				switch i {
				case 9:
					gw.Kill() // while the broker is still delivering this round
					gw.Start()
				case 19:
					z.waitHeldWrite(t)
					if err := gw.Signal(syscall.SIGSTOP); err != nil {
						t.Fatal(err)
					}
					var taken uint64
					if z.ie != nil {
						h, _ := z.ie.head(t, "kill-c1")
						taken = h.Accepted
					}
					z.holdInflux(t, syscall.SIGCONT)
					waitFor(t, 30*time.Second, "InfluxDB to read the batch", func() bool { return !z.unread(t) })
					if z.ie != nil {
						waitFor(t, 30*time.Second, "the ingest to take the link", func() bool { h, _ := z.ie.head(t, "kill-c1"); return h.Accepted > taken })
					}
					gw.Kill() // it never read the answer
					gw.Start()
				}
			}
			p.flush()
			z.waitAll(t, exp, 120*time.Second, true)
			if z.ie != nil {
				if h, _ := z.ie.head(t, "kill-c1"); h.Resends == 0 {
					t.Fatalf("the link taken at the second kill was not sent again as an exact resend: %+v", h)
				}
			}
		})
	}
}

// TestInfluxOutageLosesNothing: InfluxDB stopped for 30 s mid-stream (behind the
// ingest: the ingest answers 503 and records nothing), then started again: every
// reading lands exactly once.
func TestInfluxOutageLosesNothing(t *testing.T) {
	for _, uplink := range uplinks {
		t.Run(uplink, func(t *testing.T) {
			t.Parallel() // mostly waiting out the outage
			z := newLossless(t, uplink, "outage-c1", 20, 2)
			z.c.Config.Influx.Timeout = config.Duration(2 * time.Second)
			g, stop := startGateway(t, z.c)
			exp := expectation{}
			p := newPublisher(t, z.e.mq.URL())
			rounds := ticks(z.c, 0, 40, exp)
			for _, r := range rounds[:10] {
				p.send(r...)
			}
			p.flush()
			waitFor(t, 60*time.Second, "first points", func() bool { return z.e.in.Count(t, "climate", "temperature_c", "") > 0 })
			z.e.in.Stop()
			stopped := time.Now()
			for i, r := range rounds[10:30] { // published while InfluxDB is down
				p.send(r...)
				p.flush()
				time.Sleep(time.Until(stopped.Add(time.Duration(i+1) * 1400 * time.Millisecond)))
			}
			waitFor(t, 60*time.Second, "the writer to notice the outage", func() bool { return g.Stats().InfluxError != "" })
			time.Sleep(time.Until(stopped.Add(30 * time.Second)))
			if g.Stats().SpoolBacklog == 0 {
				t.Fatal("spool empty while InfluxDB is down")
			}
			z.e.in.Start()
			for _, r := range rounds[30:] {
				p.send(r...)
			}
			p.flush()
			waitFor(t, 120*time.Second, "the spool drained", func() bool { return g.Stats().SpoolBacklog == 0 }, g)
			z.waitAll(t, exp, 30*time.Second, false)
			stop()
			if st := g.Stats(); st.DeadLettered != 0 || st.InfluxRefused != "" {
				t.Fatalf("dead-lettered %d, refused %q", st.DeadLettered, st.InfluxRefused)
			}
		})
	}
}

// TestBrokerRestartLosesNothing: the broker is restarted (SIGTERM, so it saves the
// gateway's persistent session) while it is still delivering to the gateway; the
// gateway reconnects and every reading published before and after lands.
func TestBrokerRestartLosesNothing(t *testing.T) {
	for _, uplink := range uplinks {
		t.Run(uplink, func(t *testing.T) {
			z := newLossless(t, uplink, "broker-c1", 20, 9)
			g, stop := startGateway(t, z.c)
			exp := expectation{}
			rounds := ticks(z.c, 0, 20, exp)
			p := newPublisher(t, z.e.mq.URL())
			for _, r := range rounds[:10] {
				p.send(r...)
			}
			p.flush()
			z.e.mq.Stop()
			waitFor(t, 20*time.Second, "the gateway to notice", func() bool { return !g.Stats().MQTTConnected })
			z.e.mq.Start()
			p = newPublisher(t, z.e.mq.URL())
			for _, r := range rounds[10:] {
				p.send(r...)
			}
			p.flush()
			z.waitAll(t, exp, 90*time.Second, true)
			stop()
			if st := g.Stats(); st.DeadLettered != 0 || st.InfluxRefused != "" {
				t.Fatalf("dead-lettered %d, refused %q", st.DeadLettered, st.InfluxRefused)
			}
		})
	}
}

// TestIngestSIGKILLLosesNothing: the saqshy-ingest process is killed with SIGKILL
// five times while a gateway streams signed batches through it (a batch every
// 100 ms), and started again on the same archive and heads each time. Three kills
// come at a moment of the stream; two while a request is inside the ingest
// (InfluxDB held with SIGSTOP until the ingest's forward waits on it; InfluxDB may
// still carry it out once resumed). Every reading lands exactly once, the chain
// has no gap and no refusal, the gateway dead-lettered nothing, and
// `saqshy-ingest verify` of the day passes.
func TestIngestSIGKILLLosesNothing(t *testing.T) {
	z := newLossless(t, "ingest", "ingest-kill-c1", 10, 5)
	z.c.Config.Influx.FlushInterval = config.Duration(100 * time.Millisecond)
	var logs lockedLog
	g, stop := startGatewayWith(t, z.c, gateway.Options{Clock: gateway.FixedSync(true),
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(&logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	exp := expectation{}
	rounds := ticks(z.c, 0, 40, exp)
	p := newPublisher(t, z.e.mq.URL())
	kills := 0
	for i, r := range rounds {
		held := i%8 == 7 && kills%2 == 1
		written := g.Stats().Written
		if held {
			// No retry pending from the last kill: the writer posts this round at once.
			waitFor(t, 30*time.Second, "the spool drained", func() bool { return g.Stats().SpoolBacklog == 0 }, g)
			z.holdInflux(t, syscall.SIGSTOP)
		}
		p.send(r...)
		p.flush()
		if i%8 != 7 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if held {
			z.waitHeldWrite(t) // the round's batch, forwarded by the ingest, unanswered
		} else {
			waitFor(t, 30*time.Second, "a write through the ingest", func() bool { return g.Stats().Written > written }, g)
			time.Sleep(time.Duration(kills*37%100) * time.Millisecond)
		}
		z.ie.kill()
		kills++
		if held {
			z.holdInflux(t, syscall.SIGCONT)
		}
		time.Sleep(300 * time.Millisecond) // the gateway meets a dead ingest
		z.ie.start()
	}
	p.flush()
	waitFor(t, 90*time.Second, "the spool drained", func() bool { return g.Stats().SpoolBacklog == 0 }, g)
	z.waitAll(t, exp, 30*time.Second, false)
	stop()
	st := g.Stats()
	if st.DeadLettered != 0 || st.InfluxRefused != "" {
		t.Fatalf("dead-lettered %d, refused %q", st.DeadLettered, st.InfluxRefused)
	}
	// The held kills cut a request the ingest had taken: the gateway saw the
	// connection die, not refused.
	failed, refused := strings.Count(logs.String(), "will retry"), strings.Count(logs.String(), "connection refused")
	if kills != 5 || failed-refused < 2 {
		t.Fatalf("%d kills; %d failed writes, %d of them refused connections: want 5 kills, 2 cutting a request", kills, failed, refused)
	}
}

// waitOnline waits for the gateway's retained status to say online: it has
// subscribed.
func waitOnline(t *testing.T, url, topic string) {
	t.Helper()
	online := make(chan struct{}, 1)
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("watch-%d", time.Now().UnixNano()))
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		if string(m.Payload()) == "online" {
			select {
			case online <- struct{}{}:
			default:
			}
		}
	})
	select {
	case <-online:
	case <-time.After(30 * time.Second):
		t.Fatalf("gateway never reported online on %s", topic)
	}
}

func dedup(v []float64) []float64 {
	s := slices.Sorted(slices.Values(v))
	return slices.Compact(s)
}
