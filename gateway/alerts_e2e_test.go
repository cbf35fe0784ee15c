package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/alert"
	"github.com/saqshy/saqshy/gateway/alert/notify"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// webhookSink receives signed alert events.
type webhookSink struct {
	*httptest.Server
	secret []byte
	mu     sync.Mutex
	events []alert.WebhookEvent
	at     []time.Time
	bad    int
}

func startWebhook(t testing.TB, secret []byte) *webhookSink {
	w := &webhookSink{secret: secret}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		var ev alert.WebhookEvent
		if !notify.Verify(w.secret, body, r.Header.Get(notify.SignatureHeader)) || json.Unmarshal(body, &ev) != nil {
			w.bad++
			http.Error(rw, "bad", http.StatusUnauthorized)
			return
		}
		w.events = append(w.events, ev)
		w.at = append(w.at, now)
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhookSink) list() []alert.WebhookEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]alert.WebhookEvent(nil), w.events...)
}

// alertConfig is a centre with one medicine fridge whose alerts go to a webhook.
func alertConfig(t testing.TB, mqURL, inURL, bucket, hookURL string) *config.Config {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "webhook.secret")
	if err := os.WriteFile(secretFile, []byte("hook-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Centre.ID, cfg.Centre.Name = "c1", "Centre No. 2"
	cfg.MQTT.URL, cfg.MQTT.ClientID = mqURL, "saqshy-alerts"
	cfg.Influx.URL, cfg.Influx.Bucket = inURL, bucket
	cfg.Spool.Dir = filepath.Join(dir, "spool")
	cfg.Status.Listen = config.StatusOff
	cfg.Zones = []config.Zone{{ID: "med-fridge", Kind: "med-fridge", Name: "Treatment room fridge"}}
	cfg.Sensors = []config.Sensor{{ID: "fridge-probe", Zone: "med-fridge", Source: "saqshy"}}
	cfg.Alerts.Webhook = config.AlertWebhook{URL: hookURL, SecretFile: secretFile}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestAlertEndToEnd: a reading over a zero-hold critical limit, published on a real
// Mosquitto, reaches the webhook signed, lands as an `alert` point in a real
// InfluxDB, and is retained on saqshy/c1/alert/1; an acknowledgement through the
// local HTTP API and the resolution follow the same paths, and the retained
// message is cleared.
func TestAlertEndToEnd(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "alerts")
	hook := startWebhook(t, []byte("hook-secret"))
	cfg := alertConfig(t, mq.URL(), in.URL(), in.Bucket(), hook.URL)
	g := runE2E(t, cfg, Options{Clock: FixedSync(true)})
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; webhook %+v; outbox %+v", what, hook.list(), g.AlertOutboxStats())
			}
		}
	}
	pub := mqttClient(t, mq.URL(), "pub")
	send := func(v float64) {
		t.Helper()
		if tok := pub.Publish("saqshy/c1/sensor/fridge-probe/state", 1, false, fmt.Sprintf(`{"temperature_c": %g}`, v)); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	send(5)
	send(12.6) // over 12 °C: critical at once
	wait("the firing webhook", func() bool { return len(hook.list()) == 1 })
	ev := hook.list()[0]
	if ev.State != alert.Firing || ev.Kind != "temperature_high" || ev.Severity != "critical" || ev.Zone != "med-fridge" ||
		ev.ZoneName != "Treatment room fridge" || ev.Value == nil || *ev.Value != 12.6 || ev.Centre != "c1" || ev.ID != "1" {
		t.Fatalf("webhook event %+v", ev)
	}
	retained := func() string {
		got := make(chan string, 1)
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL()).SetClientID("sub-" + fmt.Sprint(time.Now().UnixNano())))
		if tok := c.Connect(); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		defer c.Disconnect(100)
		c.Subscribe("saqshy/c1/alert/#", 1, func(_ mqtt.Client, m mqtt.Message) {
			select {
			case got <- m.Topic() + " " + string(m.Payload()):
			default:
			}
		}).Wait()
		select {
		case s := <-got:
			return s
		case <-time.After(500 * time.Millisecond):
			return ""
		}
	}
	wait("retained alert", func() bool { return strings.Contains(retained(), `"state":"firing"`) })
	if s := retained(); !strings.HasPrefix(s, "saqshy/c1/alert/1 ") {
		t.Errorf("retained: %q", s)
	}
	if snap := g.Alerts(); len(snap) != 1 || snap[0].State != alert.Firing || snap[0].Severity != "critical" {
		t.Fatalf("status snapshot %+v", snap)
	}

	api := httptest.NewServer(g.AlertsHandler())
	defer api.Close()
	resp, err := http.Post(api.URL+"/api/alerts/1/ack", "application/json", strings.NewReader(`{"by":"Director"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ack: %s", resp.Status)
	}
	wait("the acknowledged webhook", func() bool { return len(hook.list()) == 2 })
	send(11) // within the hysteresis: still open
	send(5)
	wait("the resolved webhook", func() bool { return len(hook.list()) == 3 })
	if ev := hook.list()[2]; ev.State != alert.Resolved || ev.AckedBy != "Director" {
		t.Errorf("resolved event %+v", ev)
	}
	wait("retained alert cleared", func() bool { return retained() == "" })
	wait("alert points", func() bool { return in.Count(t, "alert", "state", "") == 3 })
	series, err := in.Query(t.Context(), `SELECT "state","acked_by","value","id" FROM "alert" WHERE "centre"='c1' AND "rule"='temperature_high' AND "severity"='critical' AND "zone"='med-fridge' AND "subject"='fridge-probe'`)
	if err != nil || len(series) != 1 || len(series[0].Values) != 3 {
		t.Fatalf("alert points: %+v %v", series, err)
	}
	var states []string
	for _, v := range series[0].Values {
		states = append(states, fmt.Sprint(v[1], ":", v[2]))
	}
	if got := strings.Join(states, " "); got != "firing: acknowledged:Director resolved:Director" {
		t.Errorf("points %q", got)
	}
	if hook.bad != 0 {
		t.Errorf("%d webhook calls with a bad signature", hook.bad)
	}
}
