package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Parse decodes a centre config from data, fills the defaults for keys the file
// leaves out, and validates it. name is used in error messages (usually the file's
// path or base name). The error, if any, joins one [*FieldError] per problem found,
// sorted by line; see [FieldErrors]. On error the config is nil.
func Parse(name string, data []byte) (*Config, error) {
	p := &Problems{File: name}
	root := parseTree(data, p)
	if root == nil {
		return nil, p.Err()
	}
	pos := indexTree(root)
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var suppressed []string
	if err := dec.Decode(c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			p.Add(0, "", fmt.Errorf("cannot decode: %s", strings.TrimPrefix(err.Error(), "yaml: ")))
			return nil, p.Err()
		}
		suppressed = convertTypeErrors(te, pos, p)
	}
	for _, v := range pos.fractions {
		if !underAny(v.path, suppressed) {
			p.Addf(v.node.Line, v.path, "expected a whole number, got %s", clip(v.node.Value))
			suppressed = append(suppressed, v.path)
		}
	}
	c.File, c.pos = name, pos
	c.applyDefaults(pos.present)
	decodeProblems := len(p.list)
	c.check(p)
	// A field that could not be decoded is zero; do not also report it as missing.
	kept := p.list[:decodeProblems]
	for _, fe := range p.list[decodeProblems:] {
		if !underAny(fe.Field, suppressed) {
			kept = append(kept, fe)
		}
	}
	p.list = kept
	if err := p.Err(); err != nil {
		return nil, err
	}
	// Keep only what Line needs: the rest points into the YAML node tree, which a
	// running gateway would otherwise hold for its life (~2 MB for 200 sensors).
	c.pos = &positions{lines: pos.lines}
	return c, nil
}

// underAny reports whether path is one of roots or inside one.
func underAny(path string, roots []string) bool {
	for _, r := range roots {
		if r == "" || path == r || strings.HasPrefix(path, r+".") || strings.HasPrefix(path, r+"[") {
			return true
		}
	}
	return false
}

var errEmpty = errors.New(`the file is empty: a centre config needs at least "centre: {id: ...}" (saqshy-gateway example-config prints a complete one)`)

