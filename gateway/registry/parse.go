package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"go.yaml.in/yaml/v3"
)

// MaxEntrySize bounds an entry file and a bundle's payload.
const MaxEntrySize = 4 << 20

// Load reads and parses the entry file at path; see [Parse].
func Load(path string) (*Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxEntrySize+1))
	if err != nil {
		return nil, fmt.Errorf("registry: %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes and validates one centre's registry entry. name is used in error
// messages (the file's path or base name). The error, if any, joins one
// *config.FieldError per problem, sorted by line ([config.FieldErrors] splits
// it); on error the entry is nil.
func Parse(name string, data []byte) (*Entry, error) {
	p := &problems{Problems: config.Problems{File: name}}
	if len(data) > MaxEntrySize {
		p.Add(0, "", fmt.Errorf("the file is %d bytes; a registry entry is at most %d", len(data), MaxEntrySize))
		return nil, p.Err()
	}
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc)
	if errors.Is(err, io.EOF) || (err == nil && (len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null")) {
		p.Add(0, "", errors.New("the file is empty: a registry entry needs at least the sections version, centre and zones"))
		return nil, p.Err()
	}
	if err != nil {
		msg := reLine.ReplaceAllString(err.Error(), "")
		line := yamlLine(err.Error())
		if strings.HasPrefix(msg, "did not find expected") || strings.HasPrefix(msg, "found ") {
			line++ // yaml.v3 reports the parser's marks 0-based (the scanner's 1-based)
		}
		p.Add(line, "", fmt.Errorf("YAML syntax error: %s", strings.TrimPrefix(msg, "yaml: ")))
		return nil, p.Err()
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.Add(root.Line, "", errors.New("a registry entry is a mapping of sections (version, not_before, centre, zones, sensors, rounds, recipients, score, gateway)"))
		return nil, p.Err()
	}
	// A time the decoder cannot read stops it without a line: check them first.
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch {
		case k.Value == "not_before":
			if !timeOK(p, v, "not_before") {
				return nil, p.Err()
			}
		case k.Value == "gateway" && v.Kind == yaml.MappingNode:
			for j := 0; j+1 < len(v.Content); j += 2 {
				if v.Content[j].Value == "installed" && !timeOK(p, v.Content[j+1], "gateway.installed") {
					return nil, p.Err()
				}
			}
		}
	}
	lines, cols := map[string]int{}, map[[2]int]string{}
	indexLines(root, "", lines, cols, 1<<16)
	e := &Entry{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(e); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			p.Add(0, "", fmt.Errorf("cannot decode: %s", strings.TrimPrefix(err.Error(), "yaml: ")))
			return nil, p.Err()
		}
		for _, msg := range te.Errors {
			line, path := yamlLine(msg), ""
			if m := reColumn.FindStringSubmatch(reLine.ReplaceAllString(msg, "")); m != nil {
				col, _ := strconv.Atoi(m[1])
				path, msg = cols[[2]int{line, col}], m[2]
			}
			if m := reNotFound.FindStringSubmatch(msg); m != nil && path == "" {
				path = keyOnLine(lines, line, m[1])
			}
			p.Add(line, path, typeError(msg))
		}
		return nil, p.Err()
	}
	p.lines = lines
	e.validate(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	e.NotBefore = e.NotBefore.UTC()
	e.Gateway.Installed = e.Gateway.Installed.UTC()
	return e, nil
}

// timeOK reports whether v decodes as a time, else adds the problem at path.
func timeOK(p *problems, v *yaml.Node, path string) bool {
	var t time.Time
	if err := v.Decode(&t); err != nil {
		p.Add(v.Line, path, fmt.Errorf("expected a time such as 2026-03-01T00:00:00+05:00 (RFC 3339), got %q", clip(v.Value)))
		return false
	}
	return true
}

var (
	reLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)
	reColumn   = regexp.MustCompile(`^column (\d+): (.*)$`)
	reNotFound = regexp.MustCompile(`field (\S+) not found in type registry\.(\w+)`)
)

func yamlLine(msg string) int {
	if m := reLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// keyOnLine returns the path of the key called name on line, or "".
func keyOnLine(lines map[string]int, line int, name string) string {
	best := ""
	for path, l := range lines {
		if l == line && (path == name || strings.HasSuffix(path, "."+name)) && (best == "" || path < best) {
			best = path
		}
	}
	return best
}

// fieldsOf lists the YAML keys of the registry's types, for "did you mean".
var fieldsOf = map[string]reflect.Type{
	"Entry": reflect.TypeFor[Entry](), "Centre": reflect.TypeFor[Centre](), "Zone": reflect.TypeFor[Zone](),
	"Sensor": reflect.TypeFor[Sensor](), "Rounds": reflect.TypeFor[Rounds](), "Checkpoint": reflect.TypeFor[Checkpoint](),
	"Badge": reflect.TypeFor[Badge](), "Recipient": reflect.TypeFor[Recipient](), "Score": reflect.TypeFor[Score](),
	"Weights": reflect.TypeFor[Weights](), "Gateway": reflect.TypeFor[Gateway](),
}

func typeError(msg string) error {
	msg = reLine.ReplaceAllString(msg, "")
	if m := reNotFound.FindStringSubmatch(msg); m != nil {
		var known []string
		if t, ok := fieldsOf[m[2]]; ok {
			for i := range t.NumField() {
				name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
				known = append(known, name)
			}
		}
		if s := config.DidYouMean(m[1], known); s != "" {
			return fmt.Errorf("unknown field %q%s", m[1], s)
		}
		return fmt.Errorf("unknown field %q; known here: %s", m[1], strings.Join(known, ", "))
	}
	if strings.Contains(msg, "into time.Time") {
		return fmt.Errorf("expected a time such as 2026-03-01T00:00:00+05:00 (RFC 3339, without quotes): %s", msg)
	}
	return errors.New(msg)
}

// indexLines records the line of every key and list item under n, and the path
// of every value by its line and column.
func indexLines(n *yaml.Node, path string, lines map[string]int, cols map[[2]int]string, budget int) int {
	if budget <= 0 || n == nil {
		return 0
	}
	budget--
	if _, ok := cols[[2]int{n.Line, n.Column}]; !ok {
		cols[[2]int{n.Line, n.Column}] = path
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if _, ok := lines[p]; !ok {
				lines[p] = k.Line
			}
			budget = indexLines(n.Content[i+1], p, lines, cols, budget)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			lines[p] = item.Line
			budget = indexLines(item, p, lines, cols, budget)
		}
	}
	return budget
}

// problems collects the problems of one entry.
type problems struct {
	config.Problems
	lines map[string]int // field path -> line; nil for an entry from a bundle
}

// errf adds a problem at path, on the line of path or of its nearest ancestor.
func (p *problems) errf(path, format string, args ...any) {
	p.Add(config.LineOf(p.lines, path), path, fmt.Errorf(format, args...))
}
