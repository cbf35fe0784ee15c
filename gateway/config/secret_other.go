//go:build !unix

package config

import "io/fs"

// fileGID: no group ownership to examine here.
func fileGID(fs.FileInfo) (uint32, bool) { return 0, false }
