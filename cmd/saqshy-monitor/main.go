// Command saqshy-monitor is the ministry's monitoring room: every centre on one
// screen, silent gateways caught, the monthly rating exported and the daily report
// made, reading the centres' points from InfluxDB.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/saqshy/saqshy/cmd/internal/cli"

	"github.com/saqshy/saqshy/gateway/central/monitor"
	"github.com/saqshy/saqshy/gateway/central/web"
)

const help = `Usage:
  saqshy-monitor run --config FILE        serve the monitoring room
  saqshy-monitor check-config FILE        validate a config and name every error
  saqshy-monitor hash-password            read a password on stdin, print its bcrypt hash
                                          (for users[].password_hash)
`

func main() {
	cli.Main(func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr) })
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, help)
		return 2
	}
	switch args[0] {
	case "run":
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(stderr)
		path := fs.String("config", "/etc/saqshy/monitor.yaml", "config `file`")
		debug := fs.Bool("debug", false, "log at debug level")
		if code, ok := cli.ParseFlags(fs, args[1:]); !ok {
			return code
		}
		cfg, err := monitor.LoadConfig(*path)
		if err != nil {
			fmt.Fprintf(stderr, "saqshy-monitor: %v\n", err)
			return 1
		}
		lvl := slog.LevelInfo
		if *debug {
			lvl = slog.LevelDebug
		}
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
		app, err := monitor.New(cfg, log, nil)
		if err != nil {
			fmt.Fprintf(stderr, "saqshy-monitor: %v\n", err)
			return 1
		}
		if err := app.Run(ctx, nil); err != nil {
			fmt.Fprintf(stderr, "saqshy-monitor: %v\n", err)
			return 1
		}
		return 0
	case "check-config":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "saqshy-monitor check-config: give exactly one config file")
			return 2
		}
		cfg, err := monitor.LoadConfig(args[1])
		if err != nil {
			fmt.Fprintf(stderr, "saqshy-monitor: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: ok (%d centres, %d users)\n", args[1], len(cfg.Centres), len(cfg.Users))
		return 0
	case "hash-password":
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "saqshy-monitor: %v\n", err)
			return 1
		}
		pw := strings.TrimRight(line, "\r\n")
		if len(pw) < 8 {
			fmt.Fprintln(stderr, "saqshy-monitor hash-password: the password must have at least 8 characters")
			return 1
		}
		h, err := web.HashPassword(pw)
		if err != nil {
			fmt.Fprintf(stderr, "saqshy-monitor: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, h)
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, help)
		return 0
	}
	fmt.Fprintf(stderr, "saqshy-monitor: unknown command %q\n%s", args[0], help)
	return 2
}
