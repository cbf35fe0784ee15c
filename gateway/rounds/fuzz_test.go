package rounds

import (
	"errors"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

func checkErr(t *testing.T, err error) {
	t.Helper()
	var de *telemetry.RejectError
	if err != nil && (!errors.As(err, &de) || de.Reason == "" || de.Error() == "") {
		t.Fatalf("error without a reason: %v", err)
	}
}

func FuzzNative(f *testing.F) {
	for _, s := range []string{`{"tag":"04A1B2C3D4E580","reader":"cp-entrance-reader","ts":1767213000}`, `{}`,
		`{"badge":"aigul","ts":"2026-01-10T22:30:00+05:00"}`, `{"ts":1767213000.5}`, `{"ts":null}`, `[]`, ``, `{"tag":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		s, err := decodeNative("saqshy/c1/round/cp-1/scan", []byte(payload))
		checkErr(t, err)
		if err == nil && !s.TS.IsZero() && (s.TS.Before(minTS) || !s.TS.Before(maxTS)) {
			t.Fatalf("ts %v out of range", s.TS)
		}
		if err == nil && (len(s.Tag) > maxField || len(s.Badge) > maxField || len(s.Reader) > maxField) {
			t.Fatal("field too long")
		}
	})
}

func FuzzButton(f *testing.F) {
	for _, s := range []string{`{"action":"single"}`, `{"battery":90}`, `{"action":null}`, `{"action":5}`, `x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		_, err := decodeButton("zigbee2mqtt/b", []byte(payload))
		checkErr(t, err)
	})
}

func FuzzTasmota(f *testing.F) {
	for _, s := range []string{`{"Time":"2021-01-01T00:00:00","PN532":{"UID":"94D8FC5F","DATA":""}}`,
		`{"RC522":{"UID":"BA839D07","DATA":"","Type":"MIFARE 1KB"}}`, `{"DS18B20":{"Temperature":4}}`, `{"PN532":5}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		uid, err := decodeTasmota("tele/r/SENSOR", []byte(payload))
		checkErr(t, err)
		if err == nil && uid != "" && (!isHex(uid) || len(uid) < 4 || len(uid) > 32) {
			t.Fatalf("uid %q", uid)
		}
	})
}

// FuzzMessage feeds any topic and payload to a check mid-night: no panic, an error
// with a reason, or points that InfluxDB accepts.
func FuzzMessage(f *testing.F) {
	for _, s := range [][2]string{{"saqshy/c1/round/cp-1/scan", `{"badge":"aigul"}`}, {"zigbee2mqtt/cp-3-button", `{"action":"single"}`},
		{"tele/cp-4-reader/SENSOR", `{"PN532":{"UID":"AA11BB22"}}`}, {"saqshy/c1/round//scan", `{}`}} {
		f.Add(s[0], s[1])
	}
	c := plausibleCentre(f)
	mustValid(f, c)
	conds := newCondLog()
	ck, err := New(Options{Config: c, Conditions: conds})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 1, 10, 18, 0, 0, 0, time.UTC) // 23:00 in Almaty
	ck.Tick(now, true)
	f.Fuzz(func(t *testing.T, topic, payload string) {
		now = now.Add(time.Second)
		evs, err := ck.Message(telemetry.Message{Topic: topic, Payload: []byte(payload), Received: now}, true)
		checkErr(t, err)
		for _, e := range evs {
			if err := e.Point.Check(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
