package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/saqshy/saqshy/cmd/internal/cli"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/sim"
)

const historyHelp = `Usage: saqshy-sim history [flags]

Writes DAYS of simulated history for a fleet of N centres straight to InfluxDB
through the gateway's writer client (line protocol, gzip, v2 write API): per centre
8 climate zones and a gateway heartbeat every --step, hourly live safety scores and
coverage, day scores, a round night per night and alert incidents. --print-centres
prints the matching centres: list for saqshy-monitor's config.

  saqshy-sim history --centres 200 --influx http://127.0.0.1:8086 --bucket saqshy/autogen

Flags:
`

// runHistory is the fleet mode: N centres' history written to InfluxDB.
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("saqshy-sim history", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, historyHelp); fs.PrintDefaults() }
	n := fs.Int("centres", 10, "number of centres `N`")
	days := fs.Int("days", 30, "days of history")
	step := fs.Duration("step", 10*time.Minute, "climate and heartbeat interval")
	url := fs.String("influx", "http://127.0.0.1:8086", "InfluxDB `url`")
	bucket := fs.String("bucket", "saqshy/autogen", "bucket (InfluxDB 1.8: database/retention-policy)")
	org := fs.String("org", "", "organisation (InfluxDB 2.x)")
	seed := fs.Uint64("seed", 1, "random seed")
	silentEvery := fs.Int("silent-every", 50, "every `K`-th centre's gateway went silent 2 h ago (0: none)")
	printCentres := fs.Bool("print-centres", false, "print the centres as saqshy-monitor config YAML and exit")
	if code, ok := cli.ParseFlags(fs, args); !ok {
		return code
	}
	switch {
	case *n <= 0 || *n > 100000:
		fmt.Fprintf(stderr, "saqshy-sim history: --centres %d is outside 1..100000\n", *n)
		return 2
	case *days <= 0 || *days > 400:
		fmt.Fprintf(stderr, "saqshy-sim history: --days %d is outside 1..400\n", *days)
		return 2
	case *step < time.Minute:
		fmt.Fprintf(stderr, "saqshy-sim history: --step %v is below 1m\n", *step)
		return 2
	case !strings.HasPrefix(*url, "http://") && !strings.HasPrefix(*url, "https://"):
		fmt.Fprintf(stderr, "saqshy-sim history: --influx %q is not an http(s) URL\n", *url)
		return 2
	}
	end := time.Now()
	if *printCentres {
		fmt.Fprintln(stdout, "centres:")
		for _, c := range sim.Fleet(*n, *seed, end, *silentEvery) {
			fmt.Fprintf(stdout, "  - {id: %s, name: %q, region: %q, timezone: %s}\n", c.ID, c.Name, c.Region, c.Timezone)
		}
		return 0
	}
	token := os.Getenv(config.EnvInfluxToken)
	client := influxsink.NewClient(*url, token, *org, *bucket, 60*time.Second)
	defer client.Close()
	t0 := time.Now()
	var lines atomic.Int64
	counter := &countingWriter{w: client, n: &lines}
	_, err := sim.WriteFleet(ctx, counter, sim.FleetOptions{Centres: *n, Days: *days, Step: *step, End: end, Seed: *seed, SilentEvery: *silentEvery, Parallel: 3,
		Progress: func(done, total int) {
			if done%100 == 0 || done == total {
				fmt.Fprintf(stderr, "saqshy-sim history: %d/%d centres, %d points, %.0f points/s\n", done, total, lines.Load(), float64(lines.Load())/time.Since(t0).Seconds())
			}
		}})
	if err != nil {
		fmt.Fprintf(stderr, "saqshy-sim history: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "saqshy-sim history: %d centres × %d days, %d points in %v\n", *n, *days, lines.Load(), time.Since(t0).Round(time.Second))
	return 0
}

type countingWriter struct {
	w sim.LineWriter
	n *atomic.Int64
}

func (c *countingWriter) WriteRecord(ctx context.Context, lines ...string) error {
	for _, l := range lines {
		c.n.Add(int64(strings.Count(l, "\n") + 1))
	}
	return c.w.WriteRecord(ctx, lines...)
}
