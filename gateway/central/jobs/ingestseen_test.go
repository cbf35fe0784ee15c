package jobs

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestIngestSeenAnswers: the ingest's /centres is read into last contacts (a
// centre never accepted has none); every bad answer is an error naming it.
func TestIngestSeenAnswers(t *testing.T) {
	answer, status := "", http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/centres" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	s := &IngestSeen{URL: srv.URL + "/"}
	answer = `[{"centre":"a","seq":3,"last_contact":"2026-03-01T12:00:00Z"},{"centre":"b","seq":0,"last_contact":"0001-01-01T00:00:00Z"}]`
	got, err := s.LastSeen(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got["a"].Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("last seen %v, want only a at 12:00", got)
	}
	for _, tc := range []struct {
		name, answer string
		status       int
		want         string
	}{
		{"server error", `{"code":"internal error","message":"chain head x is corrupt"}`, 500, "answered 500 Internal Server Error: {\"code\""},
		{"not json", `<html>proxy error</html>`, 200, "not a list of centre heads"},
		{"an object", `{"centre":"a"}`, 200, "not a list of centre heads"},
		{"bad time", `[{"centre":"a","last_contact":"yesterday"}]`, 200, "not a list of centre heads"},
		{"no centre", `[{"last_contact":"2026-03-01T12:00:00Z"}]`, 200, "head 0 has no centre"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer, status = tc.answer, tc.status
			_, err := s.LastSeen(context.Background(), time.Time{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
	s.URL = "http://127.0.0.1:1"
	if _, err := s.LastSeen(context.Background(), time.Time{}); err == nil || !strings.Contains(err.Error(), "ingest") {
		t.Errorf("unreachable ingest: %v", err)
	}
}
