package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// TestRunFlushIntervalFromConfig: influx.flush_interval is what spaces the
// daemon's live writes (it was read, checked and then ignored: the daemon used 10 s
// whatever the config said), and its default is those 10 s.
func TestRunFlushIntervalFromConfig(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want time.Duration
	}{
		{"centre: {id: c1}\n", 10 * time.Second},
		{"centre: {id: c1}\ninflux: {flush_interval: 30s}\n", 30 * time.Second},
		{"centre: {id: c1}\ninflux: {flush_interval: 1s}\n", time.Second},
	} {
		cfg, err := config.Parse("c.yaml", []byte(c.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if got := runOptions(cfg, slog.New(slog.DiscardHandler), 0).InfluxFlush; got != c.want {
			t.Errorf("%q: writes spaced %v, want %v", c.yaml, got, c.want)
		}
	}
}
