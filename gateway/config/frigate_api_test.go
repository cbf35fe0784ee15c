package config

import (
	"strings"
	"testing"
)

// TestFrigateAPI: a Frigate camera with frigate_api has its latest-frame URL as
// its still; a saqshy camera its snapshot URL; bad values are refused naming the
// field.
func TestFrigateAPI(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(`centre: {id: c1}
zones: [{id: room-1, kind: living}]
cameras:
  - {id: cam-f, zones: [room-1], source: frigate, name: "salon_1", frigate_api: "http://127.0.0.1:5000/"}
  - {id: cam-s, zones: [room-1], source: saqshy, snapshot_url: "http://10.0.0.5/snap.jpg"}
  - {id: cam-n, zones: [room-1], source: frigate}
`))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"http://127.0.0.1:5000/api/salon_1/latest.jpg", "http://10.0.0.5/snap.jpg", ""} {
		if got := cfg.Cameras[i].StillURL(); got != want {
			t.Errorf("%s: still URL %q, want %q", cfg.Cameras[i].ID, got, want)
		}
	}
	for _, tt := range []struct{ cam, want string }{
		{`{id: cam-f, zones: [room-1], source: frigate, frigate_api: "127.0.0.1:5000"}`, "cameras[0].frigate_api: invalid URL"},
		{`{id: cam-f, zones: [room-1], source: frigate, frigate_api: "ftp://nvr/"}`, `cameras[0].frigate_api: unsupported scheme "ftp"`},
		{`{id: cam-g, zones: [room-1], source: generic, topic: a/b, frigate_api: "http://nvr:5000"}`, "cameras[0].frigate_api: frigate_api is only for source frigate"},
	} {
		_, err := Parse("c.yaml", []byte("centre: {id: c1}\nzones: [{id: room-1, kind: living}]\ncameras:\n  - "+tt.cam+"\n"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.cam, err, tt.want)
		}
	}
}
