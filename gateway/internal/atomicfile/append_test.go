package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAppendJSONLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "changes.log")
	for _, v := range []any{map[string]int{"a": 1}, []string{"b"}} {
		if err := AppendJSONLine(path, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "{\"a\":1}\n[\"b\"]\n" {
		t.Fatalf("log %q, %v", got, err)
	}
	if err := AppendJSONLine(path, func() {}); err == nil {
		t.Error("a value JSON cannot encode: no error")
	}
	if err := AppendJSONLine(filepath.Join(path, "x.log"), 1); err == nil {
		t.Error("a path under a file: no error")
	}
}
