package still

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFetch(t *testing.T) {
	jpg := encode(t, uniform(100, 5, 3))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/hall/latest.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(jpg)
	})
	mux.HandleFunc("GET /api/big/latest.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.(http.Flusher).Flush() // no Content-Length: the limit reader must stop it
		for range 100 {
			w.Write(make([]byte, 1024))
		}
	})
	mux.HandleFunc("GET /api/login/latest.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>"))
	})
	mux.HandleFunc("GET /api/slow/latest.jpg", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux) // loopback
	defer srv.Close()
	ctx := context.Background()

	data, err := Fetch(ctx, srv.Client(), srv.URL+"/api/hall/latest.jpg", 1<<20)
	if err != nil || string(data) != string(jpg) {
		t.Fatalf("hall: %d bytes, %v", len(data), err)
	}
	bad := []struct {
		path string
		max  int64
		want string
	}{
		{"/api/big/latest.jpg", 50 << 10, "more than the limit of 51200 bytes"},
		{"/api/hall/latest.jpg", int64(len(jpg) - 1), "more than the limit"},
		{"/api/login/latest.jpg", 1 << 20, `content type "text/html"`},
		{"/api/none/latest.jpg", 1 << 20, "status 404"},
		{"/api/hall/latest.jpg", 0, "size limit 0 is not positive"},
	}
	for _, c := range bad {
		if _, err := Fetch(ctx, srv.Client(), srv.URL+c.path, c.max); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s (max %d): %v, want %q", c.path, c.max, err, c.want)
		}
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := Fetch(short, srv.Client(), srv.URL+"/api/slow/latest.jpg", 1<<20); err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("slow: %v", err)
	}
}
