package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// The decoders pick a handful of fields by exact name out of small JSON objects whose
// other keys vary by device (Tasmota sensor names, Shelly component ids). Rather than
// reflect into maps, they validate the payload once (validJSON, which answers as
// json.Valid) and then walk it with the minimal scanner below, which relies on that
// validation for its syntax and only has to find where each value ends; walkObject
// does both in one pass. Every walk is bounds-checked all the same:
// a scanner fault is reported as bad_json, never a panic.

// validObject returns a bad_json error unless payload is valid JSON whose top-level
// value is an object.
func validObject(payload []byte) error {
	if !validJSON(payload) {
		var v any
		err := json.Unmarshal(payload, &v) // for the position and reason; cold path
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return reject(reasonBadJSON, err)
	}
	if i := skipSpace(payload, 0); i >= len(payload) || payload[i] != '{' {
		return badJSON("not a JSON object")
	}
	return nil
}

// checkObject is the preamble of a JSON payload: an "empty" error if payload has
// nothing but white space, else a bad_json error unless it is a JSON object.
func checkObject(payload []byte) error {
	if err := checkEmpty(payload); err != nil {
		return err
	}
	return validObject(payload)
}

// walkObject is checkObject and a walk of payload's members in one pass: it checks
// payload as checkObject does (returning the same error) and meanwhile calls fn with
// the unquoted key (aliasing payload unless it has escapes) and the raw value of each
// top-level member, in order, nested false. If inner is not "", the members of a
// top-level member named inner whose value is an object are passed to fn as well,
// nested true, before that member itself. fn may be called before a syntax error
// further on is found: it must only note what it is given, and the caller drop it on
// error.
func walkObject(payload []byte, inner string, fn func(nested bool, key, val []byte)) error {
	i := skipSpace(payload, 0)
	if i >= len(payload) || payload[i] != '{' {
		return objectError(payload)
	}
	end, ok := walkMembers(payload, i, 0, inner, fn)
	if !ok || skipSpace(payload, end) != len(payload) {
		return objectError(payload)
	}
	return nil
}

