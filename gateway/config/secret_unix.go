//go:build unix

package config

import (
	"io/fs"
	"syscall"
)

// fileGID returns the group owning the file.
func fileGID(info fs.FileInfo) (uint32, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Gid, true
}
