package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a length of time written with a unit: "30s", "5m", "2h", "1h30m"
// (see [time.ParseDuration]). A bare number is rejected: "300" could mean seconds or
// minutes, so the file must say which.
type Duration time.Duration

// Std returns d as a [time.Duration].
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns d in the shortest form that parses back: "2h", "1h30m", "30s", "500ms".
func (d Duration) String() string {
	t := time.Duration(d)
	if t == 0 {
		return "0s"
	}
	neg := t < 0
	if neg {
		if t == math.MinInt64 {
			return t.String()
		}
		t = -t
	}
	var s string
	if t%time.Second != 0 {
		s = t.String()
	} else {
		h, m, sec := t/time.Hour, (t%time.Hour)/time.Minute, (t%time.Minute)/time.Second
		if h > 0 {
			s += strconv.FormatInt(int64(h), 10) + "h"
		}
		if m > 0 {
			s += strconv.FormatInt(int64(m), 10) + "m"
		}
		if sec > 0 {
			s += strconv.FormatInt(int64(sec), 10) + "s"
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

// ParseDuration parses a config duration: a [time.ParseDuration] string with a unit.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New(`empty duration: write a number with a unit, e.g. "30s", "5m", "2h"`)
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf(`duration %q has no unit: write e.g. "%ss" for %s seconds ("m" is minutes, "h" hours)`, s, s, s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		hint := `write a number with a unit, e.g. "30s", "5m", "2h" or "1h30m"`
		if strings.HasSuffix(s, "d") {
			hint = `there is no "d" unit: write days in hours, e.g. "24h"`
		} else if _, err := time.ParseDuration(strings.ReplaceAll(s, " ", "")); err == nil {
			hint = fmt.Sprintf("write it without spaces: %q", strings.ReplaceAll(s, " ", ""))
		}
		return 0, fmt.Errorf("invalid duration %q: %s", s, hint)
	}
	return Duration(d), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalScalar(n, d, `a duration such as "30s" or "2h"`, ParseDuration)
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ByteSize is a number of bytes, written as "2GiB", "500MiB", "100MB", "1KiB", or a
// plain integer number of bytes. Binary units (KiB, MiB, GiB, TiB) are powers of
// 1024; decimal units (kB, MB, GB, TB) are powers of 1000. Unit letters are not
// case-sensitive.
type ByteSize int64

// Byte sizes.
const (
	KiB ByteSize = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
)

var byteUnits = []struct {
	name string
	n    ByteSize
}{
	{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3},
}

// String returns b exactly, in the largest unit that divides it: "2GiB", "100MB",
// "1500B".
func (b ByteSize) String() string {
	if b != 0 {
		for _, u := range byteUnits {
			if b%u.n == 0 {
				return strconv.FormatInt(int64(b/u.n), 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// ParseByteSize parses "2GiB", "1.5 GiB", "500MiB", "100MB", "1KiB" or "1048576".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	bad := func() (ByteSize, error) {
		return 0, fmt.Errorf(`invalid size %q: write e.g. "2GiB", "500MiB", "100MB" or a number of bytes`, s)
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '_') {
		i++
	}
	num, unit := strings.ReplaceAll(s[:i], "_", ""), strings.TrimSpace(s[i:])
	if num == "" {
		if strings.HasPrefix(s, "-") {
			return 0, fmt.Errorf("size %q must not be negative", s)
		}
		return bad()
	}
	mult := ByteSize(1)
	switch strings.ToLower(unit) {
	case "", "b":
	case "k", "kb":
		mult = 1e3
	case "m", "mb":
		mult = 1e6
	case "g", "gb":
		mult = 1e9
	case "t", "tb":
		mult = 1e12
	case "ki", "kib":
		mult = KiB
	case "mi", "mib":
		mult = MiB
	case "gi", "gib":
		mult = GiB
	case "ti", "tib":
		mult = TiB
	default:
		return bad()
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/int64(mult) {
			return 0, fmt.Errorf("size %q is too large", s)
		}
		return ByteSize(n) * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return bad()
	}
	v := f * float64(mult)
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return ByteSize(v), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	return unmarshalScalar(n, b, `a size such as "2GiB" or "500MiB"`, ParseByteSize)
}

// unmarshalScalar parses the scalar node n with parse into *dst; want says what
// is expected in the error for any other node. On error *dst is left as it was.
func unmarshalScalar[T any](n *yaml.Node, dst *T, want string, parse func(string) (T, error)) error {
	if n.Kind != yaml.ScalarNode {
		return nodeError(n, "expected %s, got %s", want, describeNode(n))
	}
	v, err := parse(n.Value)
	if err != nil {
		return nodeError(n, "%s", err.Error())
	}
	*dst = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// nodeError returns a *yaml.TypeError, which the decoder collects (any other error
// would stop decoding at the first problem). The "line L: column C:" prefix lets
// [Parse] find the field path of n.
func nodeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{
		fmt.Sprintf("line %d: column %d: %s", n.Line, n.Column, fmt.Sprintf(format, args...)),
	}}
}

// describeNode says what the file holds at n, for "expected X, got Y" messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping (key: value)"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!str":
		return fmt.Sprintf("text %q", clip(n.Value))
	case "!!bool":
		return "true/false value " + clip(n.Value)
	case "!!int", "!!float":
		return "the number " + clip(n.Value)
	}
	return fmt.Sprintf("%s %q", n.ShortTag(), clip(n.Value))
}

// clip shortens s for an error message.
func clip(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return s
}
