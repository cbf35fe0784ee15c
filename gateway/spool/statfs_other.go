//go:build !linux

package spool

import "errors"

// freeBytes is only implemented on Linux, where the gateway runs.
func freeBytes(string) (int64, error) { return 0, errors.New("free space unknown on this system") }
