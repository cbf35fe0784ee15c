// Package atomicfile replaces a file's contents so that a crash or power cut
// leaves either the old contents or the new, never a mix or an empty file: the
// state files of the checks, the alert engine and the monitor.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
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
	SyncDir(path)
	return nil
}

// SyncDir fsyncs the directory holding path, so that a rename in it is durable
// (best effort: not every file system syncs directories).
func SyncDir(path string) {
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// Leftovers returns the temporary files that writes of path interrupted by a
// crash or power cut left in its directory (never renamed: not path's contents).
func Leftovers(path string) []string {
	if path == "" {
		return nil
	}
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil
	}
	var out []string
	prefix := tempPrefix(path)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			out = append(out, filepath.Join(filepath.Dir(path), e.Name()))
		}
	}
	return out
}
