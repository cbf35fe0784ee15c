package config

import (
	_ "embed"
	"slices"
)

//go:embed example.yaml
var example []byte

// Example returns the reference centre config: every section, commented for a
// technician. `saqshy-gateway example-config` prints it. It is a copy; firmware-config/
// centres/example.yaml holds the same bytes.
func Example() []byte { return slices.Clone(example) }
