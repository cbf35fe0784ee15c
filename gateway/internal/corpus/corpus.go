// Package corpus reads and rewrites the real-capture corpus of the decoders
// (gateway/decode/testdata/corpus/*.txt): messages devices and gateways published, as
// shown in their projects' documentation, test suites and users' issue threads, each
// with where it comes from and what the gateway must make of it. The decoders'
// tests, the camera and rounds tests and the end-to-end test read it.
//
// A file holds blocks separated by blank lines, after a header of # comments:
//
//	### name
//	source: <what reads it: a decoder source, frigate, rounds-button, rounds-rfid, ...>
//	topic: <topic>
//	ref: <where the capture comes from: a URL or repo@commit:path#line>
//	payload: <the payload, on one line>
//	quantity: <comp>=<metric>   (optional, repeated)
//	want: <what the reader makes of it, one line per result>
//
// The want lines are the reader's own rendering; see the test that owns the source.
package corpus

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Capture is one real message of the corpus.
type Capture struct {
	Name, Source, Topic, Ref, Payload string
	// Quantity are the "quantity: <component>=<metric>" lines: what a Shelly
	// device's components (or the sensor's quantity:) say its BLU sensors are.
	Quantity []string
	Want     []string
	Line     int // of the ### line
}

// Files lists the corpus files of dir, sorted.
func Files(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("corpus: no *.txt in %s", dir)
	}
	return files, nil
}

// All reads every file of dir; caps are keyed by file base name.
func All(dir string) (map[string][]Capture, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	all := map[string][]Capture{}
	for _, f := range files {
		caps, err := Read(f)
		if err != nil {
			return nil, err
		}
		all[filepath.Base(f)] = caps
	}
	return all, nil
}

// OfSource returns the captures of every file of dir whose source is source.
func OfSource(dir, source string) ([]Capture, error) {
	all, err := All(dir)
	if err != nil {
		return nil, err
	}
	var out []Capture
	for _, f := range slices.Sorted(maps.Keys(all)) {
		for _, c := range all[f] {
			if c.Source == source {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// Find returns the capture called name in file (a base name) of dir.
func Find(dir, file, name string) (Capture, error) {
	caps, err := Read(filepath.Join(dir, file))
	if err != nil {
		return Capture{}, err
	}
	for _, c := range caps {
		if c.Name == name {
			return c, nil
		}
	}
	return Capture{}, fmt.Errorf("corpus: %s has no capture %q", file, name)
}

// Read parses one corpus file.
func Read(path string) ([]Capture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		caps []Capture
		cur  *Capture
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### "):
			caps = append(caps, Capture{Name: strings.TrimPrefix(line, "### "), Line: n})
			cur = &caps[len(caps)-1]
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		case cur == nil:
			return nil, fmt.Errorf("%s:%d: a field before the first ### name", path, n)
		default:
			k, v, ok := strings.Cut(line, ": ")
			if !ok {
				k, v, ok = strings.Cut(line, ":")
			}
			if !ok {
				return nil, fmt.Errorf("%s:%d: want <field>: <value>", path, n)
			}
			switch k {
			case "source":
				cur.Source = v
			case "topic":
				cur.Topic = v
			case "ref":
				cur.Ref = v
			case "payload":
				cur.Payload = v
			case "want":
				cur.Want = append(cur.Want, v)
			case "quantity":
				cur.Quantity = append(cur.Quantity, v)
			default:
				return nil, fmt.Errorf("%s:%d: unknown field %q", path, n, k)
			}
		}
	}
	return caps, sc.Err()
}

// Write rewrites path with caps, keeping its header comment.
func Write(path string, caps []Capture) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, l := range strings.Split(string(old), "\n") {
		if !strings.HasPrefix(l, "#") || strings.HasPrefix(l, "### ") {
			break
		}
		b.WriteString(l + "\n")
	}
	for _, c := range caps {
		fmt.Fprintf(&b, "\n### %s\nsource: %s\ntopic: %s\nref: %s\npayload: %s\n", c.Name, c.Source, c.Topic, c.Ref, c.Payload)
		for _, q := range c.Quantity {
			fmt.Fprintf(&b, "quantity: %s\n", q)
		}
		for _, w := range c.Want {
			fmt.Fprintf(&b, "want: %s\n", w)
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// Check compares render's lines with the want lines of every capture of dir whose
// source is one of sources, naming file, line and capture of each difference; with
// update it rewrites the want lines from render instead (review the diff: it is the
// expectation). It returns how many captures it read, and fails t when none.
func Check(t testing.TB, dir string, update bool, render func(Capture) []string, sources ...string) int {
	t.Helper()
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		caps, err := Read(f)
		if err != nil {
			t.Fatal(err)
		}
		changed := false
		for i := range caps {
			c := &caps[i]
			if !slices.Contains(sources, c.Source) {
				continue
			}
			n++
			got := render(*c)
			if slices.Equal(got, c.Want) {
				continue
			}
			if update {
				c.Want, changed = got, true
				continue
			}
			t.Errorf("%s:%d %s:\n got: %s\nwant: %s", filepath.Base(f), c.Line, c.Name,
				strings.Join(got, "\n      "), strings.Join(c.Want, "\n      "))
		}
		if changed {
			if err := Write(f, caps); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n == 0 {
		t.Fatalf("no capture of %v in %s", sources, dir)
	}
	return n
}