// parseTree parses data into a node tree and checks its shape. It returns the root
// mapping, or nil after adding the problem to p.
func parseTree(data []byte, p *Problems) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		p.Add(0, "", errEmpty)
		return nil
	}
	if err != nil {
		line, msg := syntaxError(err, data)
		p.Add(line, "", fmt.Errorf("YAML syntax error: %s", msg))
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.Add(next.Line, "", errors.New("a second YAML document starts here (after ---): a centre config is one document"))
	} else if !errors.Is(err, io.EOF) {
		line, msg := syntaxError(err, data)
		p.Add(line, "", fmt.Errorf("YAML syntax error: %s", msg))
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	switch {
	case root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null":
		p.Add(0, "", errEmpty)
		return nil
	case root.Kind == yaml.SequenceNode:
		p.Add(root.Line, "", errors.New("the file is a list (it starts with '-'), but a centre config is a mapping of sections (centre, mqtt, influx, spool, status, zones, sensors, cameras, rounds, alerts)"))
		return nil
	case root.Kind != yaml.MappingNode:
		p.Add(root.Line, "", fmt.Errorf("the file holds %s, but a centre config is a mapping of sections: centre:, mqtt:, zones:, sensors:, …", describeNode(root)))
		return nil
	}
	if len(p.list) > 0 {
		return nil
	}
	return root
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

var (
	reYAMLLine   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	reUnknownAnc = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// syntaxError turns a parser error into a line and a message with a hint.
func syntaxError(err error, data []byte) (int, string) {
	msg := err.Error()
	line := 0
	if m := reYAMLLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if parserProblems[msg] {
			// yaml.v3 reports the parser's (not the scanner's) marks 0-based.
			line++
		}
	} else if m := reUnknownAnc.FindStringSubmatch(msg); m != nil {
		msg = strings.TrimPrefix(msg, "yaml: ")
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			line = 1 + bytes.Count(data[:i], []byte("\n"))
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
		if i := firstInvalidUTF8(data); i >= 0 {
			line = 1 + bytes.Count(data[:i], []byte("\n"))
			msg += " (the file must be UTF-8 text)"
		} else {
			// The parser omits the line number for a problem on the first line.
			line = 1
		}
	}
	switch {
	case line > 0 && lineHasTab(data, line):
		msg += " (tabs cannot indent YAML: use spaces)"
	case strings.Contains(msg, "mapping values are not allowed"):
		msg += " (a value containing \": \" must be quoted, or the indentation is off)"
	case strings.Contains(msg, "did not find expected key"), strings.Contains(msg, "did not find expected '-' indicator"):
		msg += " (check the indentation: keys of one mapping line up in one column)"
	}
	return line, msg
}

// parserProblems are the messages of yaml.v3's parser (as opposed to its scanner).
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

func lineHasTab(data []byte, line int) bool {
	lines := bytes.Split(data, []byte("\n"))
	for _, l := range []int{line - 1, line - 2} { // the parser may point at the line after
		if l >= 0 && l < len(lines) && bytes.Contains(lines[l], []byte("\t")) {
			return true
		}
	}
	return false
}

// positions remembers where each field of a config file is.
type positions struct {
	lines  map[string]int  // field path -> line of its key (or list item)
	set    map[string]bool // field paths written with a non-null value
	keys   map[int][]*keyPos
	values map[int][]*valuePos
	// fractions are numbers with a fraction written for whole-number fields, which
	// the decoder would silently truncate.
	fractions []*valuePos
}

type keyPos struct {
	col     int
	name    string
	path    string
	typ     string   // Go type of the mapping, as yaml names it: "config.Sensor"
	allowed []string // the keys that type knows
	used    bool
}

type valuePos struct {
	node *yaml.Node
	path string
	typ  string // Go type it decodes into, as yaml names it: "[]config.Zone"; "" if unknown
	used bool
}

func (ps *positions) present(path string) bool { return ps.set[path] }

// line returns the line of path or of its nearest ancestor in the file, or 0.
func (ps *positions) line(path string) int {
	if ps == nil {
		return 0
	}
	return LineOf(ps.lines, path)
}

// LineOf returns the line of path ("zones[3].kind") in lines, a field path -> line
// index of a file, or of its nearest ancestor there; 0 when neither is.
func LineOf(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// indexTree walks the node tree along the Config type and records every field's
// path and line.
func indexTree(root *yaml.Node) *positions {
	w := &walker{
		ps: &positions{
			lines:  map[string]int{},
			set:    map[string]bool{},
			keys:   map[int][]*keyPos{},
			values: map[int][]*valuePos{},
		},
		budget: 1 << 20,
		active: map[*yaml.Node]bool{},
	}
	w.walk(root, reflect.TypeFor[Config](), "", 0)
	return w.ps
}

type walker struct {
	ps     *positions
	budget int                 // nodes left to visit: bounds alias expansion
	active map[*yaml.Node]bool // aliases being expanded: breaks cycles
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// walk indexes n, found at path, which decodes into a value of type t (nil when
// unknown). at is the line to record for fields inside an alias (0: their own).
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string, at int) {
	if w.budget <= 0 || n == nil {
		return
	}
	w.budget--
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || w.active[n.Alias] {
			return
		}
		if at == 0 {
			at = n.Line
		}
		w.active[n.Alias] = true
		w.walk(n.Alias, t, path, at)
		delete(w.active, n.Alias)
		return
	}
	typ := ""
	if t != nil {
		typ = t.String()
	}
	vp := &valuePos{node: n, path: path, typ: typ}
	w.ps.values[n.Line] = append(w.ps.values[n.Line], vp)
	if t != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if !reflect.PointerTo(t).Implements(unmarshalerType) {
				w.ps.fractions = append(w.ps.fractions, vp)
			}
		}
	}
	if path != "" && !(n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") {
		w.ps.set[path] = true
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.walk(c, t, path, at)
		}
	case yaml.SequenceNode:
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			w.setLine(p, at, item.Line)
			w.walk(item, et, p, at)
		}
	case yaml.MappingNode:
		w.mapping(n, t, path, at)
	}
}