// walkMembers checks the object at b[i] == '{', depth levels deep, passing its
// members to fn (see walkObject), and returns the index just past it.
func walkMembers(b []byte, i, depth int, inner string, fn func(nested bool, key, val []byte)) (int, bool) {
	if depth >= maxDepth {
		return i, false
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		ke, ok := validString(b, i)
		if !ok {
			return i, false
		}
		key, err := unquote(b[i:ke])
		if err != nil {
			return i, false
		}
		if i = skipSpace(b, ke); i >= len(b) || b[i] != ':' {
			return i, false
		}
		i = skipSpace(b, i+1)
		var ve int
		if depth == 0 && inner != "" && i < len(b) && b[i] == '{' && string(key) == inner {
			ve, ok = walkMembers(b, i, depth+1, inner, fn)
		} else {
			ve, ok = validValue(b, i, depth+1)
		}
		if !ok {
			return ve, false
		}
		fn(depth > 0, key, b[i:ve])
		if i = skipSpace(b, ve); i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// objectError is checkObject's error for a payload walkObject found wrong; cold path.
func objectError(payload []byte) error {
	if err := checkObject(payload); err != nil {
		return err
	}
	return badJSON("malformed object") // not reached: walkObject and checkObject agree
}

// eachMember calls fn with the unquoted key (aliasing obj unless it has escapes) and
// the raw value of each member of the JSON object obj, a valid JSON object, in order.
// It stops at and returns fn's first error. A key that cannot be unquoted or a
// malformed object ends the walk with a bad_json error.
func eachMember(obj []byte, fn func(key, val []byte) error) error {
	m, _ := objectMembers(obj)
	for {
		k, v, ok := m.next()
		if !ok {
			return m.err()
		}
		key := k[1 : len(k)-1]
		if m.keyEsc {
			var err error
			if key, err = unquote(k); err != nil {
				return badJSON("key: %w", err)
			}
		}
		if err := fn(key, v); err != nil {
			return err
		}
	}
}

// members iterates over the members of one JSON object.
type members struct {
	b    []byte
	i    int
	done bool
	bad  bool // the object was malformed; only possible if it was not validated
	// keyEsc says whether the key next returned last has escapes.
	keyEsc bool
}

// objectMembers returns an iterator over the members of the JSON object obj, a valid
// JSON value; ok is false if obj is not an object.
func objectMembers(obj []byte) (m members, ok bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return members{}, false
	}
	return members{b: obj, i: i + 1}, true
}

// next returns the next member's raw key (with its quotes) and raw value, or ok false
// at the end of the object. Check m.bad after the loop.
func (m *members) next() (key, val []byte, ok bool) {
	if m.done {
		return nil, nil, false
	}
	b := m.b
	i := skipSpace(b, m.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) {
		return m.fail()
	}
	if b[i] == '}' {
		m.done = true
		return nil, nil, false
	}
	if b[i] != '"' {
		return m.fail()
	}
	ke, esc := stringEndEsc(b, i)
	if ke < 0 {
		return m.fail()
	}
	m.keyEsc = esc
	key = b[i:ke]
	i = skipSpace(b, ke)
	if i >= len(b) || b[i] != ':' {
		return m.fail()
	}
	i = skipSpace(b, i+1)
	ve := valueEnd(b, i)
	if ve < 0 {
		return m.fail()
	}
	m.i = ve
	return key, b[i:ve], true
}

func (m *members) fail() ([]byte, []byte, bool) {
	m.done, m.bad = true, true
	return nil, nil, false
}

// err returns a bad_json error if the walk met malformed JSON.
func (m *members) err() error {
	if m.bad {
		return badJSON("malformed object")
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"', or -1.
func stringEnd(b []byte, i int) int {
	e, _ := stringEndEsc(b, i)
	return e
}

// stringEndEsc is stringEnd that also says whether the string has escapes.
func stringEndEsc(b []byte, i int) (end int, esc bool) {
	for j := i + 1; j < len(b); j++ {
		for j < len(b) && strPlain[b[j]] {
			j++
		}
		if j >= len(b) {
			break
		}
		switch b[j] {
		case '\\':
			j++
			esc = true
		case '"':
			return j + 1, esc
		}
	}
	return -1, esc
}

// structural[c] says whether byte c opens or closes a string, object or array.
var structural = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}

// strPlain[c] says whether byte c stands for itself inside a JSON string: neither
// a quote, a backslash nor a control character.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// valueEnd returns the index just past the value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			for j < len(b) && !structural[b[j]] {
				j++
			}
			if j >= len(b) {
				break
			}
			switch b[j] {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	case ',', ':', '}', ']':
		return -1
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// JSON value kinds, from the first byte of a valid value.
const (
	kindNull   = 'n'
	kindString = '"'
	kindObject = '{'
	kindArray  = '['
	kindBool   = 'b'
	kindNumber = '0'
)

func kindOf(v []byte) byte {
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; c {
	case 'n', '"', '{', '[':
		return c
	case 't', 'f':
		return kindBool
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return kindNumber
	}
	return 0
}

func kindName(k byte) string {
	switch k {
	case kindNull:
		return "null"
	case kindString:
		return "a string"
	case kindObject:
		return "an object"
	case kindArray:
		return "an array"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	}
	return "invalid"
}

// number decodes the JSON value v of field name as a number. ok is false for null.
// A number too large for float64 becomes ±Inf (rejected later as not_finite). A string
// holding one decimal number ("21.5", as older Zigbee2MQTT converters and some
// firmware send) is read as that number; any other string is bad_value.
func number(name string, v []byte) (x float64, ok bool, err error) {
	switch k := kindOf(v); k {
	case kindNull:
		return 0, false, nil
	case kindNumber:
	case kindString:
		s, err := unquote(v)
		if err != nil {
			return 0, false, badValue("%s: %w", name, err)
		}
		x, err := plainNumber(s)
		if err != nil {
			if e, ok := err.(*telemetry.RejectError); ok {
				e.Err = fmt.Errorf("%s: %w", name, e.Err)
			}
			return 0, false, err
		}
		return x, true, nil
	default:
		return 0, false, badValue("%s: want a number, got %s", name, kindName(k))
	}
	x, err = strconv.ParseFloat(string(v), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false, badValue("%s: %w", name, err)
	}
	return x, true, nil
}

// str decodes the JSON value v of field name as a string. ok is false for null. The
// result may alias v.
func str(name string, v []byte) (s []byte, ok bool, err error) {
	switch k := kindOf(v); k {
	case kindNull:
		return nil, false, nil
	case kindString:
	default:
		return nil, false, badValue("%s: want a string, got %s", name, kindName(k))
	}
	s, err = unquote(v)
	if err != nil {
		return nil, false, badValue("%s: %w", name, err)
	}
	return s, true, nil
}

// unquote returns the contents of the JSON string q (with its quotes). It aliases q
// unless q has escapes.
func unquote(q []byte) ([]byte, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return nil, errors.New("malformed string")
	}
	inner := q[1 : len(q)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, nil
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// jsonString returns the valid JSON string v (with its quotes) as encoding/json
// decodes it: escapes resolved and invalid UTF-8 replaced by U+FFFD.
func jsonString(v []byte) string {
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

// maxDepth is the deepest nesting validJSON accepts, as encoding/json's scanner.
const maxDepth = 10000

// validJSON reports whether b is one valid JSON value (RFC 8259) with optional white
// space around it: the same answer as json.Valid (the fuzz test FuzzValidJSON
// compares them), in a quarter of its time, since it needs no scanner state machine.
func validJSON(b []byte) bool {
	i, ok := validValue(b, skipSpace(b, 0), 0)
	return ok && skipSpace(b, i) == len(b)
}

// validValue checks the value starting at b[i] and returns the index just past it.
func validValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '{' || c == '[':
		return validContainer(b, i, depth)
	case c == '"':
		return validString(b, i)
	case c == 't':
		return validWord(b, i, "true")
	case c == 'f':
		return validWord(b, i, "false")
	case c == 'n':
		return validWord(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return validNumber(b, i)
	}
	return i, false
}

// validContainer checks the object or array starting at b[i].
func validContainer(b []byte, i, depth int) (int, bool) {
	obj, end := b[i] == '{', byte(']')
	if obj {
		end = '}'
	}
	if depth >= maxDepth {
		return i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == end {
		return i + 1, true
	}
	for {
		var ok bool
		if obj {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			if i, ok = validString(b, i); !ok {
				return i, false
			}
			if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
				return i, false
			}
			i = skipSpace(b, i+1)
		}
		if i, ok = validValue(b, i, depth+1); !ok {
			return i, false
		}
		if i = skipSpace(b, i); i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case end:
			return i + 1, true
		default:
			return i, false
		}
	}
}

func validWord(b []byte, i int, w string) (int, bool) {
	if len(b)-i >= len(w) && string(b[i:i+len(w)]) == w {
		return i + len(w), true
	}
	return i, false
}

// validString checks the string starting at b[i] == '"'. Like encoding/json, it
// does not check that the bytes are valid UTF-8.
func validString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); {
		for j < len(b) && strPlain[b[j]] {
			j++
		}
		if j >= len(b) {
			break
		}
		c := b[j]
		switch {
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return j, false
		case c == '\\':
			if j+1 >= len(b) {
				return j, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(b) {
					return j, false
				}
				for _, h := range b[j+2 : j+6] {
					if !isHex(h) {
						return j, false
					}
				}
				j += 6
			default:
				return j, false
			}
		default:
			j++
		}
	}
	return len(b), false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// validNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func validNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digitsEnd(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := digitsEnd(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digitsEnd(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func digitsEnd(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
