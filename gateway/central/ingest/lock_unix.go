//go:build unix

package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// lock takes an exclusive flock on <heads>/<centre>.lock, waiting for another
// process (or another Server in this one) that holds it. Every replica that
// mounts the heads directory takes it around a request, so two of them never
// advance one chain at once. On NFS, flock is an NFSv4 lock (Linux maps it).
// *fp is the lock file's descriptor, kept open between requests (opened when
// nil); unlock releases the lock and keeps it.
func (h heads) lock(centre string, fp **os.File) (unlock func(), err error) {
	if *fp == nil {
		// Without O_CREATE first: creating takes the directory's lock, which every
		// other centre's create and rotation contends for.
		f, err := os.OpenFile(h.lockPath(centre), os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			f, err = os.OpenFile(h.lockPath(centre), os.O_RDWR|os.O_CREATE, 0o640)
		}
		if err != nil {
			return nil, fmt.Errorf("chain head lock: %w", err)
		}
		*fp = f
	}
	fd := int((*fp).Fd())
	for {
		err = syscall.Flock(fd, syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		(*fp).Close()
		*fp = nil
		return nil, fmt.Errorf("chain head lock %s: %w", h.lockPath(centre), err)
	}
	return func() {
		if syscall.Flock(fd, syscall.LOCK_UN) != nil {
			(*fp).Close() // closing the descriptor releases the lock
			*fp = nil
		}
	}, nil
}

// fileLimit returns the process's soft limit on open descriptors.
func fileLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	return uint64(rl.Cur), true
}
