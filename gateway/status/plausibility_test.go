package status

import (
	"testing"
	"time"
)

// TestImplausibleAndTampered: a sensor held implausible and a camera that does not
// see are shown with their reasons, in each language.
func TestImplausibleAndTampered(t *testing.T) {
	p := centre()
	p.set(func(s *Snapshot) {
		s.Cameras = []Camera{{ID: "cam-01", Zones: []string{"room-101"}, State: CameraDegraded, Reason: "view_dark",
			View: "dark", ViewReason: "blacked out: mean brightness 2.1 of 255 (below 12)"},
			{ID: "cam-02", Zones: []string{"corridor"}, State: CameraHealthy, View: "ok"}}
		s.Implausible = []Implausible{{Sensor: "med-fridge-t", Zone: "med-fridge", Code: "no_compressor_cycles",
			Reason: "no compressor cycles: 0.0 swings", Since: t0.Add(-time.Hour)}}
	})
	ts := newServer(t, p, Options{})
	c := newClient(t, ts)
	for _, tt := range []struct {
		lang string
		want []string
	}{
		{"ru", []string{"Недостоверные датчики", "нет циклов компрессора", "не видит зону: затемнена", "затемнена"}},
		{"kk", []string{"Сенімсіз датчиктер", "компрессор циклдары жоқ", "аймақты көрмейді: қараңғыланған"}},
		{"en", []string{"Implausible sensors", "no compressor cycles", "does not see its zone: blacked out"}},
	} {
		_, body := c.do("GET", "/", nil, "Accept-Language", tt.lang)
		contains(t, tt.lang, body, append(tt.want, `data-implausible="med-fridge-t"`, "no compressor cycles: 0.0 swings",
			`data-view="cam-01"`, "blacked out: mean brightness 2.1")...)
		lacks(t, tt.lang, body, `data-view="cam-02"`)
	}
}
