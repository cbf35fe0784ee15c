package decode

import (
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// ble decodes BLE thermometers as OpenMQTTGateway and Theengs Gateway publish them:
// both run the Theengs decoder (Xiaomi LYWSD03MMC with stock or ATC/pvvx firmware,
// Govee, Inkbird, SwitchBot, Qingping, Shelly BLU H&T and any BTHome v2 device...).
//
//   - <prefix>/BTtoMQTT/<MAC> (prefix "home/OpenMQTTGateway", "home/TheengsGateway" or
//     the gateway's configured name): a JSON object. Device is the whole topic, Key "".
//     Fields: tempc (°C; tempf converted when there is no tempc), hum (%), batt (%),
//     volt (V, the battery's). Other fields (rssi, brand, model, id, ...) are ignored;
//     a message with none of these (an iBeacon, a tracker) is telemetry.ErrIgnored. A bad field
//     is named and the others kept. No payload time.
//   - <prefix>/BTtoMQTT/undecoded, <prefix>/LWT, <prefix>/SYStoMQTT and any other
//     topic: telemetry.ErrIgnored.
func (d *decoder) ble(topic string, payload []byte, bad *badFields) ([]telemetry.Sample, error) {
	i := strings.LastIndex(topic, "/BTtoMQTT/")
	if i < 0 {
		return nil, telemetry.ErrIgnored
	}
	mac := topic[i+len("/BTtoMQTT/"):]
	if i == 0 || strings.Contains(mac, "/") || mac == "undecoded" {
		return nil, telemetry.ErrIgnored
	}
	if err := checkObject(payload); err != nil {
		return nil, err
	}
	var (
		vs         values
		tempF      float64
		hasF, hasC bool
	)
	err := eachMember(payload, func(key, v []byte) error {
		var err error
		switch string(key) {
		case "tempc":
			x, ok, e := number("tempc", v)
			if ok {
				vs.set(telemetry.Temperature, x)
				hasC = true
			}
			err = e
		case "tempf":
			x, ok, e := number("tempf", v)
			if ok {
				tempF, hasF = x, true
			}
			err = e
		case "hum":
			err = vs.setNumber(telemetry.Humidity, "hum", v, 1)
		case "batt":
			err = vs.setNumber(telemetry.Battery, "batt", v, 1)
		case "volt":
			err = vs.setNumber(telemetry.Voltage, "volt", v, 1)
		}
		return bad.keep(err)
	})
	if err != nil {
		return nil, err
	}
	if hasF && !hasC {
		vs.set(telemetry.Temperature, fahrenheitToCelsius(tempF))
	}
	return one(topic, "", time.Time{}, vs.slice()), nil
}
