package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// TestShellyBLUE2E: Shelly BLU sensors through Shelly gen2+ devices, with a real
// Mosquitto and InfluxDB. A Plus Plug answers the gateway's Shelly.GetComponents
// (as a Shelly device does, on <src>/rpc): its bthomesensor:203 is obj_id 69, a
// temperature, and lands as one; its bthomesensor:204 is obj_id 30, which the
// gateway does not record, so its value is counted as unknown_quantity and named
// in the log, and stored nowhere. A Pro 2PM that never answers RPC has its sensor's
// quantity: temperature in the config, and lands too.
func TestShellyBLUE2E(t *testing.T) {
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.StartInflux(t, "saqshy")
	cfg := e2eConfig(t, mq, in, "c17b")
	cfg.Zones = append(cfg.Zones, config.Zone{ID: "room-1", Kind: "living"}, config.Zone{ID: "room-2", Kind: "living"})
	const plug, pro = "shellyplusplugm-fc4d6a", "shellypro2pm-ec62608a1c04"
	cfg.Sensors = append(cfg.Sensors,
		config.Sensor{ID: "blu-t", Zone: "room-1", Source: "shelly", Topic: plug, Key: "bthomesensor:203"},
		config.Sensor{ID: "blu-x", Zone: "room-1", Source: "shelly", Topic: plug, Key: "bthomesensor:204"},
		config.Sensor{ID: "blu-pro", Zone: "room-2", Source: "shelly", Topic: pro, Key: "bthomesensor:202", Quantity: "temperature"},
	)

	// The plug: answers Shelly.GetComponents on <src>/rpc with its BLU H&T's sensors.
	dev := mqttClient(t, mq.URL(), "fake-"+plug)
	asked := make(chan struct{}, 16)
	if tok := dev.Subscribe(plug+"/rpc", 1, func(c mqtt.Client, m mqtt.Message) {
		var req struct {
			ID     int    `json:"id"`
			Src    string `json:"src"`
			Method string `json:"method"`
		}
		if err := json.Unmarshal(m.Payload(), &req); err != nil || req.Method != "Shelly.GetComponents" {
			t.Errorf("request %s: %v", m.Payload(), err)
			return
		}
		reply, _ := json.Marshal(map[string]any{"id": req.ID, "src": plug, "dst": req.Src, "result": map[string]any{
			"components": []map[string]any{
				{"key": "bthomedevice:200", "status": map[string]any{"id": 200, "rssi": -70, "battery": 100}, "config": map[string]any{"id": 200, "addr": "fc:4d:6a:38:e2:f2", "name": "BLU HT"}},
				{"key": "bthomesensor:202", "config": map[string]any{"id": 202, "addr": "fc:4d:6a:38:e2:f2", "obj_id": 46, "idx": 0}},
				{"key": "bthomesensor:203", "config": map[string]any{"id": 203, "addr": "fc:4d:6a:38:e2:f2", "obj_id": 69, "idx": 0}},
				{"key": "bthomesensor:204", "config": map[string]any{"id": 204, "addr": "fc:4d:6a:38:e2:f2", "obj_id": 30, "idx": 0}},
			},
			"cfg_rev": 28, "offset": 0, "total": 4,
		}})
		c.Publish(req.Src+"/rpc", 1, false, reply)
		asked <- struct{}{}
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	logs := &syncWriter{w: &bytes.Buffer{}}
	g := runE2E(t, cfg, Options{Clock: FixedSync(true), shellyRetry: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	select {
	case <-asked:
	case <-time.After(30 * time.Second):
		t.Fatal("the gateway never asked the plug for its components")
	}
	waitE2E(t, g, 30*time.Second, "the plug's answer read", func() bool {
		return g.Stats().Counters[Key{"shelly", "components"}] > 0
	})

	pub := mqttClient(t, mq.URL(), "shelly-blu-pub")
	ts := time.Now().Unix()
	for _, m := range []struct{ topic, payload string }{
		{plug + "/events/rpc", `{"src":"` + plug + `","dst":"` + plug + `/events","method":"NotifyStatus","params":{"ts":` + jsonInt(ts) + `.21,"bthomesensor:203":{"id":203,"value":22.6,"last_updated_ts":` + jsonInt(ts) + `}}}`},
		{plug + "/status/bthomesensor:204", `{"id":204,"value":1,"last_updated_ts":` + jsonInt(ts) + `}`},
		{pro + "/status/bthomesensor:202", `{"id":202,"value":17.2,"last_updated_ts":` + jsonInt(ts) + `}`},
	} {
		if tok := pub.Publish(m.topic, 1, false, m.payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", m.topic, tok.Error())
		}
	}
	waitE2E(t, g, 30*time.Second, "both BLU temperatures in InfluxDB", func() bool {
		return in.Count(t, "climate", "temperature_c", `"centre"='c17b'`) >= 2
	})
	for sensor, want := range map[string]int64{"blu-t": 1, "blu-pro": 1, "blu-x": 0} {
		if n := in.Count(t, "climate", "temperature_c", `"sensor"='`+sensor+`'`); n != want {
			t.Errorf("%s: %d temperature points, want %d", sensor, n, want)
		}
	}
	series, err := in.Query(t.Context(), `SELECT last("temperature_c") FROM "climate" WHERE "sensor"='blu-t'`)
	if err != nil || len(series) != 1 || len(series[0].Values) != 1 {
		t.Fatalf("blu-t: %v %v", series, err)
	}
	if v, _ := series[0].Values[0][1].(json.Number).Float64(); v != 22.6 {
		t.Errorf("blu-t temperature %v, want 22.6", v)
	}
	waitE2E(t, g, 10*time.Second, "the unknown quantity counted", func() bool {
		return g.Stats().Counters[Key{"shelly", "unknown_quantity"}] == 1
	})
	if !strings.Contains(logs.String(), "bthomesensor:204") {
		t.Errorf("the unknown quantity is not named in the log:\n%s", logs.String())
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// syncWriter serialises writes to w (the gateway logs from several goroutines).
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