func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string, at int) {
	var fields map[string]reflect.Type
	var allowed []string
	typ := ""
	if t != nil && t.Kind() == reflect.Struct {
		typ = t.String()
		fields = map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = f.Type
			allowed = append(allowed, name)
		}
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		p := joinPath(path, k.Value)
		w.ps.keys[k.Line] = append(w.ps.keys[k.Line], &keyPos{
			col: k.Column, name: k.Value, path: p, typ: typ, allowed: allowed,
		})
		w.setLine(p, at, k.Line)
		w.walk(v, fields[k.Value], p, at)
	}
	// Keys merged in with "<<: *anchor" come after the mapping's own keys, which win.
	for _, m := range merges {
		line := at
		if line == 0 {
			line = m.Line
		}
		targets := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			targets = m.Content
		}
		for _, tn := range targets {
			if tn.Kind == yaml.AliasNode && tn.Alias != nil && !w.active[tn.Alias] {
				w.active[tn.Alias] = true
				if tn.Alias.Kind == yaml.MappingNode && w.budget > 0 {
					w.budget--
					w.mapping(tn.Alias, t, path, line)
				}
				delete(w.active, tn.Alias)
			} else if tn.Kind == yaml.MappingNode {
				w.mapping(tn, t, path, line)
			}
		}
	}
}

func (w *walker) setLine(path string, at, line int) {
	if at != 0 {
		line = at
	}
	if _, ok := w.ps.lines[path]; !ok {
		w.ps.lines[path] = line
	}
}

var (
	reTELine     = regexp.MustCompile(`^line (\d+): (.*)$`)
	reTEColumn   = regexp.MustCompile(`^column (\d+): (.*)$`)
	reTENotFound = regexp.MustCompile(`^field (.*) not found in type (\S+)$`)
	reTEAlready  = regexp.MustCompile(`^field (.*) already set in type (\S+)$`)
	reTEDupKey   = regexp.MustCompile(`^mapping key (".*") already defined at line (\d+)$`)
	reTECannot   = regexp.MustCompile("^cannot unmarshal (\\S+)(?: `(.*)`)? into (.+)$")
)

