package rounds

import "testing"

// TestButtonActionsOfTwoKeyAndLegacyButtons: two-key switches and Zigbee2MQTT 1.x
// Xiaomi buttons press with other words than "single".
func TestButtonActionsOfTwoKeyAndLegacyButtons(t *testing.T) {
	for _, tt := range []struct {
		payload string
		scan    bool
	}{
		{`{"action":"single_right","battery":100,"linkquality":87}`, true},
		{`{"action":"single_left"}`, true},
		{`{"action":"double_both"}`, true},
		{`{"action":"hold_right"}`, false},
		{`{"action":"release_left"}`, false},
		{`{"action":"single_bogus"}`, false},
		{`{"click":"single","battery":100,"voltage":3035,"linkquality":47}`, true},
		{`{"click":"long_release"}`, false},
		{`{"action":"","click":"double"}`, false},
	} {
		scan, err := decodeButton("zigbee2mqtt/cp-1", []byte(tt.payload))
		if err != nil || scan != tt.scan {
			t.Errorf("decodeButton(%s) = %t, %v; want %t", tt.payload, scan, err, tt.scan)
		}
	}
}

// TestRFIDScanWithBadEscapesInData: raw card bytes in DATA make the payload invalid
// JSON; the UID beside them is still read.
func TestRFIDScanWithBadEscapesInData(t *testing.T) {
	uid, err := decodeTasmota("tele/reader/SENSOR", []byte(`{"Time":"2026-01-01T10:00:00","PN532":{"UID":"94D8FC5F","DATA":"\x01\x02"}}`))
	if err != nil || uid != "94D8FC5F" {
		t.Errorf("uid %q, err %v; want 94D8FC5F", uid, err)
	}
	if _, err := decodeTasmota("tele/reader/SENSOR", []byte(`{"PN532":{"DATA":"\x01"}}`)); err == nil {
		t.Error("a payload with neither valid JSON nor a UID was accepted")
	}
}
