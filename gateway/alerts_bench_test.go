package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/saqshy/saqshy/gateway/alert"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// BenchmarkAlertLatency measures the time from the MQTT publish of a reading that
// crosses a zero-hold critical limit (a medicine fridge over 12 °C) to the signed
// webhook receiving the alert, through a real Mosquitto, the gateway (in process,
// spool on disk, InfluxDB 1.8 writes) and the outbox, while 1,000 ordinary
// readings a second flow beside. One iteration is one alert; run with
//
//	go test -run='^$' -bench=AlertLatency -benchtime=1000x -count=3 ./gateway/
func BenchmarkAlertLatency(b *testing.B) {
	const fridges, background, rate = 50, 100, 1000
	mq := testenv.StartMosquitto(b, testenv.MosquittoOptions{})
	in := testenv.StartInflux(b, "alertbench")
	hook := startWebhook(b, []byte("hook-secret"))
	cfg := alertConfig(b, mq.URL(), in.URL(), in.Bucket(), hook.URL)
	cfg.Zones = append(cfg.Zones, config.Zone{ID: "room-1", Kind: "living", Name: "Room 1"})
	cfg.Sensors = nil
	for i := range fridges {
		cfg.Sensors = append(cfg.Sensors, config.Sensor{ID: fmt.Sprintf("fridge-%d", i), Zone: "med-fridge", Source: "saqshy"})
	}
	for i := range background {
		cfg.Sensors = append(cfg.Sensors, config.Sensor{ID: fmt.Sprintf("room-%d", i), Zone: "room-1", Source: "saqshy"})
	}
	g := runE2E(b, cfg, Options{Logger: slog.New(slog.DiscardHandler), Clock: FixedSync(true)})
	connect := func(id string) mqtt.Client {
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(mq.URL()).SetClientID(id))
		if tok := c.Connect(); tok.Wait() && tok.Error() != nil {
			b.Fatal(tok.Error())
		}
		return c
	}
	// Background: 1,000 readings a second, in batches every 10 ms.
	bg := connect("background")
	defer bg.Disconnect(100)
	bgCtx, stopBG := context.WithCancel(b.Context())
	var bgSent atomic.Int64
	var bgWG sync.WaitGroup
	bgWG.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		n := 0
		for {
			select {
			case <-bgCtx.Done():
				return
			case <-t.C:
			}
			for range rate / 100 {
				bg.Publish(fmt.Sprintf("saqshy/c1/sensor/room-%d/state", n%background), 1, false,
					fmt.Sprintf(`{"temperature_c": %.1f}`, 21+float64(n%7)/10))
				n++
			}
			bgSent.Add(rate / 100)
		}
	})
	defer func() { stopBG(); bgWG.Wait() }()

	pub := connect("fridges")
	defer pub.Disconnect(100)
	publish := func(sensor string, v float64) {
		if tok := pub.Publish("saqshy/c1/sensor/"+sensor+"/state", 1, false, fmt.Sprintf(`{"temperature_c": %g}`, v)); tok.Wait() && tok.Error() != nil {
			b.Fatal(tok.Error())
		}
	}
	firing := func() int {
		n := 0
		for _, e := range hook.list() {
			if e.State == alert.Firing {
				n++
			}
		}
		return n
	}
	time.Sleep(2 * time.Second) // background traffic settles
	var lat []time.Duration
	bgStart := bgSent.Load()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sensor := fmt.Sprintf("fridge-%d", i%fridges)
		before := firing()
		start := time.Now()
		publish(sensor, 12.6)
		deadline := start.Add(10 * time.Second)
		for firing() == before {
			if time.Now().After(deadline) {
				b.Fatalf("alert %d not received; outbox %+v", i, g.AlertOutboxStats())
			}
			time.Sleep(200 * time.Microsecond)
		}
		hook.mu.Lock()
		got := hook.at[len(hook.at)-1]
		hook.mu.Unlock()
		lat = append(lat, got.Sub(start))
		publish(sensor, 5) // resolve before the sensor's next turn
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(bgSent.Load()-bgStart)/b.Elapsed().Seconds(), "background-msgs/s")
}
