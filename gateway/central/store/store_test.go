package store

import (
	"sync"
	"testing"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// TestConcurrentFirstQueries: a fresh store's first queries may run at once (the
// monitor's pages and jobs start together); influxdb-client-go builds its query URL
// on first use without a lock, so under -race this fails unless the store holds
// the queries back until one has built it.
func TestConcurrentFirstQueries(t *testing.T) {
	in := testenv.StartInflux(t, "saqshy")
	w := NewStore(in.URL(), "", "", in.Bucket())
	defer w.Close()
	if err := w.Write(t.Context(), "gateway,centre=c1 uptime_s=1i 1700000000000000000"); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		s := NewStore(in.URL(), "", "", in.Bucket())
		var wg sync.WaitGroup
		errs := make([]error, 8)
		rows := make([]int, 8)
		for i := range errs {
			wg.Go(func() {
				r, err := s.Query(t.Context(), `from(bucket: "`+in.Bucket()+`") |> range(start: 2023-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == "gateway")`, "centre")
				rows[i], errs[i] = len(r), err
			})
		}
		wg.Wait()
		s.Close()
		for i, err := range errs {
			if err != nil || rows[i] != 1 {
				t.Errorf("round %d, query %d: %d rows, %v; want 1 row", round, i, rows[i], err)
			}
		}
	}
}
