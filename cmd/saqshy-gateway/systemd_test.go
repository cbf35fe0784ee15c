package main

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type fakeLive struct{ ns atomic.Int64 }

func (f *fakeLive) Alive() time.Time {
	if n := f.ns.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// TestNotifySystemd: on a real unix datagram socket like systemd's, READY=1 comes
// once the gateway is alive, WATCHDOG=1 while it stays alive, none once its ticker
// stops, and STOPPING=1 at shutdown.
func TestNotifySystemd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "200000") // 200 ms: pings every 100 ms
	t.Setenv("WATCHDOG_PID", "")
	recv := func(wait time.Duration) []string {
		var got []string
		buf := make([]byte, 256)
		deadline := time.Now().Add(wait)
		for {
			_ = conn.SetReadDeadline(deadline)
			n, err := conn.Read(buf)
			if err != nil {
				return got
			}
			got = append(got, string(buf[:n]))
		}
	}
	g := &fakeLive{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { notifySystemd(ctx, g, slog.New(slog.DiscardHandler)); close(done) }()

	if got := recv(300 * time.Millisecond); len(got) != 0 {
		t.Fatalf("before the gateway is alive: %q", got)
	}
	stop := make(chan struct{})
	go func() { // the gateway's ticker
		for {
			g.ns.Store(time.Now().UnixNano())
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	got := recv(time.Second)
	if len(got) < 4 || got[0] != "READY=1" || strings.Count(strings.Join(got, " "), "WATCHDOG=1") < 3 {
		t.Fatalf("while alive: %q", got)
	}
	close(stop) // wedged
	time.Sleep(150 * time.Millisecond)
	recv(50 * time.Millisecond)
	if got := recv(500 * time.Millisecond); len(got) != 0 {
		t.Fatalf("pings while the ticker is stopped: %q", got)
	}
	cancel()
	<-done
	if got := recv(200 * time.Millisecond); len(got) != 1 || got[0] != "STOPPING=1" {
		t.Fatalf("at shutdown: %q", got)
	}
}

// TestNotifySystemdOutsideSystemd: without NOTIFY_SOCKET it returns at once.
func TestNotifySystemdOutsideSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	g := &fakeLive{}
	g.ns.Store(time.Now().UnixNano())
	done := make(chan struct{})
	go func() { notifySystemd(context.Background(), g, slog.New(slog.DiscardHandler)); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("notifySystemd did not return without NOTIFY_SOCKET")
	}
}
