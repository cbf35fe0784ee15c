//go:build unix

package ingest

import (
	"fmt"
	"os"
	"syscall"
)

// lock takes an exclusive flock on <heads>/<centre>.lock, waiting for another
// process (or another Server in this one) that holds it. Every replica that
// mounts the heads directory takes it around a request, so two of them never
// advance one chain at once. On NFS, flock is an NFSv4 lock (Linux maps it).
func (h heads) lock(centre string) (func(), error) {
	f, err := os.OpenFile(h.lockPath(centre), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("chain head lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("chain head lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil // closing the descriptor releases the lock
}
