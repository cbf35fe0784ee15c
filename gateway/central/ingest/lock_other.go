//go:build !unix

package ingest

import "os"

// lock is a no-op where flock does not exist: run one replica per heads
// directory there (docs/SCALING.md).
func (h heads) lock(string, **os.File) (func(), error) { return func() {}, nil }

// fileLimit: unknown here.
func fileLimit() (uint64, bool) { return 0, false }
