package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// MountTmpfs mounts a tmpfs of size (e.g. "2m") on a new directory, a real file
// system small enough to fill, and unmounts it when the test ends. Mounting needs
// root, as `make test` runs in CI; anywhere else the test fails saying so rather
// than skipping, so a disk-full test can never pass by not running.
func MountTmpfs(tb testing.TB, size string) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o750); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		tb.Fatalf("cannot mount a %s tmpfs to fill a real file system: %v: %s (the disk-full tests need root: run them with sudo, as CI does)", size, err, out)
	}
	tb.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			tb.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}
