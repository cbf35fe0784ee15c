package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem in a config file. It prints as
//
//	example.yaml:42: sensors[3].zone: unknown zone "room-1O1" (did you mean "room-101"?)
//
// File is the name the config was loaded under (empty for a config built in code),
// Line is 1-based (0 when unknown, and then omitted), Field is the path of the
// field in the file ("mqtt.max_inflight", "cameras[0].zones[1]"; empty for problems
// with the file as a whole). Err never contains a secret.
type FieldError struct {
	File  string
	Line  int
	Field string
	Err   error
}

// Error implements error.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("invalid")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// FieldErrors returns the *FieldError values in err, in order: err itself, or the
// errors joined in it by [errors.Join] (as [Parse] and [Config.Validate] return).
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *FieldError
		if errors.As(err, &fe) {
			out = append(out, fe)
		}
	}
	walk(err)
	return out
}

// Problems collects the FieldErrors of one file (the centre config, the
// ministry's registry entry); File names the file in each.
type Problems struct {
	File string
	list []*FieldError
}

// Add records a problem of field on line (0: unknown).
func (p *Problems) Add(line int, field string, err error) {
	p.list = append(p.list, &FieldError{File: p.File, Line: line, Field: field, Err: err})
}

// Addf is [Problems.Add] with a formatted error.
func (p *Problems) Addf(line int, field, format string, args ...any) {
	p.Add(line, field, fmt.Errorf(format, args...))
}

// Err sorts the problems by line (file-wide problems first) and joins them; nil
// when there are none. [FieldErrors] splits it.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b *FieldError) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, len(p.list))
	for i, fe := range p.list {
		errs[i] = fe
	}
	return errors.Join(errs...)
}

// suggest returns the candidate closest to s, or "" when none is close enough to be
// a likely typo.
func suggest(s string, candidates []string) string {
	if s == "" {
		return ""
	}
	norm := func(x string) string { return strings.ReplaceAll(strings.ToLower(x), "_", "-") }
	ns := norm(s)
	best, bestD := "", -1
	for _, c := range candidates {
		if c == s {
			continue
		}
		nc := norm(c)
		var d int
		switch {
		case nc == ns:
			d = 0
		case len(ns) >= 4 && len(nc) >= 4 && (strings.HasPrefix(nc, ns) || strings.HasPrefix(ns, nc)):
			d = 1
		default:
			d = levenshtein(ns, nc)
			limit := 2
			if n := min(len([]rune(ns)), len([]rune(nc))); n <= 4 {
				limit = 1
			} else if n >= 12 {
				limit = 3
			}
			if n := len([]rune(ns)); n < 3 || d > limit {
				continue
			}
		}
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// DidYouMean returns ` (did you mean "x"?)` naming the candidate closest to s,
// or "" when none is close enough to be a likely typo.
func DidYouMean(s string, candidates []string) string {
	if m := suggest(s, candidates); m != "" {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}

// levenshtein returns the edit distance between a and b, counted in runes, with a
// swap of two neighbours counting as one edit ("nmae" -> "name").
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 256 || len(rb) > 256 {
		// Not a typo of anything we know; avoid quadratic work on fuzz input.
		return max(len(ra), len(rb))
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// quoteList renders ["a","b"] as `a, b`.
func quoteList(xs []string) string { return strings.Join(xs, ", ") }
