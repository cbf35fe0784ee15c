package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		errPart string
	}{
		{"30s", 30 * time.Second, ""},
		{"2h", 2 * time.Hour, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"500ms", 500 * time.Millisecond, ""},
		{" 5m ", 5 * time.Minute, ""},
		{"-1h", -time.Hour, ""},
		{"300", 0, `has no unit: write e.g. "300s"`},
		{"0", 0, "has no unit"},
		{"1.5", 0, "has no unit"},
		{"", 0, "empty duration"},
		{"1d", 0, `no "d" unit`},
		{"1 h", 0, `without spaces: "1h"`},
		{"soon", 0, "invalid duration"},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.errPart == "" {
			if err != nil || got.Std() != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v", tt.in, got, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errPart) {
			t.Errorf("ParseDuration(%q) error = %v, want %q", tt.in, err, tt.errPart)
		}
	}
}

func TestDurationString(t *testing.T) {
	tests := map[time.Duration]string{
		0:                                  "0s",
		30 * time.Second:                   "30s",
		2 * time.Hour:                      "2h",
		90 * time.Minute:                   "1h30m",
		time.Hour + time.Second:            "1h1s",
		1500 * time.Millisecond:            "1.5s",
		-5 * time.Minute:                   "-5m",
		300 * time.Second:                  "5m",
		25*time.Hour + 61*time.Second:      "25h1m1s",
		time.Duration(1<<63 - 1):           "2562047h47m16.854775807s",
		time.Duration(-1 << 63):            "-2562047h47m16.854775808s",
		time.Duration(1):                   "1ns",
		10*time.Minute + 30*time.Second:    "10m30s",
		24 * 7 * time.Hour:                 "168h",
		time.Minute + 500*time.Microsecond: "1m0.0005s",
	}
	for d, want := range tests {
		if got := Duration(d).String(); got != want {
			t.Errorf("%d: String() = %q, want %q", d, got, want)
		}
		if d > 0 {
			back, err := ParseDuration(Duration(d).String())
			if err != nil || back.Std() != d {
				t.Errorf("%q does not parse back: %v %v", Duration(d).String(), back, err)
			}
		}
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		errPart string
	}{
		{"2GiB", 2 << 30, ""},
		{"500MiB", 500 << 20, ""},
		{"100MB", 100e6, ""},
		{"1KiB", 1024, ""},
		{"1kb", 1000, ""},
		{"1048576", 1 << 20, ""},
		{"1.5 GiB", 3 << 29, ""},
		{"2 gib", 2 << 30, ""},
		{"10B", 10, ""},
		{"1_000_000", 1e6, ""},
		{"-1MiB", 0, "negative"},
		{"2 gigs", 0, "invalid size"},
		{"GiB", 0, "invalid size"},
		{"", 0, "invalid size"},
		{"99999999999TiB", 0, "too large"},
		{"99999999999999999999", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if tt.errPart == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseByteSize(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errPart) {
			t.Errorf("ParseByteSize(%q) error = %v, want %q", tt.in, err, tt.errPart)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	tests := map[ByteSize]string{
		0: "0B", 2 * GiB: "2GiB", 512 * KiB: "512KiB", 100e6: "100MB", 1500: "1500B", 1536 * MiB: "1536MiB", 3 * TiB: "3TiB", 1000: "1kB",
	}
	for b, want := range tests {
		if got := b.String(); got != want {
			t.Errorf("%d: %q, want %q", int64(b), got, want)
		}
		if back, err := ParseByteSize(want); err != nil || back != b {
			t.Errorf("%q does not parse back: %v %v", want, back, err)
		}
	}
}

func TestUnitsYAMLRoundTrip(t *testing.T) {
	type T struct {
		D Duration `yaml:"d"`
		B ByteSize `yaml:"b"`
	}
	out, err := yaml.Marshal(T{D: Duration(90 * time.Minute), B: 2 * GiB})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "d: 1h30m\nb: 2GiB\n" {
		t.Errorf("marshal: %q", out)
	}
	var back T
	if err := yaml.Unmarshal(out, &back); err != nil || back.D.Std() != 90*time.Minute || back.B != 2*GiB {
		t.Errorf("unmarshal: %+v %v", back, err)
	}
	if err := yaml.Unmarshal([]byte("d: 30\n"), &back); err == nil || !strings.Contains(err.Error(), "line 1: column 4: duration \"30\" has no unit") {
		t.Errorf("bare number: %v", err)
	}
	if err := yaml.Unmarshal([]byte("b: [1]\n"), &back); err == nil || !strings.Contains(err.Error(), "got a list") {
		t.Errorf("list: %v", err)
	}
}
