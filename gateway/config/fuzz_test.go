package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any input gives either a valid config or *FieldErrors, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(Example())
	if data, err := os.ReadFile("../../firmware-config/centres/shymkent-csu-2.yaml"); err == nil {
		f.Add(data)
	}
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, file := range bad {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("centre: {id: x}\nsensors: &s [{<<: *s}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
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
	})
}
