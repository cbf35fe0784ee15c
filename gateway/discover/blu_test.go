package discover

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/corpus"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// TestDiscoverShellyBLU, with a real Mosquitto: a Plus Plug's BLU H&T temperature
// (bthomesensor:203) arrives as a bare value; discover asks the plug
// (Shelly.GetComponents), the plug answers obj_id 69, and the config block names
// the sensor by its key. A Pro 2PM that does not answer gets its BLU sensor printed
// with quantity: QUANTITY, which check-config rejects until replaced.
func TestDiscoverShellyBLU(t *testing.T) {
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	const plug, pro = "shellyplusplugm-fc4d6a", "shellypro2pm-ec62608a1c04"
	dev := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL()).SetClientID("fake-plug"))
	if tok := dev.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	t.Cleanup(func() { dev.Disconnect(100) })
	answered := make(chan struct{}, 4)
	dev.Subscribe(plug+"/rpc", 1, func(c mqtt.Client, m mqtt.Message) {
		var req struct {
			ID  int    `json:"id"`
			Src string `json:"src"`
		}
		if err := json.Unmarshal(m.Payload(), &req); err != nil {
			t.Errorf("request %s: %v", m.Payload(), err)
			return
		}
		c.Publish(req.Src+"/rpc", 1, false, `{"id":1,"src":"`+plug+`","dst":"`+req.Src+`","result":{"components":[`+
			`{"key":"bthomesensor:203","status":{"id":203,"value":22.6},"config":{"id":203,"addr":"fc:4d:6a:38:e2:f2","name":null,"obj_id":69,"idx":0,"meta":null}}],"cfg_rev":28,"offset":0,"total":1}}`).Wait()
		c.Publish(plug+"/status/bthomesensor:203", 1, false, `{"id":203,"value":22.7,"last_updated_ts":1785961500}`).Wait()
		answered <- struct{}{}
	}).Wait()
	pub := publisher(t, mq.URL())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type out struct {
		res Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := Listen(ctx, Options{URL: mq.URL(), Duration: 4 * time.Second, ProgressEvery: 200 * time.Millisecond})
		done <- out{res, err}
	}()
	time.Sleep(500 * time.Millisecond) // subscribed
	for _, m := range []struct{ topic, payload string }{
		{plug + "/status/bthomesensor:203", `{"id":203,"value":22.6,"last_updated_ts":1785961497}`},
		{pro + "/status/bthomesensor:202", `{"id":202,"value":17.2,"last_updated_ts":1737674475}`},
	} {
		pub(sim.Message{Topic: m.topic, Payload: []byte(m.payload)})
	}
	select {
	case <-answered:
	case <-time.After(10 * time.Second):
		t.Fatal("discover never asked the plug for its components")
	}
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	var report, block bytes.Buffer
	o.res.WriteReport(&report, time.Now())
	o.res.WriteConfig(&block)
	t.Logf("report:\n%s\nblock:\n%s", report.String(), block.String())
	for _, want := range []string{
		`source: shelly, topic: shellyplusplugm-fc4d6a, key: "bthomesensor:203"}  # Shelly BLU (BTHome) through a Shelly gen2+: 22.7 °C`,
		`source: shelly, topic: shellypro2pm-ec62608a1c04, key: "bthomesensor:202", quantity: QUANTITY}`,
	} {
		if !strings.Contains(block.String(), want) {
			t.Errorf("config block lacks %q", want)
		}
	}
	if strings.Contains(report.String(), "Not recognised") {
		t.Errorf("discover's own requests are listed as not recognised")
	}
	if !strings.Contains(report.String(), "BLU sensors of unknown quantity (no answer to Shelly.GetComponents): bthomesensor:202") {
		t.Errorf("the report does not name the unknown BLU sensor")
	}
	head := "centre: {id: c1}\nzones:\n  - {id: room-101, kind: living}\n"
	text := strings.ReplaceAll(block.String(), ZonePlaceholder, "room-101")
	if _, err := config.Parse("discovered.yaml", []byte(head+text)); err == nil {
		t.Error("a block with quantity: QUANTITY parses")
	}
	if _, err := config.Parse("discovered.yaml", []byte(head+strings.ReplaceAll(text, QuantityPlaceholder, "temperature"))); err != nil {
		t.Errorf("the printed block does not parse: %v", err)
	}
}

// TestBLUValueBeforeAnswer: a BLU sensor's value heard before its device's
// Shelly.GetComponents answer (paho hands messages over concurrently) is read once
// the answer says what it measures.
func TestBLUValueBeforeAnswer(t *testing.T) {
	c := New(nil)
	for _, name := range []string{
		"Shelly 1 Mini Gen3 bthomesensor:200 status (battery, obj_id 1 learnt from the answer above)",
		"Shelly 1 Mini Gen3 Shelly.GetComponents answer with a BLU device and its battery sensor (2024)",
	} {
		m, err := corpus.Find("../decode/testdata/corpus", "shelly-bthome.txt", name)
		if err != nil {
			t.Fatal(err)
		}
		c.Add(m.Topic, []byte(m.Payload), false, time.Now())
	}
	r := c.Result()
	if len(r.Devices) != 1 || len(r.Devices[0].UnknownBLU) != 0 {
		t.Fatalf("devices: %+v", r.Devices)
	}
	if rd := r.Devices[0].Readings["bthomesensor:200"]; rd == nil || rd.Values[telemetry.Battery] != 100 || rd.Family != FamilyShellyBLU {
		t.Errorf("bthomesensor:200: %+v", rd)
	}
}
