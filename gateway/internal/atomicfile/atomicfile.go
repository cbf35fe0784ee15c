// Package atomicfile replaces a file's contents so that a crash or power cut
// leaves either the old contents or the new, never a mix or an empty file: the
// state files of the checks, the alert engine and the monitor.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write writes data to path: a temporary file in the same directory (created with
// its parents when missing, mode 0750), fsynced, renamed over path, then the
// directory fsynced (best effort: not every file system syncs directories). The
// new file has mode 0600 before the umask.
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
