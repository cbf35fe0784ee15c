package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzFile returns a function that puts a fuzz input into a fresh directory as the
// file name and returns its path: for fuzz targets that read a state file from
// disk. The directory is in memory (/dev/shm) where there is one: the code under
// test fsyncs, and a temp dir plus fsyncs per input on a busy disk ran such a
// target at 4 inputs a second (make fuzz, docs/BENCHMARKS.md).
func FuzzFile(f *testing.F, name string) func(t *testing.T, data []byte) string {
	f.Helper()
	base, err := os.MkdirTemp("/dev/shm", "saqshy-fuzz-")
	if err != nil {
		base = f.TempDir()
	} else {
		f.Cleanup(func() { os.RemoveAll(base) })
	}
	return func(t *testing.T, data []byte) string {
		t.Helper()
		dir := filepath.Join(base, "state") // one per worker process: fuzz workers are processes
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
		return path
	}
}
