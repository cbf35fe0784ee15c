package main

import (
	"context"
	"fmt"
	"io"

	"github.com/saqshy/saqshy/gateway/config"
)

const checkConfigHelp = `Usage: saqshy-gateway check-config FILE

Validates a centre config without connecting anywhere. On success it prints a
summary (zones by kind, sensors by source, where data goes) and exits 0. Otherwise
it prints every problem at once, each as FILE:LINE: FIELD: what is wrong, and exits 1.
`

func checkConfigCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check-config", checkConfigHelp, stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	cfg, err := config.Load(fs.Arg(0))
	if err != nil {
		n := len(config.FieldErrors(err))
		fmt.Fprintln(stderr, err)
		if n > 1 {
			fmt.Fprintf(stderr, "%d problems found in %s\n", n, fs.Arg(0))
		}
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK\n%s", fs.Arg(0), cfg.Summary())
	for _, w := range cfg.SecretWarnings() {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	return 0
}

const exampleConfigHelp = `Usage: saqshy-gateway example-config > centre.yaml

Prints a complete, commented centre config to start from.
`

func exampleConfigCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("example-config", exampleConfigHelp, stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	_, _ = stdout.Write(config.Example())
	return 0
}
