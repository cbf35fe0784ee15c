package gateway

import "testing"

func TestMatchTopic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"frigate/stats", "frigate/stats", true},
		{"frigate/stats", "frigate/stats/x", false},
		{"frigate/+/status/+", "frigate/cam1/status/detect", true},
		{"frigate/+/status/+", "frigate/cam1/status", false},
		{"frigate/#", "frigate", true},
		{"frigate/#", "frigate/a/b/c", true},
		{"#", "anything/at/all", true},
		{"saqshy/c1/round/+/scan", "saqshy/c1/round/cp-1/scan", true},
		{"saqshy/c1/round/+/scan", "saqshy/c2/round/cp-1/scan", false},
		{"a/+", "a/", true},
		{"a/+", "a", false},
		{"a", "a/b", false},
		{"a/b", "a", false},
		{"+/+", "x/y", true},
	}
	for _, tt := range tests {
		if got := matchTopic(tt.filter, tt.topic); got != tt.want {
			t.Errorf("matchTopic(%q, %q) = %t, want %t", tt.filter, tt.topic, got, tt.want)
		}
	}
}
