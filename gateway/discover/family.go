package discover

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/saqshy/saqshy/gateway/decode"
)

// Families name each device family and firmware as docs/DEVICES.md does. The report
// and the comment of each printed config line say which one a sensor is, since one
// format carries several (a Tasmota device relays a Zigbee bridge's devices and BLE
// thermometers, OpenMQTTGateway and Theengs Gateway publish the same messages).
const (
	FamilyZigbee2MQTT = "Zigbee2MQTT"
	FamilyTasmota     = "Tasmota"
	FamilyZbReceived  = "Sonoff Zigbee Bridge (Tasmota ZbReceived)"
	FamilyMI32        = "BLE thermometer through Tasmota MI32 (ESP32)"
	FamilyESPHome     = "ESPHome"
	FamilyShellyGen1  = "Shelly gen1"
	FamilyShellyGen2  = "Shelly gen2+"
	FamilyShellyBLU   = "Shelly BLU (BTHome) through a Shelly gen2+"
	FamilyOMG         = "OpenMQTTGateway"
	FamilyTheengs     = "Theengs Gateway"
	// FamilyBTtoMQTT is a BTtoMQTT topic whose gateway name tells neither.
	FamilyBTtoMQTT   = "OpenMQTTGateway / Theengs Gateway"
	FamilyBTHome     = "BTHome through " // + the gateway's family
	FamilyChirpStack = "LoRaWAN through ChirpStack v4"
	FamilySaqshy     = "Saqshy firmware"
	// FamilyAnnounced follows the family of a device known only from its Home
	// Assistant discovery message.
	FamilyAnnounced = ", announced by Home Assistant discovery, no reading yet"
)

// ownDevice are the families whose every key is a device of its own (a Zigbee
// device of a bridge, a BLE thermometer): each needs its own config line and key,
// even when it is the only one heard.
var ownDevice = map[string]bool{FamilyZbReceived: true, FamilyMI32: true, FamilyShellyBLU: true}

// mi32Name is how Tasmota MI32 names a BLE sensor: its type and the last three
// bytes of its MAC ("LYWSD03-52680f", "MJ_HT_V1-d8799d").
var mi32Name = regexp.MustCompile(`^[A-Za-z0-9_]+-[0-9a-f]{6}$`)

// family names the family of sensor key of a message of format on topic levels.
func family(format string, levels []string, payload []byte, key string) string {
	switch format {
	case Zigbee2MQTT:
		return FamilyZigbee2MQTT
	case Tasmota:
		switch {
		case bytes.Contains(payload, []byte(`"ZbReceived"`)):
			return FamilyZbReceived
		case mi32Name.MatchString(key):
			return FamilyMI32
		}
		return FamilyTasmota
	case ESPHome:
		return FamilyESPHome
	case Shelly:
		switch {
		case decode.IsBTHomeSensor(key):
			return FamilyShellyBLU
		case levels[0] == "shellies":
			return FamilyShellyGen1
		}
		return FamilyShellyGen2
	case BLE:
		gw := bleGateway(levels[len(levels)-3])
		if bthome(payload) {
			return FamilyBTHome + gw
		}
		return gw
	case ChirpStack:
		return FamilyChirpStack
	case Saqshy:
		return FamilySaqshy
	}
	return ""
}

// bleGateway names the gateway from its name in <prefix>/<name>/BTtoMQTT/<MAC>:
// "OpenMQTTGateway" (or an OMG_... build's) and "TheengsGateway" by default.
func bleGateway(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "theengs"):
		return FamilyTheengs
	case strings.Contains(n, "openmqttgateway"), strings.HasPrefix(n, "omg"):
		return FamilyOMG
	}
	return FamilyBTtoMQTT
}

// bthome reports whether the Theengs decoder's message is of a BTHome device: a
// generic BTHome v2 one, or a Shelly BLU device (which advertise BTHome).
func bthome(payload []byte) bool {
	var p struct {
		Brand   string `json:"brand"`
		Model   string `json:"model"`
		ModelID string `json:"model_id"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return false
	}
	return strings.Contains(strings.ToLower(p.Model+" "+p.ModelID), "bthome") || p.Brand == "Shelly"
}

// announcedBase is the device base (Sample.Device) of a state topic a Home
// Assistant discovery message names, for the formats whose devices announce
// themselves that way; "" for others.
func announcedBase(format string, levels []string) string {
	n := len(levels)
	switch format {
	case Zigbee2MQTT, BLE:
		return strings.Join(levels, "/")
	case Tasmota:
		return strings.Join(levels[:n-1], "/")
	case ESPHome:
		return strings.Join(levels[:n-3], "/")
	}
	return ""
}
