package decode

import (
	"strings"
	"testing"
	"time"
)

// FORMATS.md §4: Shelly gen2 NotifyFullStatus, with the elided battery values and a
// few of the other components a Plus H&T reports filled in.
const (
	shellyFullStatus = `{"src":"shellyplusht-b8d61a8b17cc","dst":"shellyplusht-b8d61a8b17cc/events","method":"NotifyFullStatus","params":{"ts":1680962879.62,"ble":{},"cloud":{"connected":false},"devicepower:0":{"id":0,"battery":{"V":5.91,"percent":97},"external":{"present":true}},"ht_ui":{},"humidity:0":{"id":0,"rh":42.2},"mqtt":{"connected":true},"sys":{"mac":"B8D61A8B17CC","restart_required":false,"time":null,"unixtime":null,"uptime":1,"ram_size":246844,"ram_free":163680,"fs_size":393216,"fs_free":110592,"cfg_rev":12,"kvs_rev":0,"webhook_rev":0,"available_updates":{},"wakeup_reason":{"boot":"deepsleep_wake","cause":"periodic"},"wakeup_period":7200},"temperature:0":{"id":0,"tC":19.8,"tF":67.6},"wifi":{"sta_ip":"192.168.1.64","status":"got ip","ssid":"centre","rssi":-62},"ws":{"connected":false}}}`
	// shellyFormats is FORMATS.md's frame as printed there, placeholders and all.
	shellyFormats      = `{"src":"shellyplusht-b8d61a8b17cc","dst":"shellyplusht-b8d61a8b17cc/events","method":"NotifyFullStatus","params":{"ts":1680962879.62,"temperature:0":{"id":0,"tC":19.8,"tF":67.6},"humidity:0":{"id":0,"rh":42.2},"devicepower:0":{"battery":{"V":..,"percent":..},"external":{"present":true}}}}`
	shellyNotifyStatus = `{"src":"shellyplusht-b8d61a8b17cc","dst":"shellyplusht-b8d61a8b17cc/events","method":"NotifyStatus","params":{"ts":1680962900.01,"temperature:0":{"id":0,"tC":20.1,"tF":68.2}}}`
	shellyNotifyEvent  = `{"src":"shellyplusht-b8d61a8b17cc","dst":"shellyplusht-b8d61a8b17cc/events","method":"NotifyEvent","params":{"ts":1680962879.62,"events":[{"component":"sys","event":"sleep","ts":1680962879.62}]}}`
)

