package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/saqshy/saqshy/gateway/internal/corpus"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

func TestObjectMembers(t *testing.T) {
	tests := []struct {
		in   string
		want []string // key, value, key, value...
	}{
		{`{}`, nil},
		{` { } `, nil},
		{`{"a":1}`, []string{`"a"`, `1`}},
		{`{"a" : 1 , "b":"x\"y}" ,"c":{"d":[1,{"e":"]"}]},"f":[],"g":null,"h":true,"i":-1.5e3}`,
			[]string{`"a"`, `1`, `"b"`, `"x\"y}"`, `"c"`, `{"d":[1,{"e":"]"}]}`, `"f"`, `[]`, `"g"`, `null`, `"h"`, `true`, `"i"`, `-1.5e3`}},
		{"{\"k\\\"\":\n\"v\\\\\"\t}", []string{`"k\""`, `"v\\"`}},
	}
	for _, tt := range tests {
		m, ok := objectMembers([]byte(tt.in))
		if !ok {
			t.Errorf("objectMembers(%q): not an object", tt.in)
			continue
		}
		var got []string
		for {
			k, v, ok := m.next()
			if !ok {
				break
			}
			got = append(got, string(k), string(v))
		}
		if m.bad || len(got) != len(tt.want) {
			t.Errorf("objectMembers(%q) = %q (bad %v), want %q", tt.in, got, m.bad, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("objectMembers(%q) = %q, want %q", tt.in, got, tt.want)
				break
			}
		}
	}
	for _, in := range []string{``, `[]`, `"{}"`, ` 1`} {
		if _, ok := objectMembers([]byte(in)); ok {
			t.Errorf("objectMembers(%q): ok for a non-object", in)
		}
	}
	// Malformed input (never passed in, since payloads are validated first) must
	// end the walk with bad set, not panic.
	for _, in := range []string{`{`, `{"a"`, `{"a":`, `{"a":1`, `{"a":"x`, `{"a":[1,2`, `{1:2}`, `{"a",1}`, `{"a":}`} {
		m, _ := objectMembers([]byte(in))
		for {
			if _, _, ok := m.next(); !ok {
				break
			}
		}
		if m.err() == nil {
			t.Errorf("walk of %q: no error", in)
		}
	}
}

// TestEachMember checks that the walk unquotes keys, stops at fn's first error and
// reports a malformed object as bad_json.
func TestEachMember(t *testing.T) {
	stop := errors.New("stop")
	var got []string
	err := eachMember([]byte(`{"a\u0062":1, "c":[2],"d":3}`), func(key, val []byte) error {
		got = append(got, string(key)+"="+string(val))
		if string(key) == "c" {
			return stop
		}
		return nil
	})
	if err != stop || strings.Join(got, " ") != "ab=1 c=[2]" {
		t.Errorf("eachMember: %q, %v; want [ab=1 c=[2]], stop", got, err)
	}
	err = eachMember([]byte(`{"a":1`), func(key, val []byte) error { return nil })
	if telemetry.Reason(err) != reasonBadJSON {
		t.Errorf("eachMember of a truncated object: %v, want bad_json", err)
	}
}

