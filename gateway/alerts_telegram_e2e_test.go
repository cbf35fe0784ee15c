package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/alert"
	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/internal/tgtest"
)

// shiftClock is the real clock moved forward by a settable offset: the test jumps
// past an escalation step without waiting for it.
type shiftClock struct{ off atomic.Int64 }

func (c *shiftClock) Now() time.Time       { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *shiftClock) Synced() bool         { return true }
func (c *shiftClock) skip(d time.Duration) { c.off.Add(int64(d)) }
func sentTo(s []tgtest.Sent, chat string) []tgtest.Sent {
	return slices.DeleteFunc(slices.Clone(s), func(m tgtest.Sent) bool { return m.ChatID != chat })
}

const (
	directorChat = "1001"
	deputyChat   = "1002"
	tgToken      = "7:E2E-TOKEN"
)

// TestTelegramAckEndToEnd: two medicine fridges go over the zero-hold 12 °C limit
// on a real Mosquitto; the director's Telegram chat (the local Bot API server) gets
// both alerts with the acknowledge button; the director presses the button of the
// first, which arrives through getUpdates; that alert becomes acknowledged — the
// press is answered, an `alert` point with state=acknowledged lands in a real
// InfluxDB, the retained MQTT message says acknowledged, the director hears who
// acknowledged — and, once the 15-minute step is past, the deputy is told about
// the second alert only: the acknowledged one does not escalate.
func TestTelegramAckEndToEnd(t *testing.T) {
	t.Parallel()
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "tgack")
	tg := tgtest.Start(t, tgToken)
	cfg := alertConfig(t, mq.URL(), in.URL(), in.Bucket(), "")
	tokenFile := filepath.Join(t.TempDir(), "telegram.token")
	if err := os.WriteFile(tokenFile, []byte(tgToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Sensors = append(cfg.Sensors, config.Sensor{ID: "fridge-2", Zone: "med-fridge", Source: "saqshy"})
	cfg.Alerts.Telegram = config.AlertTelegram{BaseURL: tg.URL, TokenFile: tokenFile}
	cfg.Alerts.StatusURL = "http://gw.local:8080/"
	cfg.Alerts.Recipients = []config.Recipient{
		{Name: "Director", Lang: "en", TelegramChat: directorChat},
		{Name: "Deputy director", Lang: "en", TelegramChat: deputyChat},
	}
	cfg.Alerts.Escalation.Critical = []config.EscalationStep{
		{After: 0, Notify: []string{"Director"}},
		{After: config.Duration(15 * time.Minute), Notify: []string{"Deputy director"}},
	}
	clk := &shiftClock{}
	g := runE2E(t, cfg, Options{Clock: clk})
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; telegram %+v; outbox %+v; alerts %+v", what, tg.Sent(), g.AlertOutboxStats(), g.Alerts())
			}
		}
	}
	pub := mqttClient(t, mq.URL(), "pub")
	send := func(sensor string, v float64) {
		t.Helper()
		if tok := pub.Publish("saqshy/c1/sensor/"+sensor+"/state", 1, false, fmt.Sprintf(`{"temperature_c": %g}`, v)); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	send("fridge-probe", 12.6) // over 12 °C: critical at once
	wait("the director's first message", func() bool { return len(sentTo(tg.Sent(), directorChat)) == 1 })
	send("fridge-2", 13.1)
	wait("the director's second message", func() bool { return len(sentTo(tg.Sent(), directorChat)) == 2 })

	// which alert is which: the status link names it
	var first tgtest.Sent
	for _, m := range sentTo(tg.Sent(), directorChat) {
		if strings.Contains(m.Text, "12.6") {
			first = m
		}
	}
	if first.Callback == "" || !strings.Contains(first.Text, "#alert-") {
		t.Fatalf("the director's message for 12.6 °C should carry the acknowledge button and the status link: %+v", tg.Sent())
	}
	id := linkedAlert(first.Text)
	if first.Callback != "ack:"+id {
		t.Fatalf("button %q for alert %q", first.Callback, id)
	}
	if len(sentTo(tg.Sent(), deputyChat)) != 0 {
		t.Fatalf("the deputy was told before the 15-minute step: %+v", tg.Sent())
	}

	// the director presses the button
	tg.Press(1001, first.Callback, "Aigul", "aigul")
	wait("the press answered", func() bool { return len(tg.Answered()) == 1 })
	state := func(alertID string) alert.State {
		for _, a := range g.Alerts() {
			if a.ID == alertID {
				return a.State
			}
		}
		return ""
	}
	wait("acknowledged", func() bool { return state(id) == alert.Acknowledged })
	var other string
	for _, a := range g.Alerts() {
		if a.ID != id {
			other = a.ID
		}
	}
	if other == "" || state(other) != alert.Firing {
		t.Fatalf("the other alert should still be firing: %+v", g.Alerts())
	}
	if a := g.Alerts(); !strings.Contains(a[slices.IndexFunc(a, func(o alert.Open) bool { return o.ID == id })].AckedBy, "Aigul") {
		t.Errorf("acknowledged by %+v", a)
	}
	wait("the director hears the acknowledgement", func() bool {
		for _, m := range sentTo(tg.Sent(), directorChat) {
			if strings.Contains(m.Text, "Aigul") && m.Callback == "" {
				return true
			}
		}
		return false
	})

	// the retained MQTT alert message is updated
	retained := func(topic string) string {
		got := make(chan string, 1)
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL()).SetClientID("sub-" + fmt.Sprint(time.Now().UnixNano())))
		if tok := c.Connect(); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		defer c.Disconnect(100)
		c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
			select {
			case got <- string(m.Payload()):
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
	wait("retained acknowledged", func() bool {
		s := retained("saqshy/c1/alert/" + id)
		return strings.Contains(s, `"state":"acknowledged"`) && strings.Contains(s, "Aigul")
	})

	// the acknowledged point in InfluxDB
	wait("the acknowledged point", func() bool {
		return in.Count(t, "alert", "state", `"subject"='fridge-probe'`) == 2
	})
	series, err := in.Query(t.Context(), `SELECT "state","acked_by","id" FROM "alert" WHERE "centre"='c1' AND "subject"='fridge-probe' AND "rule"='temperature_high'`)
	if err != nil || len(series) != 1 || len(series[0].Values) != 2 {
		t.Fatalf("alert points: %+v %v", series, err)
	}
	if v := series[0].Values[1]; v[1] != "acknowledged" || !strings.Contains(fmt.Sprint(v[2]), "Aigul") || fmt.Sprint(v[3]) != id {
		t.Errorf("acknowledged point %v", v)
	}

	// past the 15-minute step: the deputy hears of both critical alerts — a
	// critical alert escalates until it is resolved (docs/ALERTS.md) — and the
	// acknowledged one says who acknowledged it and that it is not resolved yet
	clk.skip(20 * time.Minute)
	wait("the deputy told of both alerts", func() bool { return len(sentTo(tg.Sent(), deputyChat)) >= 2 })
	time.Sleep(3 * check.TickEvery) // a few more ticks for a wrong message to show
	var sawAcked, sawOther bool
	for _, m := range sentTo(tg.Sent(), deputyChat) {
		switch {
		case linkedAlert(m.Text) == id && strings.Contains(m.Text, "ACKNOWLEDGED by Aigul"):
			// once told of the alert, the deputy also hears who acknowledged it
		case linkedAlert(m.Text) == id:
			sawAcked = true
			if !strings.Contains(m.Text, "acknowledged by Aigul") || !strings.Contains(m.Text, "not resolved yet") {
				t.Errorf("the acknowledged alert's escalation does not say it was acknowledged and is not resolved: %+v", m)
			}
		case m.Callback == "ack:"+other:
			sawOther = true
		default:
			t.Errorf("deputy message %+v, want the escalation of alert %s or %s", m, id, other)
		}
	}
	if !sawAcked || !sawOther {
		t.Errorf("the deputy heard of the acknowledged alert: %v, of the unacknowledged one: %v; want both", sawAcked, sawOther)
	}
}

// linkedAlert returns the alert id of the status link in a message ("" without one).
func linkedAlert(text string) string {
	_, rest, ok := strings.Cut(text, "#alert-")
	if !ok {
		return ""
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	return rest[:end]
}
