//go:build nodemo

package main

import (
	"context"
	"fmt"
	"io"
)

// demoCmd of a build without the demo (-tags nodemo, the Pi's release binaries): the
// embedded broker and the simulated centre are not linked into the daemon.
func demoCmd(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "saqshy-gateway demo: this binary was built without the demo (-tags nodemo, as the Pi's "+
		"packages are); run it from the source tree: go run ./cmd/saqshy-gateway demo")
	return 2
}
