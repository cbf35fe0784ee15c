package monitor

import "testing"

// TestSafeNext: only a plain local path survives as the login's redirect target.
func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/centre/c1", "/centre/c1"},
		{"/centre/c1?range=30d&lang=en", "/centre/c1?range=30d&lang=en"},
		{"/reports/2026-03-01#top", "/reports/2026-03-01#top"},
		{"", "/"},
		{"centre/c1", "/"},
		{"https://evil.example", "/"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/\x1f/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
		{"/x\\..\\\\evil.example", "/"},
		{"/centre/c1\t", "/"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
