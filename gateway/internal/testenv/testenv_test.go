package testenv

import (
	"context"
	"net"
	"testing"
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
}
