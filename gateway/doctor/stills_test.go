package doctor

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/saqshy/saqshy/gateway/config"
)

// TestCheckStills: a camera of a required zone serving a black frame fails the
// line with why; a camera of a required zone without a still URL warns.
func TestCheckStills(t *testing.T) {
	var black bytes.Buffer
	if err := jpeg.Encode(&black, image.NewGray(image.Rect(0, 0, 160, 90)), nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(black.Bytes())
	}))
	defer srv.Close()
	cfg, err := config.Parse("c.yaml", []byte(`centre: {id: c1}
zones: [{id: room-1, kind: living}, {id: hall, kind: corridor}]
cameras:
  - {id: cam-s, zones: [room-1], source: saqshy, snapshot_url: "`+srv.URL+`/snap.jpg"}
  - {id: cam-f, zones: [hall], source: frigate}
`))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{}
	opt.defaults()
	c := checkStills(context.Background(), cfg, &opt)
	var b strings.Builder
	(&Report{Checks: []Check{c}}).WriteTo(&b)
	out := b.String()
	if c.Status != Fail || !strings.Contains(out, "cam-s does not see [room-1]: blacked out") ||
		!strings.Contains(out, "cam-f: no still URL") || !strings.Contains(out, "1 of 2 cameras") {
		t.Errorf("status %s:\n%s", c.Status, out)
	}
}
