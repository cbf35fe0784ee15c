//go:build nodemo

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A binary built without the demo says so and how to run it: go test -tags nodemo.
func TestDemoNotBuiltIn(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := demoCmd(context.Background(), nil, &out, &errb); rc != 2 {
		t.Fatalf("demo in a nodemo build returned %d, want 2", rc)
	}
	if !strings.Contains(errb.String(), "go run ./cmd/saqshy-gateway demo") {
		t.Fatalf("demo in a nodemo build said %q, want how to run the demo", errb.String())
	}
}
