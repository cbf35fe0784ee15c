package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/influxsink"
)

const deadletterHelp = `Usage: saqshy-gateway deadletter replay [--config FILE] [--file FILE]

Sends the points of the dead-letter file (spool.dir/deadletter.lp: points InfluxDB
refused as malformed) to InfluxDB again, once the cause is fixed, with the config's
influx section. Prints its progress. When every point is accepted the file is renamed
to FILE.replayed-TIME; points refused again are written to FILE.refused-TIME with the
reason, and the command exits 1. Run it while the gateway is stopped, or the gateway
keeps appending to the renamed file. With influx.sign set the points go to the
ministry's ingest as new signed links of the gateway's chain: the gateway must be
stopped (sudo systemctl stop saqshy-gateway), as two processes on one chain fork it.
`

func deadletterCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "replay" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "-help") {
			fmt.Fprint(stdout, deadletterHelp)
			return 0
		}
		fmt.Fprint(stderr, deadletterHelp)
		return 2
	}
	fs := newFlagSet("deadletter replay", deadletterHelp, stderr)
	cfgPath := fs.String("config", "/etc/saqshy/centre.yaml", "centre config `file`")
	file := fs.String("file", "", "dead-letter `file` (default spool.dir/deadletter.lp)")
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "deadletter replay: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cfg.Influx.URL == "" {
		fmt.Fprintf(stderr, "deadletter replay: %s has no influx.url to send to\n", *cfgPath)
		return 1
	}
	if *file == "" {
		*file = filepath.Join(cfg.Spool.Dir, "deadletter.lp")
	}
	token := ""
	if cfg.Influx.TokenFile != "" || os.Getenv("SAQSHY_INFLUX_TOKEN") != "" {
		if token, err = cfg.InfluxToken(); err != nil {
			fmt.Fprintf(stderr, "deadletter replay: %v\n", err)
			return 1
		}
	}
	var client *influxsink.Client
	if sg := cfg.Influx.Sign; sg.Enabled() {
		// The ministry's ingest: the points go as new links of the gateway's chain,
		// after the pending link, if any, is sent again.
		key, err := chain.LoadPrivateKey(sg.KeyFile)
		if err != nil {
			fmt.Fprintf(stderr, "deadletter replay: %v\n", err)
			return 1
		}
		ch, err := chain.Open(sg.ChainFile, cfg.Centre.ID, key)
		if err != nil {
			fmt.Fprintf(stderr, "deadletter replay: %v\n", err)
			return 1
		}
		client = influxsink.NewSignedClient(cfg.Influx.URL, token, cfg.Influx.Org, cfg.Influx.Bucket, cfg.Influx.Timeout.Std(), ch)
		if body, ok := client.PendingBody(); ok {
			if err := client.WriteRecord(ctx, body); err != nil {
				fmt.Fprintf(stderr, "deadletter replay: the chain's pending link could not be sent again (nothing replayed; try later): %v\n", err)
				client.Close()
				return 1
			}
		}
	} else {
		client = influxsink.NewClient(cfg.Influx.URL, token, cfg.Influx.Org, cfg.Influx.Bucket, cfg.Influx.Timeout.Std())
	}
	defer client.Close()

	res, err := influxsink.ReplayFile(ctx, client, *file, cfg.Influx.BatchSize, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "deadletter replay: %v\n", err)
		return 1
	}
	if res.Refused > 0 {
		return 1
	}
	return 0
}
