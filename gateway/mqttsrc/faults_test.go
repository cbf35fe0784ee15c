package mqttsrc

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// lockedLog is a log sink the tests search.
type lockedLog struct {
	mu sync.Mutex
	sb strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.Write(p)
}
func (l *lockedLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.sb.String() }

// run starts a source without waiting for it to connect; it stops at cleanup.
func run(t *testing.T, opt Options) (*Source, *lockedLog) {
	t.Helper()
	lb := &lockedLog{}
	opt.Logger = slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s := New(opt, (&collector{}).handle)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("source log:\n%s", lb)
		}
	})
	return s, lb
}

// passwd writes a Mosquitto password file with user:password pairs.
func passwd(t *testing.T, dir string, pairs ...string) string {
	t.Helper()
	path := filepath.Join(dir, "passwd")
	for i := 0; i < len(pairs); i += 2 {
		args := []string{"-b", path, pairs[i], pairs[i+1]}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v: %s", err, out)
		}
	}
	return path
}

// TestWrongPasswordReported: a broker refusing the gateway's password is an ERROR
// naming the fix and a Problem, not an endless quiet "mqtt=down". Before, paho
// retried silently (its DEBUG log only).
func TestWrongPasswordReported(t *testing.T) {
	dir := t.TempDir()
	pw := passwd(t, dir, "saqshy", "right-one")
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{Extra: "allow_anonymous false\npassword_file " + pw + "\n"})
	s, lb := run(t, Options{URL: m.URL(), ClientID: "gw-pw", Username: "saqshy", Password: "wrong-one", Topics: []string{"sensors/#"},
		MaxReconnect: 200 * time.Millisecond})
	waitFor(t, "a problem", func() bool { return s.Stats().Problem != "" })
	p := s.Stats().Problem
	if !strings.Contains(p, "refuses the gateway's login") || !strings.Contains(p, "mqtt.password_file") {
		t.Fatalf("problem %q", p)
	}
	waitFor(t, "an ERROR", func() bool {
		return strings.Contains(lb.String(), "level=ERROR msg=\"mqtt connection refused by the broker\"")
	})
	if n := strings.Count(lb.String(), "connection refused by the broker"); n != 1 {
		t.Fatalf("logged %d times, want once (until it changes):\n%s", n, lb)
	}
	if s.Connected() {
		t.Fatal("connected with a wrong password")
	}
}

// TestSessionTakeoverDetected: another client connecting again and again with the
// gateway's client id takes its session; the source says so. Before, only
// "connection lost: EOF" was logged.
func TestSessionTakeoverDetected(t *testing.T) {
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	s, lb := run(t, Options{URL: m.URL(), ClientID: "gw-takeover", Topics: []string{"sensors/#"}, MaxReconnect: 300 * time.Millisecond})
	waitFor(t, "connected", s.Connected)
	thief := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.URL()).SetClientID("gw-takeover").
		SetCleanSession(false).SetAutoReconnect(true).SetMaxReconnectInterval(300 * time.Millisecond).SetConnectRetry(true))
	thief.Connect()
	defer thief.Disconnect(10)
	waitFor(t, "a takeover problem", func() bool { return strings.Contains(s.Stats().Problem, "another MQTT client") })
	if !strings.Contains(lb.String(), "level=ERROR msg=\"mqtt session taken over\"") {
		t.Fatalf("no ERROR:\n%s", lb)
	}
}

