package config

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.err from the current output")

// reWant finds "# want: sensors[3].zone, sensors[3].source" markers in a bad case: the
// FieldErrors expected on that line ("-" for one without a field).
var reWant = regexp.MustCompile(`#\s*want:\s*(.+?)\s*$`)

type lineField struct {
	line  int
	field string
}

func wantMarkers(t *testing.T, data []byte) []lineField {
	t.Helper()
	var out []lineField
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		m := reWant.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		for f := range strings.SplitSeq(m[1], ",") {
			f = strings.TrimSpace(f)
			if f == "-" {
				f = ""
			}
			out = append(out, lineField{n, f})
		}
	}
	return out
}

// TestBadConfigs parses every testdata/bad/*.yaml and checks that
//   - the error text equals <case>.err (go test -run TestBadConfigs -update rewrites it);
//   - every "# want: field" marker has a FieldError with that field on that line, and
//     every FieldError with a line has a marker: all problems are reported, each
//     with the right field path and line, and nothing else.
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("only %d bad cases", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, perr := Parse(filepath.Base(file), data)
			if perr == nil {
				t.Fatalf("Parse succeeded, want errors; config:\n%s", cfg.Summary())
			}
			if cfg != nil {
				t.Errorf("Parse returned a config with an error")
			}
			got := perr.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("error text differs from %s\n--- got:\n%s--- want:\n%s", golden, got, want)
			}

			fes := FieldErrors(perr)
			if n := strings.Count(got, "\n"); n != len(fes) {
				t.Errorf("%d lines of error text but %d FieldErrors", n, len(fes))
			}
			var have []lineField
			for _, fe := range fes {
				if fe.File != filepath.Base(file) {
					t.Errorf("FieldError.File = %q", fe.File)
				}
				if !strings.HasPrefix(fe.Error(), fe.File) {
					t.Errorf("%q does not start with the file name", fe.Error())
				}
				if fe.Field != "" && !strings.Contains(fe.Error(), ": "+fe.Field+": ") {
					t.Errorf("%q does not name field %q", fe.Error(), fe.Field)
				}
				if fe.Line > 0 {
					if !strings.HasPrefix(fe.Error(), fmt.Sprintf("%s:%d: ", fe.File, fe.Line)) {
						t.Errorf("%q does not name line %d", fe.Error(), fe.Line)
					}
					have = append(have, lineField{fe.Line, fe.Field})
				}
			}
			want2 := wantMarkers(t, data)
			cmpLF := func(a, b lineField) int {
				if a.line != b.line {
					return a.line - b.line
				}
				return strings.Compare(a.field, b.field)
			}
			slices.SortFunc(have, cmpLF)
			slices.SortFunc(want2, cmpLF)
			if !slices.Equal(have, want2) {
				t.Errorf("errors at (line, field):\n got  %v\n want %v (from # want: markers)\nerror text:\n%s", have, want2, got)
			}
		})
	}
}
