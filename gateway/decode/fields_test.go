package decode

import (
	"strings"
	"testing"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// partialCase is a message with good and bad fields: the good values must come back
// together with a *telemetry.Partial naming each bad field by reason, in payload order.
type partialCase struct {
	name, source, topic, payload string
	want                         []telemetry.Sample
	bad                          []string // reasons of Partial.Bad
	timeBad                      bool
}

func TestOneBadFieldKeepsTheOthers(t *testing.T) {
	z2m := "zigbee2mqtt/room-101"
	tests := []partialCase{
		{
			name: "z2m string battery beside good climate", source: "zigbee2mqtt", topic: z2m,
			payload: `{"temperature":21.3,"humidity":44.7,"battery":"low"}`,
			want:    samples(sample(z2m, "", noTime, temp(21.3), hum(44.7))),
			bad:     []string{reasonBadValue},
		},
		{
			name: "z2m unreadable last_seen: no time, flagged", source: "zigbee2mqtt", topic: z2m,
			payload: `{"temperature":21.3,"last_seen":"yesterday"}`,
			want:    samples(sample(z2m, "", noTime, temp(21.3))),
			bad:     []string{reasonBadTime}, timeBad: true,
		},
		{
			name: "z2m battery 150 and humidity nan string", source: "zigbee2mqtt", topic: z2m,
			payload: `{"temperature":21.3,"humidity":"nan","battery":150}`,
			want:    samples(sample(z2m, "", noTime, temp(21.3))),
			bad:     []string{reasonNotFinite, reasonOutOfRange},
		},
		{
			name: "tasmota DS18B20 power-on 85 beside a good probe", source: "tasmota", topic: "tele/fridge-1/SENSOR",
			payload: `{"Time":"2020-01-26T17:45:30","DS18B20-1":{"Id":"000008BD38BF","Temperature":85.0},"DS18B20-2":{"Id":"000008BD9714","Temperature":4.1},"TempUnit":"C"}`,
			want:    samples(sample("tele/fridge-1", "000008BD9714", at("2020-01-26T12:45:30Z"), temp(4.1))),
			bad:     []string{reasonOutOfRange},
		},
		{
			name: "tasmota unreadable Time keeps readings", source: "tasmota", topic: "tele/fridge-1/SENSOR",
			payload: `{"Time":"26/01/2020 17:45","AM2301":{"Temperature":21.7,"Humidity":75.8}}`,
			want:    samples(sample("tele/fridge-1", "AM2301", noTime, temp(21.7), hum(75.8))),
			bad:     []string{reasonBadTime}, timeBad: true,
		},
		{
			name: "tasmota string humidity of one sensor", source: "tasmota", topic: "tele/fridge-1/SENSOR",
			payload: `{"SI7021":{"Temperature":20.6,"Humidity":"n/a"}}`,
			want:    samples(sample("tele/fridge-1", "SI7021", noTime, temp(20.6))),
			bad:     []string{reasonBadValue},
		},
		{
			name: "saqshy DS18B20 85 °C beside a good battery", source: "saqshy", topic: "saqshy/c1/sensor/boiler/state",
			payload: `{"temperature_c":85.0,"battery_pct":93}`,
			want:    samples(sample("saqshy/c1/sensor/boiler", "", noTime, batt(93))),
			bad:     []string{reasonOutOfRange},
		},
		{
			name: "saqshy ts in 2130 falls back", source: "saqshy", topic: "saqshy/c1/sensor/room/state",
			payload: `{"temperature_c":21.5,"ts":5000000000}`,
			want:    samples(sample("saqshy/c1/sensor/room", "", noTime, temp(21.5))),
			bad:     []string{reasonBadTime}, timeBad: true,
		},
		{
			name: "shelly bad tC of one component", source: "shelly", topic: "shellyplusht-1/events/rpc",
			payload: `{"method":"NotifyStatus","params":{"ts":1680962879.62,"temperature:0":{"tC":true},"humidity:0":{"rh":42.2}}}`,
			want:    samples(sample("shellyplusht-1", "humidity:0", at("2023-04-08T14:07:59.62Z"), hum(42.2))),
			bad:     []string{reasonBadValue},
		},
		{
			name: "ble string battery", source: "ble", topic: "home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11",
			payload: `{"id":"A4:C1:38:5F:2B:11","tempc":21.1,"hum":48,"batt":"?"}`,
			want:    samples(sample("home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11", "", noTime, temp(21.1), hum(48))),
			bad:     []string{reasonBadValue},
		},
		{
			name: "chirpstack probe sentinel beside good SHT", source: "chirpstack", topic: "application/1/device/a840415711866a85/event/up",
			payload: `{"time":"not a time","object":{"TempC_SHT":26.6,"Hum_SHT":"x"}}`,
			want:    samples(sample("application/1/device/a840415711866a85", "", noTime, temp(26.6))),
			bad:     []string{reasonBadTime, reasonBadValue}, timeBad: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := mustNew(t, tt.source)
			got, err := dec(tt.topic, []byte(tt.payload))
			p := telemetry.AsPartial(err)
			if p == nil {
				t.Fatalf("decode = %v, %v; want samples and a *telemetry.Partial", got, err)
			}
			if diff := diffSamples(got, tt.want); diff != "" {
				t.Error(diff)
			}
			var reasons []string
			for _, b := range p.Bad {
				reasons = append(reasons, b.Reason)
			}
			if strings.Join(reasons, ",") != strings.Join(tt.bad, ",") {
				t.Errorf("bad fields %v (%v), want %v", reasons, err, tt.bad)
			}
			if p.TimeBad() != tt.timeBad {
				t.Errorf("TimeBad() = %t, want %t", p.TimeBad(), tt.timeBad)
			}
			if telemetry.Reason(err) != "partial" {
				t.Errorf("Reason = %q, want partial", telemetry.Reason(err))
			}
			checkInvariants(t, tt.source, tt.topic, []byte(tt.payload), got, err)
		})
	}
}

