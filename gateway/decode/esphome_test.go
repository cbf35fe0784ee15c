package decode

import "testing"

// FORMATS.md §3: ESPHome state topics carry plain number strings.
func esphomeDecodeCases() []decodeCase {
	return []decodeCase{
		{
			name: "formats example", topic: "livingroom/sensor/temperature/state", payload: "21.5",
			want: samples(sample("livingroom", "temperature", noTime, temp(21.5))),
		},
		{
			name: "white space", topic: "livingroom/sensor/temperature/state", payload: " 21.5\r\n",
			want: samples(sample("livingroom", "temperature", noTime, temp(21.5))),
		},
		{
			name: "negative with more digits", topic: "room-101-node/sensor/freezer_temp/state", payload: "-18.25",
			want: samples(sample("room-101-node", "freezer_temp", noTime, temp(-18.25))),
		},
		{
			name: "integer", topic: "room-101-node/sensor/room_temperature/state", payload: "21",
			want: samples(sample("room-101-node", "room_temperature", noTime, temp(21))),
		},
		{
			name: "exponent", topic: "room-101-node/sensor/room_temperature/state", payload: "2.15e1",
			want: samples(sample("room-101-node", "room_temperature", noTime, temp(21.5))),
		},
		{
			name: "humidity", topic: "room-101-node/sensor/humidity/state", payload: "44.7",
			want: samples(sample("room-101-node", "humidity", noTime, hum(44.7))),
		},
		{
			name: "relative humidity mixed case", topic: "room-101-node/sensor/Relative_Humidity/state", payload: "44.7",
			want: samples(sample("room-101-node", "Relative_Humidity", noTime, hum(44.7))),
		},
		{
			name: "battery level", topic: "room-101-node/sensor/battery_level/state", payload: "87",
			want: samples(sample("room-101-node", "battery_level", noTime, batt(87))),
		},
		{
			name: "battery voltage", topic: "room-101-node/sensor/battery_voltage/state", payload: "3.71",
			want: samples(sample("room-101-node", "battery_voltage", noTime, volt(3.71))),
		},
		{
			name: "supply voltage", topic: "room-101-node/sensor/vcc_volts/state", payload: "3.30",
			want: samples(sample("room-101-node", "vcc_volts", noTime, volt(3.3))),
		},
		{
			name: "prefix with slashes", topic: "centre-2/floor-1/room-101-node/sensor/temperature/state", payload: "22.0",
			want: samples(sample("centre-2/floor-1/room-101-node", "temperature", noTime, temp(22))),
		},
		{
			name: "prefix containing sensor", topic: "sensor/sensor/temperature/state", payload: "22.0",
			want: samples(sample("sensor", "temperature", noTime, temp(22))),
		},
		{
			name: "status online", topic: "livingroom/status", payload: "online",
			want: samples(sample("livingroom", "", noTime, up(1))),
		},
		{
			name: "status offline", topic: "centre-2/room-101-node/status", payload: "offline",
			want: samples(sample("centre-2/room-101-node", "", noTime, up(0))),
		},
	}
}

func esphomeRejectCases() []rejectCase {
	const topic = "livingroom/sensor/temperature/state"
	return []rejectCase{
		{"binary sensor", "livingroom/binary_sensor/motion/state", "ON", reasonIgnored},
		{"text sensor", "livingroom/text_sensor/temperature_status/state", "ok", reasonIgnored},
		{"switch", "livingroom/switch/relay/state", "OFF", reasonIgnored},
		{"wifi signal", "livingroom/sensor/wifi_signal/state", "-61", reasonIgnored},
		{"uptime", "livingroom/sensor/uptime/state", "3600", reasonIgnored},
		{"debug", "livingroom/debug", "[D][sensor:094]: 'temperature': Sending state 21.5", reasonIgnored},
		{"command", "livingroom/switch/relay/command", "ON", reasonIgnored},
		{"discovery", "homeassistant/sensor/livingroom/temperature/config", `{"name":"temperature"}`, reasonIgnored},
		{"ignored empty", "livingroom/sensor/wifi_signal/state", "", reasonIgnored},

		{"nan", topic, "nan", reasonNotFinite},
		{"NaN", topic, "NaN", reasonNotFinite},
		{"inf", topic, "inf", reasonNotFinite},
		{"-Infinity", topic, "-Infinity", reasonNotFinite},
		{"overflow", topic, "1e999", reasonNotFinite},

		{"word", topic, "warm", reasonBadValue},
		{"comma decimal", topic, "21,5", reasonBadValue},
		{"hex float", topic, "0x1.5p4", reasonBadValue},
		{"underscore", topic, "2_1", reasonBadValue},
		{"JSON", topic, `{"state":21.5}`, reasonBadValue},
		{"two numbers", topic, "21.5 22", reasonBadValue},
		{"unit", topic, "21.5 °C", reasonBadValue},
		{"status word", "livingroom/status", "rebooting", reasonBadValue},

		{"too hot", topic, "125.5", reasonOutOfRange},
		{"battery over 100", "livingroom/sensor/battery/state", "101", reasonOutOfRange},
		{"humidity negative", "livingroom/sensor/humidity/state", "-0.5", reasonOutOfRange},

		{"empty", topic, "", reasonEmpty},
		{"blank", topic, "  ", reasonEmpty},
		{"empty status", "livingroom/status", "", reasonEmpty},
		{"too large", topic, big(1 << 20), reasonTooLarge},
		{"no prefix", "sensor/temperature/state", "21.5", reasonBadTopic},
		{"state only", "temperature/state", "21.5", reasonBadTopic},
		{"empty level", "livingroom//temperature/state", "21.5", reasonBadTopic},
		{"wildcard", "+/sensor/temperature/state", "21.5", reasonBadTopic},
	}
}

func TestESPHome(t *testing.T) {
	runDecodeCases(t, "esphome", esphomeDecodeCases())
}

func TestESPHomeReject(t *testing.T) {
	runRejectCases(t, "esphome", esphomeRejectCases())
}
