//go:build !unix

package spool

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir creates the lock file but cannot lock it on this platform: two Spools on one
// directory are not detected.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return f, nil
}
