package rounds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// rawScan is what one message says about a scan, before the check resolves it.
type rawScan struct {
	Checkpoint string    // named by the topic (native) or the device (button, fixed reader); "" for a shared reader
	Tag        string    // UID read, normalised; "" for a button
	Badge      string    // native "badge"
	Reader     string    // native "reader"
	TS         time.Time // the device's own time of the scan; zero when it has none
}

// Scan sources, also the "source" tag of scan points.
const (
	srcSaqshy  = "saqshy"
	srcZigbee  = "zigbee2mqtt"
	srcTasmota = "tasmota"
)

const maxField = 128 // longest tag, badge or reader accepted

var (
	minTS = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTS = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

func derr(source, topic, reason string, err error) *telemetry.RejectError {
	return &telemetry.RejectError{Source: "rounds-" + source, Topic: topic, Reason: reason, Err: err}
}

// checkPayload rejects an oversized, empty or non-object payload.
func checkPayload(source, topic string, payload []byte) error {
	if len(payload) > telemetry.MaxPayload {
		return derr(source, topic, "too_large", fmt.Errorf("%d bytes", len(payload)))
	}
	p := bytes.TrimSpace(payload)
	if len(p) == 0 {
		return derr(source, topic, "empty", nil)
	}
	if p[0] != '{' {
		return derr(source, topic, "bad_json", errors.New("not a JSON object"))
	}
	return nil
}

// nativeCheckpoint returns the checkpoint level of saqshy/<centre>/round/<id>/scan.
func nativeCheckpoint(centre, topic string) (string, error) {
	parts := strings.Split(topic, "/")
	if len(parts) != 5 || parts[0] != "saqshy" || parts[1] != centre || parts[2] != "round" || parts[4] != "scan" || parts[3] == "" {
		return "", derr(srcSaqshy, topic, "bad_topic", errors.New("want saqshy/<centre>/round/<checkpoint>/scan"))
	}
	return parts[3], nil
}

// decodeNative reads Saqshy's own scan: {"tag": "04A1B2C3", "badge": "nurse-aigul",
// "reader": "cp-101-reader", "ts": 1767213000}, every field optional; ts is Unix
// seconds (a number, fractions allowed) or an RFC 3339 string.
func decodeNative(topic string, payload []byte) (rawScan, error) {
	if err := checkPayload(srcSaqshy, topic, payload); err != nil {
		return rawScan{}, err
	}
	var p struct {
		Tag, Badge, Reader *string
		TS                 json.RawMessage `json:"ts"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return rawScan{}, derr(srcSaqshy, topic, "bad_json", err)
	}
	var s rawScan
	for _, f := range []struct {
		name string
		v    *string
		dst  *string
	}{{"tag", p.Tag, &s.Tag}, {"badge", p.Badge, &s.Badge}, {"reader", p.Reader, &s.Reader}} {
		if f.v == nil {
			continue
		}
		v := strings.TrimSpace(*f.v)
		if len(v) > maxField || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return rawScan{}, derr(srcSaqshy, topic, "bad_value", fmt.Errorf("%s: not a short printable string", f.name))
		}
		*f.dst = v
	}
	if s.Tag != "" {
		s.Tag = config.NormalizeUID(s.Tag)
	}
	if len(p.TS) > 0 && string(p.TS) != "null" {
		ts, err := parseTS(p.TS)
		if err != nil {
			return rawScan{}, derr(srcSaqshy, topic, "bad_time", err)
		}
		s.TS = ts
	}
	return s, nil
}

func parseTS(raw json.RawMessage) (time.Time, error) {
	var t time.Time
	if raw[0] == '"' {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return t, err
		}
		var err error
		if t, err = time.Parse(time.RFC3339Nano, str); err != nil {
			return t, fmt.Errorf("ts %q: write Unix seconds or RFC 3339 with an offset", clip(str))
		}
	} else {
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return t, fmt.Errorf("ts: %w", err)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || f < float64(minTS.Unix()) || f >= float64(maxTS.Unix()) {
			return t, fmt.Errorf("ts %s: not Unix seconds between 2000 and 2100", clip(string(raw)))
		}
		sec, frac := math.Modf(f)
		t = time.Unix(int64(sec), int64(frac*1e9))
	}
	if t.Before(minTS) || !t.Before(maxTS) {
		return time.Time{}, fmt.Errorf("ts %s outside 2000..2100", t.Format(time.RFC3339))
	}
	return t.UTC(), nil
}

// pressActions are the Zigbee2MQTT button actions that are a scan ("many" is a
// legacy Xiaomi button's five presses or more); "hold", "release" and the rest
// follow a press and are not another one.
var pressActions = map[string]bool{"single": true, "double": true, "triple": true, "quadruple": true, "many": true, "long": true, "press": true, "on": true, "toggle": true}

// decodeButton reads a Zigbee2MQTT button's message: {"action": "single", ...}
// is a scan; a message without a press action (battery, link quality) is nothing.
// Two-key switches name the key ("single_right", "double_left", "single_both"), and
// legacy Xiaomi buttons of Zigbee2MQTT 1.x send {"click": "single"}: both count.
func decodeButton(topic string, payload []byte) (scan bool, err error) {
	if err := checkPayload(srcZigbee, topic, payload); err != nil {
		return false, err
	}
	var p struct {
		Action json.RawMessage `json:"action"`
		Click  json.RawMessage `json:"click"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return false, derr(srcZigbee, topic, "bad_json", err)
	}
	raw, field := p.Action, "action"
	if len(raw) == 0 || string(raw) == "null" {
		raw, field = p.Click, "click"
	}
	if len(raw) == 0 || string(raw) == "null" {
		return false, nil
	}
	var a string
	if err := json.Unmarshal(raw, &a); err != nil {
		return false, derr(srcZigbee, topic, "bad_value", fmt.Errorf("%s is not a string", field))
	}
	a = strings.ToLower(a)
	if pressActions[a] {
		return true, nil
	}
	press, key, ok := strings.Cut(a, "_")
	return ok && pressActions[press] && (key == "left" || key == "right" || key == "both" || key == "center"), nil
}

// tasmotaUID finds a reader's UID in a SENSOR payload that is not valid JSON.
var tasmotaUID = regexp.MustCompile(`"(PN532|RC522)"\s*:\s*\{\s*"UID"\s*:\s*"([0-9A-Fa-f: ]{4,48})"`)

// decodeTasmota reads a Tasmota RFID/NFC reader's tele/<t>/SENSOR:
// {"Time":"...","PN532":{"UID":"94D8FC5F","DATA":""}} or the same with "RC522".
// A SENSOR message without either (a temperature probe on the same device) is
// nothing: the sensor path reads it. Tasmota's "Time" has no UTC offset, so the
// arrival time dates the scan.
func decodeTasmota(topic string, payload []byte) (uid string, err error) {
	if err := checkPayload(srcTasmota, topic, payload); err != nil {
		return "", err
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(payload, &p); err != nil {
		// A reader's DATA field can hold raw card bytes with escapes JSON does not
		// allow ("\x"); the UID beside it is still good.
		if m := tasmotaUID.FindSubmatch(payload); m != nil {
			if u := config.NormalizeUID(string(m[2])); isHex(u) && len(u) >= 4 && len(u) <= 32 {
				return u, nil
			}
		}
		return "", derr(srcTasmota, topic, "bad_json", err)
	}
	for _, key := range []string{"PN532", "RC522"} {
		raw, ok := p[key]
		if !ok {
			continue
		}
		var r struct {
			UID json.RawMessage `json:"UID"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return "", derr(srcTasmota, topic, "bad_json", fmt.Errorf("%s: %w", key, err))
		}
		var s string
		if err := json.Unmarshal(r.UID, &s); err != nil {
			return "", derr(srcTasmota, topic, "bad_value", fmt.Errorf("%s.UID missing or not a string", key))
		}
		u := config.NormalizeUID(s)
		if !isHex(u) || len(u) < 4 || len(u) > 32 {
			return "", derr(srcTasmota, topic, "bad_value", fmt.Errorf("%s.UID %q is not a hex UID", key, clip(s)))
		}
		return u, nil
	}
	return "", nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
