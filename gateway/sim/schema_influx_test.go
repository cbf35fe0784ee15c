package sim_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// sliceQueue is a fixed queue of records for the real influxsink.Writer.
type sliceQueue struct {
	mu     sync.Mutex
	recs   []telemetry.Record
	cursor uint64
}

func (q *sliceQueue) Read(from uint64, max int) ([]telemetry.Record, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []telemetry.Record
	for _, r := range q.recs {
		if r.Seq >= from && len(out) < max {
			out = append(out, r)
		}
	}
	return out, nil
}

func (q *sliceQueue) Wait(ctx context.Context, from uint64) error {
	if from < q.Head() {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (q *sliceQueue) Commit(seq uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.cursor = seq
	return nil
}

func (q *sliceQueue) Cursor() uint64 { q.mu.Lock(); defer q.mu.Unlock(); return q.cursor }
func (q *sliceQueue) Head() uint64   { return uint64(len(q.recs)) }

// TestHistoryAndGatewayShareABucket seeds a real InfluxDB 1.8 bucket with the
// fleet's history, then writes a real gateway's points into the same bucket through
// the gateway's own writer: InfluxDB must take every one (a field written as two
// types would be refused and dead-lettered), and every field's type in the bucket
// must be the schema's.
func TestHistoryAndGatewayShareABucket(t *testing.T) {
	in := testenv.StartInflux(t, "shared")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := influxsink.NewClient(in.URL(), "", "", in.Bucket(), 30*time.Second)
	defer client.Close()
	end := time.Now().Add(-time.Hour)
	centres, err := sim.WriteFleet(ctx, client, sim.FleetOptions{Centres: 1, Days: 1, Step: 30 * time.Minute, End: end, Seed: 7})
	if err != nil {
		t.Fatalf("WriteFleet: %v", err)
	}
	seeded := in.Count(t, telemetry.MeasurementGateway, "uptime_s", "")
	if seeded == 0 {
		t.Fatal("the fleet wrote no gateway heartbeat")
	}

	// The real centre's gateway, same centre id, writing its own points.
	now := time.Now()
	var res score.Result
	evs := []telemetry.Event{
		telemetry.Heartbeat{Uptime: 90 * time.Second, SpoolBytes: 10, MQTTConnected: true, ClockSynced: true, InfluxOK: true, RegistryVersion: 3, ConfigHash: "abc"}.Point(now),
		res.Point(now, "live", "w1"),
		telemetry.NewPoint(now, telemetry.MeasurementAlert, []telemetry.Tag{{Key: "zone", Value: "med-fridge"}},
			telemetry.String("state", "firing"), telemetry.Float("value", 9.5), telemetry.String("id", "a1"), telemetry.String("acked_by", "")),
		telemetry.NewPoint(now, telemetry.MeasurementCoverage, []telemetry.Tag{{Key: "period", Value: "live"}, {Key: "zone_kind", Value: "all"}},
			telemetry.Float("required_s", 60), telemetry.Float("covered_s", 60), telemetry.Float("ratio", 1)),
		telemetry.NewPoint(now, telemetry.MeasurementRoundNight, []telemetry.Tag{{Key: "night", Value: "2026-01-01"}},
			telemetry.Int("due", 4), telemetry.Int("on_time", 4), telemetry.Int("late", 0), telemetry.Int("missed", 0),
			telemetry.Int("unjudged", 0), telemetry.Float("compliance", 1), telemetry.Bool("unknown", false), telemetry.Int("flagged_scans", 0)),
		{Time: now, Sensor: "room-101-t", Source: "zigbee2mqtt", Zone: "room-101", ZoneKind: "living",
			Values: []telemetry.Value{{Metric: telemetry.Temperature, V: 21.5}, {Metric: telemetry.Humidity, V: 40}}},
	}
	q := &sliceQueue{}
	for i, ev := range evs {
		if ev.Point != nil {
			if err := telemetry.CheckSchema(ev.Point); err != nil {
				t.Fatalf("gateway point %d: %v", i, err)
			}
		}
		q.recs = append(q.recs, telemetry.Record{Seq: uint64(i), Event: ev})
	}
	dead := filepath.Join(t.TempDir(), "dead.lp")
	w := influxsink.New(q, client, influxsink.Options{Centre: centres[0].ID, DeadLetter: dead, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	wctx, wcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	for q.Cursor() < q.Head() && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	wcancel()
	<-done
	st := w.Stats()
	if st.DeadLettered != 0 || st.LastError != "" {
		b, _ := os.ReadFile(dead)
		t.Fatalf("InfluxDB refused the gateway's points after the fleet's history: %d dead-lettered, last error %q\n%s", st.DeadLettered, st.LastError, b)
	}
	if got := in.Count(t, telemetry.MeasurementGateway, "uptime_s", ""); got != seeded+1 {
		t.Errorf("gateway heartbeats: %d, want %d seeded + 1 real", got, seeded)
	}

	// Every field in the bucket has the schema's type.
	names := map[telemetry.FieldKind]string{telemetry.FloatField: "float", telemetry.IntField: "integer", telemetry.BoolField: "boolean", telemetry.StringField: "string"}
	series, err := in.Query(ctx, "SHOW FIELD KEYS")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, s := range series {
		fields, ok := telemetry.Schema[s.Name]
		if !ok {
			t.Errorf("measurement %q in the bucket is not in telemetry.Schema", s.Name)
			continue
		}
		for _, v := range s.Values {
			key, typ := v[0].(string), v[1].(string)
			want, ok := fields[key]
			if !ok && key == telemetry.FlagsField {
				want, ok = telemetry.IntField, true
			}
			if !ok {
				t.Errorf("field %s.%s in the bucket is not in telemetry.Schema", s.Name, key)
			} else if typ != names[want] {
				t.Errorf("field %s.%s is %s in the bucket, schema says %s", s.Name, key, typ, names[want])
			}
			checked++
		}
	}
	if checked < 20 {
		b, _ := json.Marshal(series)
		t.Errorf("only %d fields checked: %s", checked, b)
	}
}
