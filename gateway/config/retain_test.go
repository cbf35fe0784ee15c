package config

import (
	"os"
	"runtime"
	"testing"
)

// TestParsedConfigHoldsNoParseTree: a parsed config keeps its field → line index,
// not the YAML node tree it was read from (a running gateway holds its config for
// its life; the tree is ~40 bytes per byte of YAML).
func TestParsedConfigHoldsNoParseTree(t *testing.T) {
	data, err := os.ReadFile("../../firmware-config/centres/shymkent-csu-2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, err := Parse("shymkent-csu-2.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if limit := int64(8 * len(data)); held > limit {
		t.Errorf("a parsed config of %d bytes of YAML holds %d bytes of heap, want at most %d", len(data), held, limit)
	}
	if c.pos.keys != nil || c.pos.values != nil || c.pos.set != nil {
		t.Error("the parsed config keeps the parse tree's index")
	}
	if c.Line("sensors[0].zone") == 0 {
		t.Error("the parsed config lost its line index")
	}
	runtime.KeepAlive(c)
}
