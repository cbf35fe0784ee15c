//go:build !unix

package spool

import "os"

// flock cannot lock on this platform: two Spools on one directory are not
// detected.
func flock(*os.File, string) error { return nil }
