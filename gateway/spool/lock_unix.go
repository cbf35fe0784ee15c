//go:build unix

package spool

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// flock takes an exclusive advisory lock on f, the lock file of dir. It returns
// ErrLocked if another Spool (in this process or another) holds it.
func flock(f *os.File, dir string) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return fmt.Errorf("spool: lock %s: %w", dir, err)
	}
	return nil
}
