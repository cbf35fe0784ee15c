package spool_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/saqshy/saqshy/gateway/spool"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// The source appends and acknowledges only on success; the sink reads, delivers and
// commits.
func Example() {
	dir, err := os.MkdirTemp("", "spool-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := spool.Open(dir, spool.Options{MaxBytes: 64 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	// Source side: one event per MQTT message.
	for i := range 3 {
		ev := telemetry.Event{
			Time:   time.Date(2025, 1, 1, 22, 0, i, 0, time.UTC),
			Sensor: "fridge-probe", Zone: "med-fridge", ZoneKind: "med-fridge", Source: "tasmota",
			Values: []telemetry.Value{{Metric: telemetry.Temperature, V: 4 + float64(i)}},
		}
		if err := s.Append(ctx, ev); err != nil {
			continue // do not ack: the broker redelivers
		}
		// msg.Ack()
	}

	// Sink side: start at the durable cursor.
	next := s.Cursor()
	if err := s.Wait(ctx, next); err != nil {
		log.Fatal(err)
	}
	recs, err := s.Read(next, 100)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs {
		fmt.Println(r.Seq, r.Event.Sensor, r.Event.Values[0].V)
	}
	// ... write recs to InfluxDB, then:
	if err := s.Commit(recs[len(recs)-1].Seq + 1); err != nil {
		log.Fatal(err)
	}
	fmt.Println("cursor", s.Cursor(), "backlog", s.Stats().Backlog)
	// Output:
	// 0 fridge-probe 4
	// 1 fridge-probe 5
	// 2 fridge-probe 6
	// cursor 3 backlog 0
}
