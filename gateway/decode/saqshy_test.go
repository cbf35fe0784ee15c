package decode

import (
	"testing"
	"time"
)

const saqshyState = `{"temperature_c":21.5,"humidity_pct":40,"battery_pct":90,"voltage_v":3.0,"link_quality":200,"ts":"2025-01-02T03:04:05.678+05:00"}`

func saqshyDecodeCases() []decodeCase {
	const (
		dev   = "saqshy/shymkent-csu-2/sensor/room-101"
		state = dev + "/state"
	)
	return []decodeCase{
		{
			name: "all fields, RFC 3339 ts", topic: state, payload: saqshyState,
			want: samples(sample(dev, "", at("2025-01-01T22:04:05.678Z"),
				temp(21.5), hum(40), batt(90), lqi(200), volt(3))),
		},
		{
			name: "ts UTC", topic: state, payload: `{"temperature_c":4.5,"ts":"2025-01-01T22:04:05Z"}`,
			want: samples(sample(dev, "", at("2025-01-01T22:04:05Z"), temp(4.5))),
		},
		{
			name: "ts epoch seconds", topic: state, payload: `{"temperature_c":4.5,"ts":1735769045}`,
			want: samples(sample(dev, "", time.Unix(1735769045, 0), temp(4.5))),
		},
		{
			name: "ts epoch seconds with fraction", topic: state, payload: `{"temperature_c":4.5,"ts":1735769045.678}`,
			want: samples(sample(dev, "", time.Unix(1735769045, 678_000_000), temp(4.5))),
		},
		{
			name: "ts epoch ms", topic: state, payload: `{"temperature_c":4.5,"ts":1735769045678}`,
			want: samples(sample(dev, "", time.UnixMilli(1735769045678), temp(4.5))),
		},
		{
			name: "no ts", topic: state, payload: `{"humidity_pct":40.5}`,
			want: samples(sample(dev, "", noTime, hum(40.5))),
		},
		{
			name: "unknown fields and nulls", topic: state,
			payload: `{"temperature_c":21.5,"humidity_pct":null,"firmware":"1.2.3","rssi":-60,"extra":{"a":[1]}}`,
			want:    samples(sample(dev, "", noTime, temp(21.5))),
		},
		{
			name: "status online", topic: dev + "/status", payload: "online",
			want: samples(sample(dev, "", noTime, up(1))),
		},
		{
			name: "status offline", topic: dev + "/status", payload: "offline",
			want: samples(sample(dev, "", noTime, up(0))),
		},
	}
}

func saqshyRejectCases() []rejectCase {
	const state = "saqshy/shymkent-csu-2/sensor/room-101/state"
	return []rejectCase{
		{"camera health", "saqshy/shymkent-csu-2/camera/cam-01/health", `{"online":true}`, reasonIgnored},
		{"round scan", "saqshy/shymkent-csu-2/round/cp-101/scan", `{"tag":"04A22B1C"}`, reasonIgnored},
		{"gateway status", "saqshy/shymkent-csu-2/gateway/status", `online`, reasonIgnored},
		{"score", "saqshy/shymkent-csu-2/score", `{"total":93}`, reasonIgnored},
		{"alert", "saqshy/shymkent-csu-2/alert/a1", ``, reasonIgnored},
		{"other sensor leaf", "saqshy/shymkent-csu-2/sensor/room-101/config", `{}`, reasonIgnored},
		{"nothing known", state, `{"firmware":"1.2.3"}`, reasonIgnored},

		{"not saqshy", "other/shymkent-csu-2/sensor/room-101/state", saqshyState, reasonBadTopic},
		{"root only", "saqshy", saqshyState, reasonBadTopic},
		{"centre only", "saqshy/shymkent-csu-2", saqshyState, reasonBadTopic},
		{"sensor without leaf", "saqshy/shymkent-csu-2/sensor/state", saqshyState, reasonBadTopic},
		{"sensor too deep", "saqshy/shymkent-csu-2/sensor/room-101/x/state", saqshyState, reasonBadTopic},
		{"empty level", "saqshy//sensor/room-101/state", saqshyState, reasonBadTopic},

		{"garbage", state, `21.5`, reasonBadJSON},
		{"truncated", state, saqshyState[:40], reasonBadJSON},
		{"battery bool", state, `{"battery_pct":false}`, reasonBadValue},
		{"ts bool", state, `{"temperature_c":21.5,"ts":true}`, reasonBadValue},
		{"status word", "saqshy/shymkent-csu-2/sensor/room-101/status", `up`, reasonBadValue},

		{"ts without offset", state, `{"temperature_c":21.5,"ts":"2025-01-02T03:04:05"}`, reasonBadTime},
		{"ts 2130", state, `{"temperature_c":21.5,"ts":"2130-01-02T03:04:05Z"}`, reasonBadTime},
		{"ts epoch 2130", state, `{"temperature_c":21.5,"ts":5000000000}`, reasonBadTime},
		{"ts epoch ms 1973", state, `{"temperature_c":21.5,"ts":100000000000}`, reasonBadTime},
		{"ts negative", state, `{"temperature_c":21.5,"ts":-5}`, reasonBadTime},
		{"ts uptime", state, `{"temperature_c":21.5,"ts":42}`, reasonBadTime},

		{"too hot", state, `{"temperature_c":200}`, reasonOutOfRange},
		{"voltage negative", state, `{"voltage_v":-3}`, reasonOutOfRange},
		{"overflow", state, `{"temperature_c":1e309}`, reasonNotFinite},

		{"empty", state, ``, reasonEmpty},
		{"empty status", "saqshy/shymkent-csu-2/sensor/room-101/status", ``, reasonEmpty},
		{"too large", state, big(1 << 20), reasonTooLarge},
	}
}

func TestSaqshy(t *testing.T) {
	runDecodeCases(t, "saqshy", saqshyDecodeCases())
}

func TestSaqshyReject(t *testing.T) {
	runRejectCases(t, "saqshy", saqshyRejectCases())
}