func shellyDecodeCases() []decodeCase {
	const (
		gen1 = "shellies/shellyht-AB12"
		gen2 = "shellyplusht-b8d61a8b17cc"
	)
	ts := time.Unix(1680962879, 620_000_000)
	return []decodeCase{
		{
			name: "gen1 H&T temperature", topic: gen1 + "/sensor/temperature", payload: "21.50",
			want: samples(sample(gen1, "", noTime, temp(21.5))),
		},
		{
			name: "gen1 H&T humidity", topic: gen1 + "/sensor/humidity", payload: "45.5",
			want: samples(sample(gen1, "", noTime, hum(45.5))),
		},
		{
			name: "gen1 H&T battery", topic: gen1 + "/sensor/battery", payload: "88",
			want: samples(sample(gen1, "", noTime, batt(88))),
		},
		{
			name: "gen1 add-on temperature", topic: "shellies/shelly1-34945470D2E1/ext_temperature/0", payload: "19.25",
			want: samples(sample("shellies/shelly1-34945470D2E1", "ext_temperature:0", noTime, temp(19.25))),
		},
		{
			name: "gen1 add-on humidity", topic: "shellies/shelly1-34945470D2E1/ext_humidity/1", payload: "60.1",
			want: samples(sample("shellies/shelly1-34945470D2E1", "ext_humidity:1", noTime, hum(60.1))),
		},
		{
			name: "gen1 online", topic: gen1 + "/online", payload: "true",
			want: samples(sample(gen1, "", noTime, up(1))),
		},
		{
			name: "gen1 offline", topic: gen1 + "/online", payload: "false",
			want: samples(sample(gen1, "", noTime, up(0))),
		},
		{
			name: "gen2 NotifyFullStatus", topic: gen2 + "/events/rpc", payload: shellyFullStatus,
			want: samples(
				// external.present: on USB, so the battery fields mean nothing.
				sample(gen2, "humidity:0", ts, hum(42.2)),
				sample(gen2, "temperature:0", ts, temp(19.8)),
			),
		},
		{
			name: "gen2 NotifyFullStatus of FORMATS.md, placeholders filled", topic: gen2 + "/events/rpc",
			payload: strings.NewReplacer(`"V":..`, `"V":3.1`, `"percent":..`, `"percent":64`).Replace(shellyFormats),
			want: samples(
				sample(gen2, "temperature:0", ts, temp(19.8)),
				sample(gen2, "humidity:0", ts, hum(42.2)),
			),
		},
		{
			name: "gen2 NotifyStatus", topic: gen2 + "/events/rpc", payload: shellyNotifyStatus,
			want: samples(sample(gen2, "temperature:0", time.Unix(1680962900, 10_000_000), temp(20.1))),
		},
		{
			name: "gen2 tF only", topic: gen2 + "/events/rpc",
			payload: `{"method":"NotifyStatus","params":{"ts":1680962900,"temperature:1":{"id":1,"tF":68}}}`,
			want:    samples(sample(gen2, "temperature:1", time.Unix(1680962900, 0), temp(20))),
		},
		{
			name: "gen2 tC null, tF ignored", topic: gen2 + "/events/rpc",
			payload: `{"method":"NotifyStatus","params":{"ts":1680962900,"temperature:0":{"id":0,"tC":null,"tF":null,"errors":["read"]},"humidity:0":{"id":0,"rh":40}}}`,
			want:    samples(sample(gen2, "humidity:0", time.Unix(1680962900, 0), hum(40))),
		},
		{
			name: "gen2 no ts", topic: gen2 + "/events/rpc",
			payload: `{"method":"NotifyStatus","params":{"humidity:0":{"id":0,"rh":40}}}`,
			want:    samples(sample(gen2, "humidity:0", noTime, hum(40))),
		},
		{
			name: "gen2 custom prefix with slashes", topic: "centre-2/room-101/ht/events/rpc", payload: shellyNotifyStatus,
			want: samples(sample("centre-2/room-101/ht", "temperature:0", time.Unix(1680962900, 10_000_000), temp(20.1))),
		},
		{
			name: "gen2 status topic temperature", topic: gen2 + "/status/temperature:0", payload: `{"id":0,"tC":19.8,"tF":67.6}`,
			want: samples(sample(gen2, "temperature:0", noTime, temp(19.8))),
		},
		{
			name: "gen2 status topic humidity", topic: gen2 + "/status/humidity:0", payload: `{"id":0,"rh":42.2}`,
			want: samples(sample(gen2, "humidity:0", noTime, hum(42.2))),
		},
		{
			name: "gen2 status topic devicepower", topic: gen2 + "/status/devicepower:0",
			payload: `{"id":0,"battery":{"V":5.91,"percent":97},"external":{"present":false}}`,
			want:    samples(sample(gen2, "", noTime, batt(97), volt(5.91))),
		},
		{
			name: "gen2 online", topic: gen2 + "/online", payload: "true",
			want: samples(sample(gen2, "", noTime, up(1))),
		},
		{
			name: "gen2 offline", topic: gen2 + "/online", payload: "false",
			want: samples(sample(gen2, "", noTime, up(0))),
		},
	}
}