// TestSubscriptionsDeniedByACL: the broker grants the SUBACK but its ACL denies the
// gateway's reads; the probe never comes back and the source says so.
func TestSubscriptionsDeniedByACL(t *testing.T) {
	dir := t.TempDir()
	pw := passwd(t, dir, "saqshy", "pw", "zigbee2mqtt", "pw2")
	acl := filepath.Join(dir, "acl")
	// The gateway's account may only write: a typo'd or outdated ACL.
	if err := os.WriteFile(acl, []byte("user saqshy\ntopic write saqshy/#\n\nuser zigbee2mqtt\ntopic readwrite zigbee2mqtt/#\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{Extra: fmt.Sprintf("allow_anonymous false\npassword_file %s\nacl_file %s\n", pw, acl)})
	s, lb := run(t, Options{URL: m.URL(), ClientID: "gw-acl", Username: "saqshy", Password: "pw",
		Topics: []string{"zigbee2mqtt/#"}, HeartbeatTopic: "saqshy/c1/heartbeat", ProbeTimeout: time.Second})
	waitFor(t, "connected", s.Connected)
	waitFor(t, "a deaf problem", func() bool { return strings.Contains(s.Stats().Problem, "an ACL denies the gateway's reads") })
	if !strings.Contains(lb.String(), "level=ERROR msg=\"mqtt subscriptions deliver nothing\"") {
		t.Fatalf("no ERROR:\n%s", lb)
	}
	// With the ACL right, the probe comes back and the problem clears.
	if err := os.WriteFile(acl, []byte("user saqshy\ntopic read #\ntopic readwrite saqshy/#\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.Stop()
	m.Start()
	waitFor(t, "the problem to clear", func() bool { return s.Stats().Problem == "" && s.Connected() })
}

// shippedBroker starts Mosquitto with the shipped firmware-config/mosquitto config and
// ACL (paths and ports made local), with accounts saqshy, zigbee2mqtt and fridge-1 (a
// Tasmota device). It returns
// the URLs of the device listener (1883) and of the gateway's loopback listener (1884;
// the device one if the config has none).
func shippedBroker(t *testing.T) (devices, gateway string) {
	t.Helper()
	dir := t.TempDir()
	pw := passwd(t, dir, "saqshy", "gw-pass", "zigbee2mqtt", "z-pass", "fridge-1", "f-pass")
	if err := os.Chmod(pw, 0o644); err != nil {
		t.Fatal(err)
	}
	acl, err := os.ReadFile("../../firmware-config/mosquitto/saqshy.acl")
	if err != nil {
		t.Fatal(err)
	}
	aclPath := filepath.Join(dir, "saqshy.acl")
	if err := os.WriteFile(aclPath, acl, 0o644); err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile("../../firmware-config/mosquitto/saqshy.conf")
	if err != nil {
		t.Fatal(err)
	}
	pDev, pGw := testenv.FreePort(t), testenv.FreePort(t)
	var out []string
	hasGw := false
	for _, l := range strings.Split(string(conf), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 0 || strings.HasPrefix(f[0], "#"):
			continue
		case f[0] == "listener" && f[1] == "1883":
			l = fmt.Sprintf("listener %d 127.0.0.1", pDev)
		case f[0] == "listener" && f[1] == "1884":
			l, hasGw = fmt.Sprintf("listener %d 127.0.0.1", pGw), true
		case f[0] == "password_file":
			l = "password_file " + pw
		case f[0] == "acl_file":
			l = "acl_file " + aclPath
		case f[0] == "persistence_location" || f[0] == "log_dest" || f[0] == "persistence" ||
			f[0] == "autosave_interval" || f[0] == "max_inflight_messages" || f[0] == "max_queued_messages" ||
			f[0] == "max_queued_bytes" || f[0] == "log_type":
			continue // testenv sets these
		}
		out = append(out, l)
	}
	testenv.StartMosquitto(t, testenv.MosquittoOptions{Extra: strings.Join(out, "\n")})
	devices = fmt.Sprintf("tcp://127.0.0.1:%d", pDev)
	gateway = devices
	if hasGw {
		gateway = fmt.Sprintf("tcp://127.0.0.1:%d", pGw)
	}
	return devices, gateway
}

// TestShippedBrokerBindsClientIDs: with the shipped Mosquitto config, a device account
// connecting with the gateway's client id does not take the gateway's session, and
// doctor-like one-off clients of the gateway's own account do not disturb it either:
// the gateway stays connected and receives every reading. Before, the device client
// took the session: the gateway was disconnected again and again.
func TestShippedBrokerBindsClientIDs(t *testing.T) {
	devices, gwURL := shippedBroker(t)
	c := &collector{}
	s, stop := start(t, Options{URL: gwURL, ClientID: "saqshy-c1", Username: "saqshy", Password: "gw-pass",
		Topics: []string{"zigbee2mqtt/#"}, MaxReconnect: 300 * time.Millisecond}, c.handle)
	defer stop()

	thief := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(devices).SetClientID("saqshy-c1").
		SetUsername("fridge-1").SetPassword("f-pass").SetCleanSession(false).
		SetAutoReconnect(true).SetMaxReconnectInterval(300 * time.Millisecond))
	if tok := thief.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("device client connect: %v", tok.Error())
	}
	defer thief.Disconnect(10)
	doctor := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(gwURL).SetClientID("saqshy-doctor-1").
		SetUsername("saqshy").SetPassword("gw-pass").SetCleanSession(true))
	if tok := doctor.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("doctor client connect: %v", tok.Error())
	}
	defer doctor.Disconnect(10)

	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(devices).SetClientID("z2m").
		SetUsername("zigbee2mqtt").SetPassword("z-pass"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	defer pub.Disconnect(10)
	const n = 300
	for i := range n {
		tok := pub.Publish(fmt.Sprintf("zigbee2mqtt/room-%d", i%10), 1, false, fmt.Sprint(i))
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitFor(t, "every reading", func() bool { return c.count() == n })
	if st := s.Stats(); st.ConnectionLost != 0 || st.Problem != "" {
		t.Fatalf("gateway disturbed: %+v", st)
	}
}
