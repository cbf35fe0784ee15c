package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/camera"
)

// startRTSP starts GStreamer's RTSP server (testdata/rtsp_server.py, Debian's
// gir1.2-gst-rtsp-server-1.0, installed by `make tools`) on a loopback port and
// returns the URL of its stream.
func startRTSP(t *testing.T, mode string, creds ...string) string {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", append([]string{"testdata/rtsp_server.py", mode}, creds...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the RTSP server (run `make tools`): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	select {
	case l := <-line:
		port, ok := strings.CutPrefix(l, "port ")
		if !ok {
			t.Fatalf("RTSP server said %q; stderr: %s", l, stderr.String())
		}
		return "rtsp://127.0.0.1:" + port + "/cam"
	case <-time.After(20 * time.Second):
		t.Fatalf("RTSP server did not start; stderr: %s", stderr.String())
	}
	return ""
}

func probeCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestRTSP probes a real RTSP server: without auth, with digest and basic (right
// and wrong credentials, and none), a wrong path, a closed port, and a server that
// accepts the connection but never answers.
func TestRTSP(t *testing.T) {
	t.Parallel()
	open := startRTSP(t, "none")
	dig := startRTSP(t, "digest", "admin", "s3cret")
	basic := startRTSP(t, "basic", "admin", "s3cret")

	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "rtsp://" + addr + "/cam"
	}()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accept, never answer
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})

	tests := []struct {
		name, url, user, pass string
		reason                string // "" = healthy
	}{
		{"no auth", open, "", "", ""},
		{"digest", dig, "admin", "s3cret", ""},
		{"digest wrong password", dig, "admin", "wrong", "wrong credentials"},
		{"digest no credentials", dig, "", "", "wants credentials"},
		{"basic", basic, "admin", "s3cret", ""},
		{"basic wrong password", basic, "admin", "wrong", "wrong credentials"},
		{"basic wrong user", basic, "root", "s3cret", "wrong credentials"},
		{"wrong path", strings.TrimSuffix(open, "/cam") + "/nope", "", "", "status 404"},
		{"closed port", closed, "", "", "connection refused"},
		{"never answers", "rtsp://" + silent.Addr().String() + "/cam", "", "", "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := New(nil, nil, nil)
			start := time.Now()
			r := p.Probe(t.Context(), Target{Camera: "cam-1", RTSPURL: tt.url, Username: tt.user, Password: tt.pass, Timeout: 2 * time.Second})
			if tt.reason == "" {
				if r.State != "healthy" || r.Reason != "" || r.Probe != "rtsp" {
					t.Fatalf("report %+v", r)
				}
				return
			}
			if r.State != "offline" || !strings.Contains(r.Reason, tt.reason) {
				t.Fatalf("report %+v, want offline with %q", r, tt.reason)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("probe took %s, timeout 2s", time.Since(start))
			}
		})
	}
	if err := RTSP(probeCtx(t), dig, "admin", "wrong"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong digest credentials: %v, want ErrUnauthorized", err)
	}
}

// jpeg is the start of a JPEG file: enough for content sniffing.
var jpeg = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")

// TestSnapshot probes an HTTP snapshot URL with basic auth, wrong credentials, a
// page that is not an image, and a 404.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/open.jpg":
			w.Write(jpeg)
		case "/auth.jpg":
			if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "s3cret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="cam"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Write(jpeg)
		case "/page":
			fmt.Fprint(w, "<html>login</html>")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tests := []struct {
		path, user, pass, reason string
	}{
		{"/open.jpg", "", "", ""},
		{"/auth.jpg", "admin", "s3cret", ""},
		{"/auth.jpg", "admin", "nope", "wrong credentials"},
		{"/auth.jpg", "", "", "wants credentials"},
		{"/page", "", "", "not an image"},
		{"/missing.jpg", "", "", "status 404"},
	}
	p := New(nil, nil, nil)
	for _, tt := range tests {
		r := p.Probe(t.Context(), Target{Camera: "cam-1", SnapshotURL: srv.URL + tt.path, Username: tt.user, Password: tt.pass, Timeout: 2 * time.Second})
		if tt.reason == "" && (r.State != "healthy" || r.Probe != "http") || tt.reason != "" && (r.State != "offline" || !strings.Contains(r.Reason, tt.reason)) {
			t.Errorf("%s %s: report %+v, want %q", tt.path, tt.user, r, tt.reason)
		}
	}
}

// pubFunc adapts a function to Publisher.
type pubFunc func(ctx context.Context, topic string, retained bool, payload []byte) error

func (f pubFunc) Publish(ctx context.Context, topic string, retained bool, payload []byte) error {
	return f(ctx, topic, retained, payload)
}

// TestRunPublishes: Run probes every interval and publishes retained reports that
// the camera check parses.
func TestRunPublishes(t *testing.T) {
	t.Parallel()
	url := startRTSP(t, "none")
	got := make(chan camera.Report, 10)
	pub := pubFunc(func(_ context.Context, topic string, retained bool, payload []byte) error {
		if topic != "saqshy/c1/camera/cam-1/health" || !retained {
			t.Errorf("published on %s retained=%t", topic, retained)
		}
		r, err := camera.ParseReport(payload)
		if err != nil {
			t.Error(err)
		}
		got <- r
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	p := New([]Target{{Camera: "cam-1", Topic: "saqshy/c1/camera/cam-1/health", RTSPURL: url, Interval: 200 * time.Millisecond, Timeout: time.Second}}, pub, nil)
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	for i := range 2 {
		select {
		case r := <-got:
			if r.State != "healthy" {
				t.Errorf("report %d: %+v", i, r)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no report")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
