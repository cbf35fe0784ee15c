// Package cli is what the commands share: subcommand dispatch with help, and
// flag sets that print their help text on --help.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Dispatch runs the subcommand named by args[0] through run, which reports false
// for a name it does not know. No arguments print usage to stderr (exit code 2);
// "help", "-h", "--help" print it to stdout (0), and "help NAME" runs NAME
// --help. An unknown name is named, with usage, on stderr (2). prog names the
// program in that message.
func Dispatch(prog, usage string, args []string, stdout, stderr io.Writer, run func(name string, args []string) (code int, ok bool)) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		if len(args) > 1 {
			return Dispatch(prog, usage, []string{args[1], "--help"}, stdout, stderr, run)
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	if code, ok := run(args[0], args[1:]); ok {
		return code
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n%s", prog, args[0], usage)
	return 2
}

// NewFlagSet returns a flag set writing to stderr that prints help, then its
// flags, on --help.
func NewFlagSet(name, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), help)
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// ParseFlags parses args into fs; ok=false means the command stops with code: 0
// after --help, 2 on a usage error (fs has printed it).
func ParseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// Main runs run with a context that ends on SIGINT or SIGTERM, then exits the
// process with run's code.
func Main(run func(ctx context.Context) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx)
	stop()
	os.Exit(code)
}
