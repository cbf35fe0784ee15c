package config

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse: any input gives either a valid config or *FieldErrors, never a panic.
func FuzzParse(f *testing.F) {
	for _, data := range parseSeeds() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data) })
}

// maxFuzzConfig caps FuzzParse's inputs: parsing the 16 KiB example took 10 ms on a
// loaded machine and the fuzzer's mutations only grow inputs, so it reported 0
// execs/s; the full files are parsed by the unit tests.
const maxFuzzConfig = 8 << 10

// parseSeeds are the example config without its comments (5.6 KiB instead of 16: the
// same keys and values, under maxFuzzConfig) and the bad configs of testdata. A real
// centre's config (firmware-config/centres, 14 KiB without comments: many sensors of
// the same shape) is over the cap; its unit test parses it.
//
// Each other top-level section of the example is also a seed of its own, after the
// centre and zones sections: small valid configs, which the fuzzer mutates many times
// faster than the whole example.
func parseSeeds() [][]byte {
	example := stripComments(Example())
	seeds := [][]byte{example}
	var base []byte
	sections := splitSections(example)
	for _, sec := range sections {
		if bytes.HasPrefix(sec, []byte("centre:")) || bytes.HasPrefix(sec, []byte("zones:")) {
			base = append(base, sec...)
		}
	}
	for _, sec := range sections {
		if !bytes.HasPrefix(sec, []byte("centre:")) && !bytes.HasPrefix(sec, []byte("zones:")) {
			seeds = append(seeds, append(slices.Clip(base), sec...))
		}
	}
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, file := range bad {
		if data, err := os.ReadFile(file); err == nil {
			seeds = append(seeds, data)
		}
	}
	return append(seeds, []byte("a: &a [*a]\n"), []byte("centre: {id: x}\nsensors: &s [{<<: *s}]\n"))
}

// fuzzParse is FuzzParse's body, shared with BenchmarkFuzzParse.
func fuzzParse(t testing.TB, data []byte) {
	if len(data) > maxFuzzConfig {
		return
	}
	cfg, err := Parse("fuzz.yaml", data)
	if err != nil {
		if cfg != nil {
			t.Fatal("config and error")
		}
		fes := FieldErrors(err)
		if len(fes) == 0 {
			t.Fatalf("error without FieldErrors: %v", err)
		}
		for _, fe := range fes {
			if fe.Err == nil || fe.Line < 0 || fe.File != "fuzz.yaml" {
				t.Fatalf("bad FieldError %#v", fe)
			}
		}
		return
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Parse succeeded but Validate fails: %v", err)
	}
	if cfg.Centre.ID == "" || cfg.Centre.Location == nil {
		t.Fatalf("valid config without centre id or location")
	}
	for _, s := range cfg.Sensors {
		if s.Device() == "" || s.Interval <= 0 {
			t.Fatalf("sensor %q: device %q interval %v", s.ID, s.Device(), s.Interval)
		}
	}
	if !strings.Contains(cfg.Summary(), cfg.Centre.ID) {
		t.Fatal("summary without centre id")
	}
}

// splitSections splits a config at its top-level keys.
func splitSections(b []byte) [][]byte {
	var out [][]byte
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l == "" {
			continue
		}
		if len(out) == 0 || (l[0] != ' ' && l[0] != '-') {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], l...)
	}
	return out
}

// stripComments drops comment lines, blank lines and trailing " # " comments.
func stripComments(b []byte) []byte {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if s := strings.TrimSpace(l); s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if i := strings.Index(l, " # "); i > 0 {
			l = l[:i]
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// TestFuzzSeedsValid: the stripped example and its sections still parse, so the
// fuzzer starts from valid configs, and no seed is over the cap.
func TestFuzzSeedsValid(t *testing.T) {
	seeds := parseSeeds()
	n := len(splitSections(stripComments(Example()))) - 1 // the whole, and all but centre and zones
	if n < 10 {
		t.Fatalf("the example splits into %d sections", n)
	}
	for i, data := range seeds[:n] {
		if _, err := Parse("seed.yaml", data); err != nil {
			t.Errorf("seed %d (the example without comments, or a section of it): %v\n%s", i, err, data)
		}
	}
	for i, data := range seeds {
		if len(data) > maxFuzzConfig {
			t.Errorf("seed %d: %d bytes, above the fuzzer's cap %d", i, len(data), maxFuzzConfig)
		}
	}
}

// BenchmarkFuzzParse times FuzzParse's body over its seed corpus: one op is one input.
func BenchmarkFuzzParse(b *testing.B) {
	seeds := parseSeeds()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		fuzzParse(b, seeds[i%len(seeds)])
	}
}

// BenchmarkFuzzParseEach times each seed of FuzzParse, to find the slow ones.
func BenchmarkFuzzParseEach(b *testing.B) {
	for i, data := range parseSeeds() {
		b.Run(strconv.Itoa(i)+"-"+strconv.Itoa(len(data))+"B", func(b *testing.B) {
			for b.Loop() {
				fuzzParse(b, data)
			}
		})
	}
}