// convertTypeErrors turns the decoder's messages ("line 3: field intervall not found
// in type config.Sensor") into FieldErrors with field paths. It returns the paths
// that could not be decoded.
func convertTypeErrors(te *yaml.TypeError, ps *positions, p *Problems) (failed []string) {
	for _, raw := range te.Errors {
		m := reTELine.FindStringSubmatch(raw)
		if m == nil {
			p.Add(0, "", errors.New(raw))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		msg := m[2]
		switch {
		case reTEColumn.MatchString(msg):
			mm := reTEColumn.FindStringSubmatch(msg)
			col, _ := strconv.Atoi(mm[1])
			path := ""
			for _, v := range ps.values[line] {
				if v.node.Column == col && !v.used {
					v.used, path = true, v.path
					break
				}
			}
			p.Add(line, path, errors.New(mm[2]))
			if path != "" {
				failed = append(failed, path)
			}

		case reTENotFound.MatchString(msg):
			mm := reTENotFound.FindStringSubmatch(msg)
			k := ps.findKey(line, mm[1], mm[2], false)
			path, allowed := "", []string(nil)
			if k != nil {
				path, allowed = k.path, k.allowed
			}
			p.Add(line, path, unknownField(mm[1], mm[2], allowed))

		case reTEAlready.MatchString(msg):
			mm := reTEAlready.FindStringSubmatch(msg)
			k := ps.findKey(line, mm[1], mm[2], true)
			path := ""
			if k != nil {
				path = k.path
			}
			p.Addf(line, path, "%q is set twice in this mapping", mm[1])
			if path != "" {
				failed = append(failed, path)
			}

		case reTEDupKey.MatchString(msg):
			mm := reTEDupKey.FindStringSubmatch(msg)
			name, err := strconv.Unquote(mm[1])
			if err != nil {
				name = mm[1]
			}
			first, _ := strconv.Atoi(mm[2])
			k := ps.findKey(line, name, "", first == line)
			path := ""
			if k != nil {
				path = k.path
			}
			if strings.ContainsAny(path, ".[") {
				p.Addf(line, path, "%q is written twice here (first at line %d): keep one; the rest of this entry is checked once it is fixed", name, first)
			} else {
				p.Addf(line, path, "section %q is written twice (first at line %d): merge them into one; the rest of the file is checked once it is fixed", name, first)
			}
			// The decoder skipped the whole mapping holding the key ("" for the
			// top level: nothing was decoded).
			if i := strings.LastIndexAny(path, ".["); i >= 0 {
				failed = append(failed, path[:i])
			} else if path != "" {
				failed = append(failed, "")
			}

		case reTECannot.MatchString(msg):
			mm := reTECannot.FindStringSubmatch(msg)
			v := ps.findValue(line, mm[1], mm[2], mm[3])
			path, got := "", mm[1]
			if mm[2] != "" {
				got = fmt.Sprintf("%s %q", mm[1], mm[2])
			}
			if v != nil {
				path, got = v.path, describeNode(v.node)
			}
			p.Addf(line, path, "expected %s, got %s", friendlyType(mm[3]), got)
			if path != "" {
				failed = append(failed, path)
			}

		default:
			p.Add(line, "", errors.New(msg))
		}
	}
	return failed
}

// findKey returns the first unused key called name on line (the second one when
// second is set), inside a mapping of Go type typ when typ is not empty.
func (ps *positions) findKey(line int, name, typ string, second bool) *keyPos {
	seen := 0
	for _, k := range ps.keys[line] {
		if k.name != name || (typ != "" && k.typ != "" && k.typ != typ) {
			continue
		}
		seen++
		if second && seen == 1 {
			continue
		}
		if !k.used {
			k.used = true
			return k
		}
	}
	return nil
}

// findValue returns the first unused node on line that the decoder would describe
// as tag and (clipped) value; failing that, the first unused one with that tag.
func (ps *positions) findValue(line int, tag, value, typ string) *valuePos {
	for pass := 0; pass < 2; pass++ {
		for _, v := range ps.values[line] {
			if v.used || v.node.ShortTag() != tag || (v.typ != "" && v.typ != typ) {
				continue
			}
			if pass == 0 && tag != "!!seq" && tag != "!!map" {
				val := v.node.Value
				if len(val) > 10 {
					val = val[:7] + "..."
				}
				if val != value {
					continue
				}
			}
			v.used = true
			return v
		}
	}
	return nil
}

// secretKeys are keys a technician might use to put a secret into the file.
var secretKeys = map[string]string{
	"password": "write the password into the file named by password_file, or set " + EnvMQTTPassword,
	"pass":     "write the password into the file named by password_file, or set " + EnvMQTTPassword,
	"token":    "write the token into the file named by token_file, or set " + EnvInfluxToken,
	"secret":   "name a file that holds it (password_file, token_file) or use an environment variable",
	"api_key":  "name a file that holds it (password_file, token_file) or use an environment variable",
	"apikey":   "name a file that holds it (password_file, token_file) or use an environment variable",
}

// unknownField explains an unknown key.
func unknownField(name, typ string, allowed []string) error {
	what := "field"
	if typ == "config.Config" {
		what = "section"
	}
	if hint, ok := secretKeys[strings.ToLower(name)]; ok {
		return fmt.Errorf("unknown %s %q: secrets never go in this file; %s", what, name, hint)
	}
	if m := suggest(name, allowed); m != "" {
		return fmt.Errorf("unknown %s %q (did you mean %q?)", what, name, m)
	}
	if len(allowed) > 0 {
		return fmt.Errorf("unknown %s %q; known here: %s", what, name, quoteList(allowed))
	}
	return fmt.Errorf("unknown %s %q", what, name)
}

// friendlyType names a Go type for a technician.
func friendlyType(t string) string {
	switch {
	case t == "string":
		return "text"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "[]string":
		return "a list of names, e.g. [a, b]"
	case strings.HasPrefix(t, "[]"):
		return "a list (items starting with '-')"
	case strings.HasPrefix(t, "config."), strings.HasPrefix(t, "map["), strings.HasPrefix(t, "struct"):
		return "a mapping (key: value)"
	}
	return t
}
