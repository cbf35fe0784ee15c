package config

import (
	"os"
	"testing"
)

func BenchmarkParseShymkent(b *testing.B) {
	data, err := os.ReadFile("../../firmware-config/centres/shymkent-csu-2.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("shymkent-csu-2.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
