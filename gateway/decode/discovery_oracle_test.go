package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// parseDiscoveryJSON is ParseDiscovery written with encoding/json, as it was before
// the scanner: the oracle of FuzzParseDiscoveryJSON.
func parseDiscoveryJSON(topic string, payload []byte) (Discovery, error) {
	var d Discovery
	if len(payload) > telemetry.MaxPayload {
		return d, reject(reasonTooLarge, fmt.Errorf("%d bytes, limit %d", len(payload), telemetry.MaxPayload))
	}
	if err := checkTopic(topic); err != nil {
		return d, reject(reasonBadTopic, err)
	}
	levels := strings.Split(topic, "/")
	if len(levels) < 4 || len(levels) > 5 || levels[len(levels)-1] != "config" {
		return d, badTopic("want <prefix>/<component>/[<node_id>/]<object_id>/config")
	}
	d.Component, d.ObjectID = levels[1], levels[len(levels)-2]
	if len(levels) == 5 {
		d.NodeID = levels[2]
	}
	if err := checkObject(payload); err != nil {
		return d, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return d, reject(reasonBadJSON, err)
	}
	get := func(long, short string) (string, error) {
		v, ok := raw[long]
		if !ok {
			v, ok = raw[short]
		}
		if !ok || bytes.Equal(v, []byte("null")) {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", badValue("%s: want a string", long)
		}
		return s, nil
	}
	fields := []struct {
		long, short string
		dst         *string
	}{
		{"name", "name", &d.Name},
		{"unique_id", "uniq_id", &d.UniqueID},
		{"device_class", "dev_cla", &d.DeviceClass},
		{"unit_of_measurement", "unit_of_meas", &d.Unit},
		{"state_topic", "stat_t", &d.StateTopic},
		{"value_template", "val_tpl", &d.ValueTemplate},
	}
	var errs []error
	for _, f := range fields {
		s, err := get(f.long, f.short)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*f.dst = s
	}
	if len(errs) > 0 {
		return d, errs[0]
	}
	if base, _ := get("~", "~"); base != "" {
		switch {
		case strings.HasPrefix(d.StateTopic, "~"):
			d.StateTopic = base + d.StateTopic[1:]
		case strings.HasSuffix(d.StateTopic, "~"):
			d.StateTopic = d.StateTopic[:len(d.StateTopic)-1] + base
		}
	}
	dev := raw["device"]
	if dev == nil {
		dev = raw["dev"]
	}
	if len(dev) > 0 && dev[0] == '{' {
		var m map[string]any
		if json.Unmarshal(dev, &m) == nil {
			str := func(keys ...string) string {
				for _, k := range keys {
					if s, ok := m[k].(string); ok {
						return s
					}
				}
				return ""
			}
			d.Model = str("model", "mdl")
			d.Manufacturer = str("manufacturer", "mf")
			d.Software = str("sw_version", "sw")
		}
	}
	if d.Software == "" {
		var o struct {
			SW string `json:"sw"`
		}
		if v := raw["origin"]; v != nil && json.Unmarshal(v, &o) == nil {
			d.Software = o.SW
		}
	}
	if d.StateTopic == "" && d.Component != "device" {
		return d, reject(reasonBadValue, errors.New("no state_topic"))
	}
	return d, nil
}

// FuzzParseDiscoveryJSON: ParseDiscovery's scanner gives what encoding/json gives,
// the same Discovery and the same error, for every input.
func FuzzParseDiscoveryJSON(f *testing.F) {
	for _, c := range corpusSeeds(f, "homeassistant") {
		f.Add(c.topic, []byte(c.payload))
	}
	for _, s := range []string{
		`{"stat_t":"a","origin":{"SW":"x"}}`, `{"stat_t":"a","origin":{"ſw":"x","sw":null}}`,
		`{"stat_t":"a","origin":{"sw":1,"sw":"x"}}`, `{"stat_t":"a","origin":[]}`, `{"stat_t":"a","origin":null}`,
		`{"state_topic":null,"stat_t":"a"}`, `{"stat_t":"~/s","~":"b","dev":{"mdl":"m","model":5}}`,
		`{"stat_t":"a","device":null,"dev":{"mf":"x"}}`, `{"name":"\xff","stat_t":"a\u00e9"}`,
		`{"stat_t":"a","stat_t":"b","unit_of_meas":1,"name":2}`, `{"n\u0061me":"x","stat_t":"a"} `,
	} {
		f.Add("homeassistant/sensor/n/o/config", []byte(s))
	}
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		got, gotErr := parseDiscovery(topic, payload)
		want, wantErr := parseDiscoveryJSON(topic, payload)
		if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || telemetry.Reason(gotErr) != telemetry.Reason(wantErr) {
			t.Fatalf("%q %q:\n got %+v, %v\nwant %+v, %v", topic, payload, got, gotErr, want, wantErr)
		}
	})
}
