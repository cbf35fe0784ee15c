package testenv

import (
	"context"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

func TestServersStartStopRestart(t *testing.T) {
	m := StartMosquitto(t, MosquittoOptions{})
	in := StartInflux(t, "saqshy")
	c, err := net.Dial("tcp", m.URL()[len("tcp://"):])
	if err != nil {
		t.Fatalf("dial mosquitto: %v", err)
	}
	c.Close()
	m.Stop()
	if _, err := net.Dial("tcp", m.URL()[len("tcp://"):]); err == nil {
		t.Fatal("mosquitto still listening after Stop")
	}
	m.Start()
	if _, err := in.Query(context.Background(), "SHOW DATABASES"); err != nil {
		t.Fatal(err)
	}
	if n := in.Count(t, "climate", "temperature_c", ""); n != 0 {
		t.Fatalf("empty database has %d points", n)
	}
	in.Stop()
	if _, err := in.Query(context.Background(), "SHOW DATABASES"); err == nil {
		t.Fatal("influxd still answering after Stop")
	}
	in.Start()

	// Unread: a request sent to a held server is seen waiting, and gone once the
	// server has resumed and answered.
	if u, err := in.Unread(); err != nil || u {
		t.Fatalf("idle server: unread %v, %v", u, err)
	}
	if err := in.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// A new connection for the request (none kept alive from the checks above),
	// and a request that ends early is said, not waited for.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	done := make(chan error, 1)
	go func() {
		resp, err := client.Get(in.URL() + "/ping")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for u, err := in.Unread(); !u; u, err = in.Unread() {
		select {
		case rerr := <-done:
			t.Fatalf("the request to a held server ended before it was seen waiting: %v", rerr)
		default:
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("a request to a held server not seen: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := in.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if u, err := in.Unread(); err != nil || u {
		t.Fatalf("answered: unread %v, %v", u, err)
	}
}