// TestWrongValues: values that decoded before but meant something else.
func TestWrongValues(t *testing.T) {
	tests := []struct {
		name, source, topic, payload string
		want                         []telemetry.Sample
		reason                       string // for an error
	}{
		{name: "z2m plug voltage is volts, not mV", source: "zigbee2mqtt", topic: "zigbee2mqtt/plug",
			payload: `{"voltage":231,"power":12,"state":"ON","linkquality":90}`,
			want:    samples(sample("zigbee2mqtt/plug", "", noTime, lqi(90), volt(231)))},
		{name: "z2m battery millivolts", source: "zigbee2mqtt", topic: "zigbee2mqtt/sensor",
			payload: `{"voltage":2985}`, want: samples(sample("zigbee2mqtt/sensor", "", noTime, volt(2.985)))},
		{name: "z2m switch chip temperature is not the room's", source: "zigbee2mqtt", topic: "zigbee2mqtt/switch",
			payload: `{"temperature":41,"power":3.2,"state":"OFF"}`, reason: reasonIgnored},
		{name: "z2m TRV local_temperature", source: "zigbee2mqtt", topic: "zigbee2mqtt/trv",
			payload: `{"local_temperature":19.5,"occupied_heating_setpoint":21}`,
			want:    samples(sample("zigbee2mqtt/trv", "", noTime, temp(19.5)))},
		{name: "z2m temperature wins over local_temperature", source: "zigbee2mqtt", topic: "zigbee2mqtt/trv",
			payload: `{"local_temperature":19.5,"temperature":20.1}`,
			want:    samples(sample("zigbee2mqtt/trv", "", noTime, temp(20.1)))},
		{name: "z2m numbers as strings", source: "zigbee2mqtt", topic: "zigbee2mqtt/old",
			payload: `{"temperature":"21.30","humidity":"44"}`,
			want:    samples(sample("zigbee2mqtt/old", "", noTime, temp(21.3), hum(44)))},
		{name: "z2m attribute output temperature", source: "zigbee2mqtt", topic: "zigbee2mqtt/room-101/temperature",
			payload: `21.5`, want: samples(sample("zigbee2mqtt/room-101", "", noTime, temp(21.5)))},
		{name: "z2m attribute_and_json quoted number", source: "zigbee2mqtt", topic: "zigbee2mqtt/room-101/humidity",
			payload: `"44.2"`, want: samples(sample("zigbee2mqtt/room-101", "", noTime, hum(44.2)))},
		{name: "z2m attribute voltage in mV", source: "zigbee2mqtt", topic: "zigbee2mqtt/room-101/voltage",
			payload: `3005`, want: samples(sample("zigbee2mqtt/room-101", "", noTime, volt(3.005)))},
		{name: "esphome temperature in °F", source: "esphome", topic: "node/sensor/temperature_f/state",
			payload: `68`, want: samples(sample("node", "temperature_f", noTime, temp(20)))},
		{name: "esphome temperature_difference is not a temperature", source: "esphome",
			topic: "node/sensor/temperature_difference/state", payload: `1.5`, reason: reasonIgnored},
		{name: "esphome internal temperature of the chip", source: "esphome",
			topic: "node/sensor/internal_temperature/state", payload: `48.1`, reason: reasonIgnored},
		{name: "esphome esp temperature", source: "esphome",
			topic: "node/sensor/esp_temperature/state", payload: `48.1`, reason: reasonIgnored},
		{name: "esphome words run together still read", source: "esphome",
			topic: "node/sensor/bme280temperature/state", payload: `21`,
			want: samples(sample("node", "bme280temperature", noTime, temp(21)))},
		{name: "esphome battery voltage", source: "esphome", topic: "node/sensor/battery_voltage/state",
			payload: `3.01`, want: samples(sample("node", "battery_voltage", noTime, volt(3.01)))},
		{name: "shelly gen1 H&T on USB reports battery 0", source: "shelly",
			topic: "shellies/shellyht-AB12CD/sensor/battery", payload: `0`, reason: reasonIgnored},
		{name: "tasmota ESP32 chip temperature", source: "tasmota", topic: "tele/x/SENSOR",
			payload: `{"ESP32":{"Temperature":41.7},"TempUnit":"C"}`, reason: reasonIgnored},
		{name: "tasmota before 5.12 time format, nested DS18x20", source: "tasmota", topic: "tele/x/SENSOR",
			payload: `{"Time":"2018.02.01 21:29:40","DS18x20":{"DS1":{"Type":"DS18B20","Address":"28FF5E8C61160410","Temperature":21.0}},"TempUnit":"C"}`,
			want:    samples(sample("tele/x", "28FF5E8C61160410", at("2018-02-01T16:29:40Z"), temp(21)))},
		{name: "tasmota before 5.12 time with an AM2301", source: "tasmota", topic: "tele/x/SENSOR",
			payload: `{"Time":"2018.02.01 21:29:40","AM2301":{"Temperature":21.7,"Humidity":40}}`,
			want:    samples(sample("tele/x", "AM2301", at("2018-02-01T16:29:40Z"), temp(21.7), hum(40)))},
		{name: "tasmota DS18Alias name keyed by Id", source: "tasmota", topic: "tele/x/SENSOR",
			payload: `{"Outdoor":{"Id":"113C01F096174528","Temperature":-3.5},"DS18Sens-2":{"Id":"783C01F096F2BB28","Temperature":4.4}}`,
			want: samples(sample("tele/x", "113C01F096174528", noTime, temp(-3.5)),
				sample("tele/x", "783C01F096F2BB28", noTime, temp(4.4)))},
		{name: "tasmota aliased DS18 probe reading 85 is its power-on value", source: "tasmota", topic: "tele/x/SENSOR",
			payload: `{"Outdoor":{"Id":"113C01F096174528","Temperature":85}}`, reason: reasonOutOfRange},
		{name: "chirpstack status on external power", source: "chirpstack",
			topic: "application/1/device/0101/event/status", payload: `{"batteryLevel":0,"externalPowerSource":true}`,
			reason: reasonIgnored},
		{name: "ble tempf only", source: "ble", topic: "home/OMG/BTtoMQTT/AABBCCDDEEFF",
			payload: `{"tempf":68}`, want: samples(sample("home/OMG/BTtoMQTT/AABBCCDDEEFF", "", noTime, temp(20)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := mustNew(t, tt.source)
			got, err := dec(tt.topic, []byte(tt.payload))
			checkInvariants(t, tt.source, tt.topic, []byte(tt.payload), got, err)
			if tt.reason != "" {
				if telemetry.Reason(err) != tt.reason {
					t.Fatalf("decode = %v, %v; want reason %s", got, err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if diff := diffSamples(got, tt.want); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestNewSourcesReject(t *testing.T) {
	runRejectCases(t, "ble", []rejectCase{
		{"not json", "home/OMG/BTtoMQTT/AABBCCDDEEFF", `tempc=21`, reasonBadJSON},
		{"empty", "home/OMG/BTtoMQTT/AABBCCDDEEFF", ` `, reasonEmpty},
		{"array", "home/OMG/BTtoMQTT/AABBCCDDEEFF", `[21]`, reasonBadJSON},
		{"only a bad field", "home/OMG/BTtoMQTT/AABBCCDDEEFF", `{"tempc":"warm"}`, reasonBadValue},
		{"absurd temperature", "home/OMG/BTtoMQTT/AABBCCDDEEFF", `{"tempc":300}`, reasonOutOfRange},
		{"undecoded", "home/OMG/BTtoMQTT/undecoded", `{"id":"x"}`, reasonIgnored},
		{"gateway LWT", "home/OMG/LWT", `offline`, reasonIgnored},
		{"wildcard", "home/+/BTtoMQTT/AABBCCDDEEFF", `{}`, reasonBadTopic},
	})
	up := "application/1/device/a840415711866a85/event/up"
	runRejectCases(t, "chirpstack", []rejectCase{
		{"not application", "app/1/device/x/event/up", `{}`, reasonBadTopic},
		{"no device level", "application/1/dev/x/event/up", `{}`, reasonBadTopic},
		{"join", "application/1/device/x/event/join", `{}`, reasonIgnored},
		{"command", "application/1/device/x/command/down", `{}`, reasonIgnored},
		{"no object", up, `{"time":"2024-02-29T16:01:18Z"}`, reasonIgnored},
		{"object a string", up, `{"object":"x"}`, reasonBadValue},
		{"bad json", up, `{"object":{`, reasonBadJSON},
		{"only absurd", up, `{"object":{"temperature":327.67}}`, reasonOutOfRange},
	})
}

func TestParseDiscovery(t *testing.T) {
	d, err := ParseDiscovery("homeassistant/sensor/node/temp/config",
		[]byte(`{"~":"living/sensor/temperature","stat_t":"~/state","unit_of_meas":"°F","dev_cla":"temperature","val_tpl":"{{ value_json.tempc | is_defined }}","dev":{"mdl":"NodeMCU","mf":"espressif","sw":"2024.5.0"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.StateTopic != "living/sensor/temperature/state" || d.Unit != "°F" || d.Celsius() || d.DeviceClass != "temperature" ||
		d.Field() != "tempc" || d.Model != "NodeMCU" || d.Software != "2024.5.0" || d.NodeID != "node" || d.ObjectID != "temp" {
		t.Errorf("ParseDiscovery = %+v", d)
	}
	for _, tt := range []struct{ name, topic, payload, reason string }{
		{"removed", "homeassistant/sensor/x/config", ``, reasonEmpty},
		{"not config", "homeassistant/sensor/x/state", `{}`, reasonBadTopic},
		{"too short", "homeassistant/config", `{}`, reasonBadTopic},
		{"not json", "homeassistant/sensor/x/config", `{`, reasonBadJSON},
		{"unit a number", "homeassistant/sensor/x/config", `{"state_topic":"a","unit_of_measurement":5}`, reasonBadValue},
		{"no state topic", "homeassistant/sensor/x/config", `{"name":"x"}`, reasonBadValue},
	} {
		if _, err := ParseDiscovery(tt.topic, []byte(tt.payload)); telemetry.Reason(err) != tt.reason {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.reason)
		}
	}
}
