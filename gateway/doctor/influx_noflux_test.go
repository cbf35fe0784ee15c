package doctor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
)

// TestInfluxWithoutFlux: InfluxDB 1.8 as installed (flux-enabled = false) takes the
// gateway's writes; doctor says so, warns that reads need Flux, and gives the fix
// line — it does not fail the check.
func TestInfluxWithoutFlux(t *testing.T) {
	in := testenv.StartInfluxWith(t, "saqshy", testenv.InfluxOptions{NoFlux: true})
	path := filepath.Join(t.TempDir(), "centre.yaml")
	yaml := fmt.Sprintf(`centre: {id: c1}
zones: [{id: room-101, kind: living}]
sensors: [{id: s1, zone: room-101, source: zigbee2mqtt, topic: zigbee2mqtt/r1}]
influx: {url: %q, bucket: %q, timeout: 3s}
`, in.URL(), in.Bucket())
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{InfluxToken: "-"}
	opt.defaults()
	start := time.Now()
	c := checkInflux(context.Background(), cfg, &opt)
	if c.Status != Warn {
		t.Errorf("status %s, want warn: %s", c.Status, c.Title)
	}
	for _, want := range []string{"is writable (the gateway's writes work)", "Flux queries are disabled", "Flux query service disabled"} {
		if !strings.Contains(c.Title, want) {
			t.Errorf("title lacks %q: %s", want, c.Title)
		}
	}
	if !strings.Contains(c.Fix, "flux-enabled = true") || !strings.Contains(c.Fix, "[http]") {
		t.Errorf("fix: %s", c.Fix)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s: a disabled Flux is known at once, no retrying until the timeout", d)
	}
	if n := in.Count(t, TestMeasurement, "nonce", ""); n != 1 {
		t.Errorf("InfluxDB holds %d doctor points, want 1 (writes work)", n)
	}
}
