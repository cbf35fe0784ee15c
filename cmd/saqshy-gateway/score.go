package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/score"
)

const scoreHelp = `Usage: saqshy-gateway score --config FILE --from DATE --to DATE [--format csv|json]

Prints the centre's daily safety scores with their components, read back from
InfluxDB (the config's influx section, Flux query API): the file a centre or the
ministry hands to the rating. DATE is YYYY-MM-DD in the centre's time zone; both
days are included. A component the centre has nothing configured for is empty.
See docs/SAFETY_SCORE.md.
`

func scoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("score", scoreHelp, stderr)
	cfgPath := fs.String("config", "/etc/saqshy/centre.yaml", "centre config `file`")
	fromS := fs.String("from", "", "first day, YYYY-MM-DD (required)")
	toS := fs.String("to", "", "last day, YYYY-MM-DD (required)")
	format := fs.String("format", "csv", "output format: csv or json")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "score: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *format != "csv" && *format != "json" {
		fmt.Fprintf(stderr, "score: --format must be csv or json, got %q\n", *format)
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	from, to, err := scoreDates(*fromS, *toS, cfg.Centre.Location)
	if err != nil {
		fmt.Fprintf(stderr, "score: %v\n", err)
		return 2
	}
	if cfg.Influx.URL == "" {
		fmt.Fprintf(stderr, "score: %s has no influx.url to read from\n", *cfgPath)
		return 1
	}
	token := ""
	if cfg.Influx.TokenFile != "" || os.Getenv(config.EnvInfluxToken) != "" {
		if token, err = cfg.InfluxToken(); err != nil {
			fmt.Fprintf(stderr, "score: %v\n", err)
			return 1
		}
	}
	client := influxdb2.NewClientWithOptions(cfg.Influx.URL, token,
		influxdb2.DefaultOptions().SetHTTPRequestTimeout(uint(cfg.Influx.Timeout.Std()/time.Second)+30))
	defer client.Close()
	rows, err := score.ReadDays(ctx, client.QueryAPI(cfg.Influx.Org), cfg.Influx.Bucket, cfg.Centre.ID, cfg.Centre.Location, from, to)
	if err != nil {
		fmt.Fprintf(stderr, "score: %v\n", err)
		return 1
	}
	if *format == "json" {
		err = score.WriteJSON(stdout, rows)
	} else {
		err = score.WriteCSV(stdout, rows)
	}
	if err != nil {
		fmt.Fprintf(stderr, "score: %v\n", err)
		return 1
	}
	if len(rows) == 0 {
		fmt.Fprintf(stderr, "score: no day scores for centre %s from %s to %s\n", cfg.Centre.ID, *fromS, *toS)
	}
	return 0
}

// scoreDates parses the --from and --to days in loc.
func scoreDates(fromS, toS string, loc *time.Location) (from, to time.Time, err error) {
	if fromS == "" || toS == "" {
		return from, to, fmt.Errorf("--from and --to are required (YYYY-MM-DD)")
	}
	if from, err = time.ParseInLocation(time.DateOnly, fromS, loc); err != nil {
		return from, to, fmt.Errorf("--from %q: want a date YYYY-MM-DD", fromS)
	}
	if to, err = time.ParseInLocation(time.DateOnly, toS, loc); err != nil {
		return from, to, fmt.Errorf("--to %q: want a date YYYY-MM-DD", toS)
	}
	if to.Before(from) {
		return from, to, fmt.Errorf("--from %s is after --to %s", fromS, toS)
	}
	if to.Sub(from) > 3*366*24*time.Hour {
		return from, to, fmt.Errorf("--from %s to --to %s is more than 3 years", fromS, toS)
	}
	return from, to, nil
}
