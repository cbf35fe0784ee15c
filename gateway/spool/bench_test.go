package spool

import (
	"context"
	"log/slog"
	"testing"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

func benchSpool(b *testing.B) *Spool {
	b.Helper()
	return openT(b, b.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
}

func reportAppend(b *testing.B, s *Spool) {
	st := s.Stats()
	b.ReportMetric(float64(st.Appended)/b.Elapsed().Seconds(), "events/s")
	if st.Appended > 0 {
		b.ReportMetric(float64(st.Commits)/float64(st.Appended), "commits/append")
	}
}

// BenchmarkAppendSerial is one appender, one event per Append: one fsync per event.
func BenchmarkAppendSerial(b *testing.B) {
	s := benchSpool(b)
	ev := testEvent(1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Append(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	reportAppend(b, s)
}

// BenchmarkAppendParallel is 64 goroutines per CPU appending one event each call, like
// MQTT callbacks: group commit shares each fsync among them.
func BenchmarkAppendParallel(b *testing.B) {
	s := benchSpool(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		ev := testEvent(2)
		for pb.Next() {
			if err := s.Append(ctx, ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportAppend(b, s)
}

// BenchmarkRead reads the way the sink does: batches of 500 in order.
func BenchmarkRead(b *testing.B) {
	const n, batch = 20000, 500
	s := benchSpool(b)
	evs := make([]telemetry.Event, 0, 100)
	for i := range n {
		evs = append(evs, testEvent(i))
		if len(evs) == cap(evs) {
			if err := s.Append(context.Background(), evs...); err != nil {
				b.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	b.ReportAllocs()
	var from uint64
	var read int
	for b.Loop() {
		recs, err := s.Read(from, batch)
		if err != nil {
			b.Fatal(err)
		}
		read += len(recs)
		from += batch
		if from >= n {
			from = 0
		}
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(read), "ns/event")
}
