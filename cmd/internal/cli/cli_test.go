package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestDispatch(t *testing.T) {
	run := func(name string, args []string) (int, bool) {
		if name != "greet" {
			return 0, false
		}
		if len(args) == 1 && args[0] == "--help" {
			return 7, true
		}
		return 3, true
	}
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{nil, 2, "", "USAGE"},
		{[]string{"help"}, 0, "USAGE", ""},
		{[]string{"--help"}, 0, "USAGE", ""},
		{[]string{"help", "greet"}, 7, "", ""},
		{[]string{"greet", "x"}, 3, "", ""},
		{[]string{"gret"}, 2, "", `prog: unknown command "gret"`},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := Dispatch("prog", "USAGE", tt.args, &out, &errb, run)
		if code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderr) ||
			(tt.stdout == "" && out.Len() > 0) || (tt.stderr == "" && errb.Len() > 0) {
			t.Errorf("Dispatch(%q) = %d, stdout %q, stderr %q; want %d, %q, %q", tt.args, code, out.String(), errb.String(), tt.code, tt.stdout, tt.stderr)
		}
	}
}

func TestNewFlagSetHelp(t *testing.T) {
	var errb bytes.Buffer
	fs := NewFlagSet("x", "x does things\n", &errb)
	fs.Bool("v", false, "verbose")
	if err := fs.Parse([]string{"--help"}); err == nil {
		t.Fatal("--help parsed without flag.ErrHelp")
	}
	if got := errb.String(); !strings.HasPrefix(got, "x does things\n\nFlags:\n") || !strings.Contains(got, "verbose") {
		t.Errorf("help = %q", got)
	}
}

func TestParseFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		ok   bool
	}{{[]string{"-v"}, 0, true}, {[]string{"--help"}, 0, false}, {[]string{"--nope"}, 2, false}} {
		var errb bytes.Buffer
		fs := NewFlagSet("x", "help\n", &errb)
		fs.Bool("v", false, "verbose")
		if code, ok := ParseFlags(fs, tt.args); code != tt.code || ok != tt.ok {
			t.Errorf("ParseFlags(%q) = %d, %v; want %d, %v", tt.args, code, ok, tt.code, tt.ok)
		}
	}
}
