package decode

import (
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// FORMATS.md §1: the documented Zigbee2MQTT climate payload.
const z2mTypical = `{"temperature":21.34,"humidity":44.72,"battery":91,"voltage":2985,"linkquality":84,"last_seen":"2019-03-08T19:51:39+03:00"}`

func zigbee2mqttDecodeCases() []decodeCase {
	const dev = "zigbee2mqtt/room-101"
	return []decodeCase{
		{
			name: "formats example", topic: dev, payload: z2mTypical,
			want: samples(sample(dev, "", at("2019-03-08T16:51:39Z"),
				temp(21.34), hum(44.72), batt(91), lqi(84), volt(2.985))),
		},
		{
			name: "last_seen ISO_8601 UTC with ms", topic: dev,
			payload: `{"temperature":19.9,"last_seen":"2019-03-01T15:32:45.941Z"}`,
			want:    samples(sample(dev, "", at("2019-03-01T15:32:45.941Z"), temp(19.9))),
		},
		{
			name: "last_seen ISO_8601_local negative offset", topic: dev,
			payload: `{"temperature":19.9,"last_seen":"2019-03-01T10:32:45-05:00"}`,
			want:    samples(sample(dev, "", at("2019-03-01T15:32:45Z"), temp(19.9))),
		},
		{
			name: "last_seen old offset without colon", topic: dev,
			payload: `{"temperature":19.9,"last_seen":"2019-03-01T16:32:45.941+0100"}`,
			want:    samples(sample(dev, "", at("2019-03-01T15:32:45.941Z"), temp(19.9))),
		},
		{
			name: "last_seen epoch ms", topic: dev,
			payload: `{"humidity":51.2,"last_seen":1552074699123}`,
			want:    samples(sample(dev, "", time.UnixMilli(1552074699123), hum(51.2))),
		},
		{
			name: "last_seen relative is no time", topic: dev,
			payload: `{"humidity":51.2,"last_seen":"5 minutes ago"}`,
			want:    samples(sample(dev, "", noTime, hum(51.2))),
		},
		{
			name: "last_seen null", topic: dev,
			payload: `{"humidity":51.2,"last_seen":null}`,
			want:    samples(sample(dev, "", noTime, hum(51.2))),
		},
		{
			name: "friendly name with slashes", topic: "zigbee2mqtt/floor-1/room-101/climate",
			payload: `{"temperature":22.1,"linkquality":120}`,
			want:    samples(sample("zigbee2mqtt/floor-1/room-101/climate", "", noTime, temp(22.1), lqi(120))),
		},
		{
			name: "custom base topic", topic: "z2m/med-fridge", payload: `{"temperature":4.2}`,
			want: samples(sample("z2m/med-fridge", "", noTime, temp(4.2))),
		},
		{
			name: "freezer below zero", topic: dev, payload: `{"temperature":-18.5,"battery":100}`,
			want: samples(sample(dev, "", noTime, temp(-18.5), batt(100))),
		},
		{
			name: "null values skipped", topic: dev, payload: `{"temperature":null,"humidity":40,"battery":null}`,
			want: samples(sample(dev, "", noTime, hum(40))),
		},
		{
			name: "unknown fields ignored", topic: dev,
			payload: `{"temperature":20,"state":"ON","update":{"state":"idle","installed_version":1},"illuminance":12,"temperature_calibration":[1,2],"power_source":"Battery"}`,
			want:    samples(sample(dev, "", noTime, temp(20))),
		},
		{
			name: "repeated key: last wins", topic: dev, payload: `{"temperature":20,"temperature":21}`,
			want: samples(sample(dev, "", noTime, temp(21))),
		},
		{
			name: "escaped key", topic: dev, payload: `{"temp\u0065rature":20}`,
			want: samples(sample(dev, "", noTime, temp(20))),
		},
		{
			name: "white space around", topic: dev, payload: " \n{ \"temperature\" : 20 ,\t\"humidity\":30 }\n",
			want: samples(sample(dev, "", noTime, temp(20), hum(30))),
		},
		{
			name: "availability 1.x online", topic: dev + "/availability", payload: "online",
			want: samples(sample(dev, "", noTime, up(1))),
		},
		{
			name: "availability 1.x offline", topic: dev + "/availability", payload: "offline",
			want: samples(sample(dev, "", noTime, up(0))),
		},
		{
			name: "availability 2.x online", topic: dev + "/availability", payload: `{"state":"online"}`,
			want: samples(sample(dev, "", noTime, up(1))),
		},
		{
			name: "availability 2.x offline", topic: dev + "/availability", payload: `{"state":"offline"}`,
			want: samples(sample(dev, "", noTime, up(0))),
		},
		{
			name: "availability of a name with slashes", topic: "zigbee2mqtt/floor-1/room-101/availability",
			payload: `{"state":"online"}`,
			want:    samples(sample("zigbee2mqtt/floor-1/room-101", "", noTime, up(1))),
		},
		{
			name: "device named availability", topic: "zigbee2mqtt/availability", payload: `{"temperature":20}`,
			want: samples(sample("zigbee2mqtt/availability", "", noTime, temp(20))),
		},
	}
}

func zigbee2mqttRejectCases() []rejectCase {
	const dev = "zigbee2mqtt/room-101"
	return []rejectCase{
		{"bridge state", "zigbee2mqtt/bridge/state", `{"state":"online"}`, reasonIgnored},
		{"bridge devices", "zigbee2mqtt/bridge/devices", `[{"ieee_address":"0x00158d0001"}]`, reasonIgnored},
		{"bridge health", "zigbee2mqtt/bridge/response/health_check", `{"data":{"healthy":true},"status":"ok"}`, reasonIgnored},
		{"bridge empty", "zigbee2mqtt/bridge/state", ``, reasonIgnored},
		{"set command", dev + "/set", `{"temperature":1}`, reasonIgnored},
		{"set attribute", dev + "/set/state", `ON`, reasonIgnored},
		{"get command", dev + "/get", `{"state":""}`, reasonIgnored},
		{"no known field", dev, `{"state":"ON","brightness":254}`, reasonIgnored},
		{"empty object", dev, `{}`, reasonIgnored},
		{"only last_seen", dev, `{"last_seen":"2019-03-08T19:51:39+03:00"}`, reasonIgnored},
		{"only nulls", dev, `{"temperature":null}`, reasonIgnored},

		{"garbage", dev, `hello`, reasonBadJSON},
		{"truncated", dev, `{"temperature":21.3`, reasonBadJSON},
		{"trailing garbage", dev, `{"temperature":21.3}x`, reasonBadJSON},
		{"array", dev, `[1,2]`, reasonBadJSON},
		{"number", dev, `21.3`, reasonBadJSON},
		{"null", dev, `null`, reasonBadJSON},
		{"binary", dev, "\x00\x01\xff", reasonBadJSON},

		{"battery bool", dev, `{"battery":true}`, reasonBadValue},
		{"humidity object", dev, `{"humidity":{}}`, reasonBadValue},
		{"voltage array", dev, `{"voltage":[2985]}`, reasonBadValue},
		{"last_seen bool", dev, `{"temperature":1,"last_seen":true}`, reasonBadValue},

		{"overflow is infinite", dev, `{"temperature":1e999}`, reasonNotFinite},
		{"negative overflow", dev, `{"humidity":-1e400}`, reasonNotFinite},

		{"too hot", dev, `{"temperature":130}`, reasonOutOfRange},
		{"too cold", dev, `{"temperature":-61}`, reasonOutOfRange},
		{"humidity over 100", dev, `{"humidity":100.5}`, reasonOutOfRange},
		{"negative battery", dev, `{"temperature":20,"battery":-1}`, reasonOutOfRange},
		{"battery 200", dev, `{"battery":200}`, reasonOutOfRange},
		{"lqi over 255", dev, `{"linkquality":300}`, reasonOutOfRange},
		{"voltage absurd", dev, `{"voltage":500000}`, reasonOutOfRange},

		{"last_seen 2130", dev, `{"temperature":20,"last_seen":"2130-01-01T00:00:00Z"}`, reasonBadTime},
		{"last_seen 1999", dev, `{"temperature":20,"last_seen":"1999-12-31T23:59:59Z"}`, reasonBadTime},
		{"last_seen epoch 2130", dev, `{"temperature":20,"last_seen":5000000000000}`, reasonBadTime},
		{"last_seen epoch seconds", dev, `{"temperature":20,"last_seen":1552074699}`, reasonBadTime},
		{"last_seen negative", dev, `{"temperature":20,"last_seen":-1}`, reasonBadTime},
		{"last_seen no offset", dev, `{"temperature":20,"last_seen":"2019-03-08T19:51:39"}`, reasonBadTime},
		{"last_seen garbage", dev, `{"temperature":20,"last_seen":"yesterday"}`, reasonBadTime},
		{"last_seen bad offset", dev, `{"temperature":20,"last_seen":"2019-03-08T19:51:39+25:00"}`, reasonBadTime},
		{"last_seen date only", dev, `{"temperature":20,"last_seen":"2019-03-08"}`, reasonBadTime},

		{"empty", dev, ``, reasonEmpty},
		{"blank", dev, " \n\t", reasonEmpty},
		{"empty availability", dev + "/availability", ``, reasonEmpty},
		{"too large", dev, big(1 << 20), reasonTooLarge},
		{"just too large", dev, big(telemetry.MaxPayload), reasonTooLarge},

		{"base only", "zigbee2mqtt", z2mTypical, reasonBadTopic},
		{"empty topic", "", z2mTypical, reasonBadTopic},
		{"empty level", "zigbee2mqtt//room-101", z2mTypical, reasonBadTopic},
		{"trailing slash", "zigbee2mqtt/room-101/", z2mTypical, reasonBadTopic},
		{"leading slash", "/zigbee2mqtt/room-101", z2mTypical, reasonBadTopic},
		{"wildcard", "zigbee2mqtt/+", z2mTypical, reasonBadTopic},
		{"multi-level wildcard", "zigbee2mqtt/#", z2mTypical, reasonBadTopic},
		{"control character", "zigbee2mqtt/room\n101", z2mTypical, reasonBadTopic},
		{"invalid UTF-8", "zigbee2mqtt/room\xff", z2mTypical, reasonBadTopic},

		{"availability word", dev + "/availability", `maybe`, reasonBadValue},
		{"availability state number", dev + "/availability", `{"state":1}`, reasonBadValue},
		{"availability state unknown", dev + "/availability", `{"state":"unknown"}`, reasonBadValue},
		{"availability without state", dev + "/availability", `{"online":true}`, reasonBadValue},
		{"availability truncated", dev + "/availability", `{"state":"onl`, reasonBadJSON},
	}
}

func TestZigbee2MQTT(t *testing.T) {
	runDecodeCases(t, "zigbee2mqtt", zigbee2mqttDecodeCases())
}

func TestZigbee2MQTTReject(t *testing.T) {
	runRejectCases(t, "zigbee2mqtt", zigbee2mqttRejectCases())
}