// FuzzObjectMembers checks the scanner against encoding/json on valid objects: the
// same members, with the last of repeated keys winning.
func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{z2mTypical, tasmotaMixed, shellyFullStatus, saqshyState, `{"a\u0062":"\\\"","":[{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// encoding/json replaces invalid UTF-8 in keys; compare on valid UTF-8 only.
		var want map[string]json.RawMessage
		if !utf8.Valid(in) || !json.Valid(in) || json.Unmarshal(in, &want) != nil || want == nil {
			m, ok := objectMembers(in)
			for ok {
				_, _, ok = m.next() // must not panic on anything
			}
			return
		}
		m, ok := objectMembers(in)
		if !ok {
			t.Fatalf("objectMembers(%q): not an object", in)
		}
		got := map[string][]byte{}
		for {
			k, v, ok := m.next()
			if !ok {
				break
			}
			key, err := unquote(k)
			if err != nil {
				t.Fatalf("unquote(%q): %v", k, err)
			}
			got[string(key)] = v
		}
		if m.bad {
			t.Fatalf("walk of valid %q failed", in)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d members, encoding/json has %d", in, len(got), len(want))
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || !bytes.Equal(g, w) {
				t.Fatalf("%q: member %q = %q, encoding/json has %q", in, k, g, w)
			}
		}
	})
}

// FuzzValidJSON: validJSON says what json.Valid says, for every input.
func FuzzValidJSON(f *testing.F) {
	all, err := corpus.All("testdata/corpus")
	if err != nil {
		f.Fatal(err)
	}
	for _, caps := range all {
		for _, c := range caps {
			f.Add([]byte(c.Payload))
		}
	}
	for _, s := range []string{``, ` `, `{}`, `[]`, `"\u12G4"`, `"\x01"`, `-`, `-0`, `01`, `1.`, `1e`, `1e+5`, `[1,]`, `{"a":1,}`,
		`"\xff"`, `true `, `nul`, `{"a" 1}`, `[[[[]]]]`, `"\\\""`, `{"a":"b\\"}`, `1 2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", b, got, want)
		}
	})
}

func TestValidJSONDepth(t *testing.T) {
	deep := []byte(strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1))
	if got, want := validJSON(deep), json.Valid(deep); got != want {
		t.Errorf("nesting %d: validJSON %v, json.Valid %v", maxDepth+1, got, want)
	}
	ok := []byte(strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth))
	if got, want := validJSON(ok), json.Valid(ok); got != want {
		t.Errorf("nesting %d: validJSON %v, json.Valid %v", maxDepth, got, want)
	}
}

// FuzzWalkObject: walkObject returns checkObject's error and, on valid objects, the
// members eachMember gives, in order, with those of the inner object before it.
func FuzzWalkObject(f *testing.F) {
	for _, s := range []string{z2mTypical, tasmotaMixed, shellyFullStatus, saqshyState, `{"a\u0062":"\\\"","":[{}]}`,
		``, ` `, `{}`, ` {} `, `{}x`, `[]`, `{,"a":1}`, `{"a":1,}`, `{"a" 1}`, `{"a":1 "b":2}`, `{"a":}`, `"a"`, `{"\xff":1}`,
		`{"params":{"a":1,"b":{}},"params":null,"params":{}}`, `{"params":{"a":1,}}`, `{"params":{"a":{"b":[}}}`, `{"p\u0061rams":{"x":1}}`} {
		f.Add([]byte(s), "params")
	}
	f.Add([]byte(`{"":{"":{}}}`), "")
	type member struct {
		nested bool
		k, v   string
	}
	f.Fuzz(func(t *testing.T, in []byte, inner string) {
		var got []member
		gotErr := walkObject(in, inner, func(nested bool, k, v []byte) { got = append(got, member{nested, string(k), string(v)}) })
		wantErr := checkObject(in)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || telemetry.Reason(gotErr) != telemetry.Reason(wantErr) {
			t.Fatalf("walkObject(%q) = %v, checkObject %v", in, gotErr, wantErr)
		}
		if wantErr != nil {
			return
		}
		var want []member
		if err := eachMember(in, func(k, v []byte) error {
			if inner != "" && string(k) == inner && v[0] == '{' {
				if err := eachMember(v, func(k, v []byte) error {
					want = append(want, member{true, string(k), string(v)})
					return nil
				}); err != nil {
					return err
				}
			}
			want = append(want, member{false, string(k), string(v)})
			return nil
		}); err != nil {
			t.Fatalf("eachMember(%q): %v", in, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("walkObject(%q, %q) = %+v, eachMember %+v", in, inner, got, want)
		}
	})
}
