package status

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestReadyzAndMetricsSpoolFailing: while the spool cannot store readings (disk full),
// /readyz is not ready and says why; the spool's losses and free space are metrics
// and on the page.
func TestReadyzAndMetricsSpoolFailing(t *testing.T) {
	p := centre()
	ts := newServer(t, p, Options{})
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz healthy = %d", code)
	}
	p.set(func(s *Snapshot) {
		s.SpoolError = "spool: write 00000000000000000000.seg: no space left on device"
		s.SpoolCorrupt, s.SpoolLost, s.SpoolDiskFree = 3, 7182, 4096
	})
	code, body := get("/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no space left") {
		t.Fatalf("/readyz with a failing spool = %d %q", code, body)
	}
	_, m := get("/metrics")
	for _, w := range []string{"saqshy_spool_corrupt_total{centre=\"c1\"} 3", "saqshy_spool_lost_total{centre=\"c1\"} 7182",
		"saqshy_spool_disk_free_bytes{centre=\"c1\"} 4096", "saqshy_spool_write_failing{centre=\"c1\"} 1"} {
		if !strings.Contains(m, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	c := newClient(t, ts)
	_, page := c.do("GET", "/", nil, "Accept-Language", "en")
	contains(t, "page", page, "Lost (spool files damaged or missing)", "7185", "Spool cannot store readings")
}

// TestReadyzMQTTProblem: a known MQTT problem makes /readyz not ready, with the
// problem, and is on the page.
func TestReadyzMQTTProblem(t *testing.T) {
	p := centre()
	p.set(func(s *Snapshot) {
		s.MQTTProblem = "the MQTT broker refuses the gateway's login: check mqtt.password_file"
	})
	ts := newServer(t, p, Options{})
	resp, err := ts.Client().Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "mqtt.password_file") {
		t.Fatalf("/readyz = %d %q", resp.StatusCode, b)
	}
	_, page := newClient(t, ts).do("GET", "/", nil, "Accept-Language", "en")
	contains(t, "page", page, "MQTT: readings are not arriving", "check mqtt.password_file")
}