func shellyRejectCases() []rejectCase {
	const (
		gen1 = "shellies/shellyht-AB12"
		rpc  = "shellyplusht-b8d61a8b17cc/events/rpc"
	)
	return []rejectCase{
		{"NotifyEvent", rpc, shellyNotifyEvent, reasonIgnored},
		{"no method", rpc, `{"params":{"temperature:0":{"tC":20}}}`, reasonIgnored},
		{"other method", rpc, `{"method":"Shelly.GetStatus","params":{"temperature:0":{"tC":20}}}`, reasonIgnored},
		{"nothing read", rpc, `{"method":"NotifyStatus","params":{"ts":1680962900,"sys":{"uptime":5}}}`, reasonIgnored},
		{"no params", rpc, `{"method":"NotifyStatus"}`, reasonIgnored},
		{"null params", rpc, `{"method":"NotifyStatus","params":null}`, reasonIgnored},
		{"component null", rpc, `{"method":"NotifyStatus","params":{"temperature:0":null}}`, reasonIgnored},
		{"component id not a number", rpc, `{"method":"NotifyStatus","params":{"temperature:x":{"tC":20}}}`, reasonIgnored},
		{"status switch", "shellyplus1-a8032ab1c2d3/status/switch:0", `{"id":0,"output":true,"temperature":{"tC":41.2,"tF":106.2}}`, reasonIgnored},
		{"status sys", "shellyplus1-a8032ab1c2d3/status/sys", `{"uptime":5}`, reasonIgnored},
		{"gen1 announce", "shellies/announce", `{"id":"shellyht-AB12"}`, reasonIgnored},
		{"gen1 device announce", gen1 + "/announce", `{"id":"shellyht-AB12"}`, reasonIgnored},
		{"gen1 relay power", "shellies/shelly1-34945470D2E1/relay/0/power", `12.5`, reasonIgnored},
		{"gen1 relay", "shellies/shelly1-34945470D2E1/relay/0", `on`, reasonIgnored},
		{"gen1 sensor error", gen1 + "/sensor/error", `0`, reasonIgnored},
		{"gen1 ext_temperature_f", "shellies/shelly1-34945470D2E1/ext_temperature_f/0", `66.65`, reasonIgnored},
		{"gen1 rpc response", "shellyplusht-b8d61a8b17cc/rpc", `{"id":1}`, reasonIgnored},
		{"unrelated", "foo/bar", `1`, reasonIgnored},

		{"gen1 nan", gen1 + "/sensor/temperature", "nan", reasonNotFinite},
		{"gen1 word", gen1 + "/sensor/temperature", "warm", reasonBadValue},
		{"gen1 too hot", gen1 + "/sensor/temperature", "999", reasonOutOfRange},
		{"gen1 ext index", "shellies/shelly1-34945470D2E1/ext_temperature/x", "19.25", reasonBadTopic},
		{"online word", gen1 + "/online", "yes", reasonBadValue},
		{"online JSON", gen1 + "/online", `{"online":true}`, reasonBadValue},

		{"FORMATS.md placeholders", rpc, shellyFormats, reasonBadJSON},
		{"rpc garbage", rpc, `NotifyStatus`, reasonBadJSON},
		{"rpc truncated", rpc, shellyFullStatus[:200], reasonBadJSON},
		{"rpc array", rpc, `[` + shellyNotifyStatus + `]`, reasonBadJSON},
		{"method number", rpc, `{"method":5}`, reasonBadValue},
		{"params string", rpc, `{"method":"NotifyStatus","params":"x"}`, reasonBadValue},
		{"component string", rpc, `{"method":"NotifyStatus","params":{"temperature:0":"19.8"}}`, reasonBadValue},
		{"rh bool", rpc, `{"method":"NotifyStatus","params":{"humidity:0":{"rh":true}}}`, reasonBadValue},
		{"battery number", rpc, `{"method":"NotifyStatus","params":{"devicepower:0":{"battery":97}}}`, reasonBadValue},
		{"ts bool", rpc, `{"method":"NotifyStatus","params":{"ts":true,"temperature:0":{"tC":20}}}`, reasonBadValue},

		{"tC too hot", rpc, `{"method":"NotifyStatus","params":{"temperature:0":{"tC":130}}}`, reasonOutOfRange},
		{"percent 150", rpc, `{"method":"NotifyStatus","params":{"devicepower:0":{"battery":{"V":5.9,"percent":150}}}}`, reasonOutOfRange},
		{"tC overflow", rpc, `{"method":"NotifyStatus","params":{"temperature:0":{"tC":-1e500}}}`, reasonNotFinite},

		{"ts 2130", rpc, `{"method":"NotifyStatus","params":{"ts":5000000000,"temperature:0":{"tC":20}}}`, reasonBadTime},
		{"ts 2100 exactly", rpc, `{"method":"NotifyStatus","params":{"ts":4102444800,"temperature:0":{"tC":20}}}`, reasonBadTime},
		{"ts before sync", rpc, `{"method":"NotifyStatus","params":{"ts":12.5,"temperature:0":{"tC":20}}}`, reasonBadTime},
		{"ts string", rpc, `{"method":"NotifyStatus","params":{"ts":"now","temperature:0":{"tC":20}}}`, reasonBadTime},

		{"empty rpc", rpc, ``, reasonEmpty},
		{"empty gen1", gen1 + "/sensor/temperature", ``, reasonEmpty},
		{"empty online", gen1 + "/online", ``, reasonEmpty},
		{"empty status", "shellyplusht-b8d61a8b17cc/status/temperature:0", ``, reasonEmpty},
		{"too large", rpc, big(1 << 20), reasonTooLarge},
		{"empty level", "shellies//sensor/temperature", "21.5", reasonBadTopic},
		{"wildcard", "shellies/+/sensor/temperature", "21.5", reasonBadTopic},
	}
}

func TestShelly(t *testing.T) {
	runDecodeCases(t, "shelly", shellyDecodeCases())
}

func TestShellyReject(t *testing.T) {
	runRejectCases(t, "shelly", shellyRejectCases())
}
