package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestHistoryFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"history", "--centres", "0"}, 2, "--centres 0"},
		{[]string{"history", "--days", "1000"}, 2, "--days 1000"},
		{[]string{"history", "--step", "1s"}, 2, "--step 1s"},
		{[]string{"history", "--influx", "ftp://x"}, 2, "not an http(s) URL"},
		{[]string{"history", "--nope"}, 2, "not defined"},
		{[]string{"history", "--centres", "2", "--print-centres"}, 0, "{id: c00002"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("%v: code %d, output %q; want %d and %q", tc.args, code, out.String()+errb.String(), tc.code, tc.want)
		}
	}
}
