package decode

import (
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin without system tzdata
)

// FORMATS.md §2: Tasmota SENSOR payloads. Ellipses in the doc are filled in.
const (
	tasmotaSingleDS = `{"Time":"2019-01-01T00:00:00","DS18B20":{"Temperature":21.9},"TempUnit":"C"}`
	tasmotaMultiDS  = `{"Time":"2020-01-26T17:45:30","DS18B20-1":{"Id":"000008BD38BF","Temperature":26.1},"DS18B20-2":{"Id":"000008BD9714","Temperature":25.1},"TempUnit":"C"}`
	tasmotaAM2301   = `{"Time":"2022-10-20T10:29:14","AM2301":{"Temperature":21.7,"Humidity":75.8,"DewPoint":17.2},"TempUnit":"C"}`
	tasmotaMixed    = `{"Time":"2020-02-08T17:17:11","DS18B20-1":{"Id":"000008BD38BF","Temperature":4.5},"SI7021":{"Temperature":20.6,"Humidity":31.9},"TempUnit":"C"}`
)

// local returns the centre's wall-clock time as an instant.
func local(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, centre)
	if err != nil {
		panic(err)
	}
	return t
}

func tasmotaDecodeCases() []decodeCase {
	const (
		topic = "tele/fridge-1/SENSOR"
		dev   = "tele/fridge-1"
	)
	return []decodeCase{
		{
			name: "single DS18B20", topic: topic, payload: tasmotaSingleDS,
			want: samples(sample(dev, "DS18B20", local("2019-01-01T00:00:00"), temp(21.9))),
		},
		{
			name: "several DS18B20 keyed by Id", topic: topic, payload: tasmotaMultiDS,
			want: samples(
				sample(dev, "000008BD38BF", local("2020-01-26T17:45:30"), temp(26.1)),
				sample(dev, "000008BD9714", local("2020-01-26T17:45:30"), temp(25.1)),
			),
		},
		{
			name: "DS18B20 renumbered keeps its Id", topic: topic,
			payload: `{"Time":"2020-01-26T17:50:30","DS18B20-1":{"Id":"000008BD9714","Temperature":25.2},"DS18B20-2":{"Id":"000008BD38BF","Temperature":26.0},"TempUnit":"C"}`,
			want: samples(
				sample(dev, "000008BD9714", local("2020-01-26T17:50:30"), temp(25.2)),
				sample(dev, "000008BD38BF", local("2020-01-26T17:50:30"), temp(26.0)),
			),
		},
		{
			name: "single DS18B20 with Id", topic: topic,
			payload: `{"Time":"2024-05-01T08:00:00","DS18B20":{"Id":"01144A0CB2AA","Temperature":5.5},"TempUnit":"C"}`,
			want:    samples(sample(dev, "01144A0CB2AA", local("2024-05-01T08:00:00"), temp(5.5))),
		},
		{
			name: "DS18B20-N without Id", topic: topic,
			payload: `{"Time":"2024-05-01T08:00:00","DS18B20-1":{"Temperature":5.5},"TempUnit":"C"}`,
			want:    samples(sample(dev, "DS18B20-1", local("2024-05-01T08:00:00"), temp(5.5))),
		},
		{
			name: "AM2301", topic: topic, payload: tasmotaAM2301,
			want: samples(sample(dev, "AM2301", local("2022-10-20T10:29:14"), temp(21.7), hum(75.8))),
		},
		{
			name: "SI7021 mixed with DS18B20", topic: topic, payload: tasmotaMixed,
			want: samples(
				sample(dev, "000008BD38BF", local("2020-02-08T17:17:11"), temp(4.5)),
				sample(dev, "SI7021", local("2020-02-08T17:17:11"), temp(20.6), hum(31.9)),
			),
		},
		{
			name: "TempUnit F", topic: topic,
			payload: `{"Time":"2019-01-01T00:00:00","DS18B20":{"Temperature":39.2},"AM2301":{"Temperature":71.6,"Humidity":40.1},"TempUnit":"F"}`,
			want: samples(
				sample(dev, "DS18B20", local("2019-01-01T00:00:00"), temp(4)),
				sample(dev, "AM2301", local("2019-01-01T00:00:00"), temp(22), hum(40.1)),
			),
		},
		{
			name: "TempUnit F before the sensors", topic: topic,
			payload: `{"TempUnit":"F","Time":"2019-01-01T00:00:00","DS18B20":{"Temperature":-4}}`,
			want:    samples(sample(dev, "DS18B20", local("2019-01-01T00:00:00"), temp(-20))),
		},
		{
			name: "SHT3X with address", topic: topic,
			payload: `{"Time":"2021-06-01T12:00:00","SHT3X-0x44":{"Temperature":23.4,"Humidity":55.0,"DewPoint":13.9},"SHT3X-0x45":{"Temperature":23.6,"Humidity":54.0},"TempUnit":"C"}`,
			want: samples(
				sample(dev, "SHT3X-0x44", local("2021-06-01T12:00:00"), temp(23.4), hum(55)),
				sample(dev, "SHT3X-0x45", local("2021-06-01T12:00:00"), temp(23.6), hum(54)),
			),
		},
		{
			name: "BME280 pressure ignored", topic: topic,
			payload: `{"Time":"2021-06-01T12:00:00","BME280":{"Temperature":23.4,"Humidity":55.0,"DewPoint":13.9,"Pressure":1013.2},"PressureUnit":"hPa","TempUnit":"C"}`,
			want:    samples(sample(dev, "BME280", local("2021-06-01T12:00:00"), temp(23.4), hum(55))),
		},
		{
			name: "DHT11 DHT22 HTU21", topic: topic,
			payload: `{"Time":"2021-06-01T12:00:00","DHT11":{"Temperature":20,"Humidity":30},"DHT22":{"Temperature":21,"Humidity":31},"HTU21":{"Temperature":22,"Humidity":32},"TempUnit":"C"}`,
			want: samples(
				sample(dev, "DHT11", local("2021-06-01T12:00:00"), temp(20), hum(30)),
				sample(dev, "DHT22", local("2021-06-01T12:00:00"), temp(21), hum(31)),
				sample(dev, "HTU21", local("2021-06-01T12:00:00"), temp(22), hum(32)),
			),
		},
		{
			name: "AM2301 with GPIO suffix", topic: topic,
			payload: `{"Time":"2021-06-01T12:00:00","AM2301-12":{"Temperature":20,"Humidity":30},"AM2301-14":{"Temperature":21,"Humidity":31},"TempUnit":"C"}`,
			want: samples(
				sample(dev, "AM2301-12", local("2021-06-01T12:00:00"), temp(20), hum(30)),
				sample(dev, "AM2301-14", local("2021-06-01T12:00:00"), temp(21), hum(31)),
			),
		},
		{
			name: "non-DS sensor at 85 is fine", topic: topic,
			payload: `{"Time":"2021-06-01T12:00:00","SI7021":{"Temperature":85.0,"Humidity":10}}`,
			want:    samples(sample(dev, "SI7021", local("2021-06-01T12:00:00"), temp(85), hum(10))),
		},
		{
			name: "other keys ignored", topic: topic,
			payload: `{"Time":"2021-06-01T12:00:00","Switch1":"ON","ANALOG":{"A0":1024},"ENERGY":{"Power":12},"ESP32":{"Temperature":51.1},"DS18B20":{"Temperature":3.1},"TempUnit":"C"}`,
			want:    samples(sample(dev, "DS18B20", local("2021-06-01T12:00:00"), temp(3.1))),
		},
		{
			name: "failed humidity read is null", topic: topic,
			payload: `{"Time":"2021-06-01T12:00:00","AM2301":{"Temperature":20.5,"Humidity":null},"TempUnit":"C"}`,
			want:    samples(sample(dev, "AM2301", local("2021-06-01T12:00:00"), temp(20.5))),
		},
		{
			name: "sensor without values skipped", topic: topic,
			payload: `{"Time":"2021-06-01T12:00:00","AM2301":{"Temperature":null,"Humidity":null},"DS18B20":{"Temperature":3}}`,
			want:    samples(sample(dev, "DS18B20", local("2021-06-01T12:00:00"), temp(3))),
		},
		{
			name: "Time with milliseconds (Time 4)", topic: topic,
			payload: `{"Time":"2019-09-04T14:31:29.123","DS18B20":{"Temperature":3}}`,
			want:    samples(sample(dev, "DS18B20", local("2019-09-04T14:31:29").Add(123*time.Millisecond), temp(3))),
		},
		{
			name: "Time with offset (SetOption52)", topic: topic,
			payload: `{"Time":"2019-09-04T14:31:29+02:00","DS18B20":{"Temperature":3}}`,
			want:    samples(sample(dev, "DS18B20", at("2019-09-04T12:31:29Z"), temp(3))),
		},
		{
			name: "Time as epoch (Time 3)", topic: topic,
			payload: `{"Time":1567600289,"DS18B20":{"Temperature":3}}`,
			want:    samples(sample(dev, "DS18B20", time.Unix(1567600289, 0), temp(3))),
		},
		{
			name: "Epoch wins over Time (Time 2)", topic: topic,
			payload: `{"Time":"2019-09-04T19:31:29","Epoch":1567600289,"DS18B20":{"Temperature":3}}`,
			want:    samples(sample(dev, "DS18B20", time.Unix(1567600289, 0), temp(3))),
		},
		{
			name: "no Time", topic: topic, payload: `{"DS18B20":{"Temperature":3}}`,
			want: samples(sample(dev, "DS18B20", noTime, temp(3))),
		},
		{
			name: "custom FullTopic", topic: "fridge-1/tele/SENSOR", payload: tasmotaSingleDS,
			want: samples(sample("fridge-1/tele", "DS18B20", local("2019-01-01T00:00:00"), temp(21.9))),
		},
		{
			name: "default topic", topic: "tele/tasmota_A1B2C3/SENSOR", payload: tasmotaSingleDS,
			want: samples(sample("tele/tasmota_A1B2C3", "DS18B20", local("2019-01-01T00:00:00"), temp(21.9))),
		},
		{
			name: "LWT Online", topic: "tele/fridge-1/LWT", payload: "Online",
			want: samples(sample(dev, "", noTime, up(1))),
		},
		{
			name: "LWT Offline", topic: "tele/fridge-1/LWT", payload: "Offline",
			want: samples(sample(dev, "", noTime, up(0))),
		},
	}
}

func tasmotaRejectCases() []rejectCase {
	const topic = "tele/fridge-1/SENSOR"
	return []rejectCase{
		{"STATE", "tele/fridge-1/STATE", `{"Time":"2019-01-01T00:00:00","Uptime":"0T00:05:00","Wifi":{"RSSI":60}}`, reasonIgnored},
		{"RESULT", "stat/fridge-1/RESULT", `{"POWER":"ON"}`, reasonIgnored},
		{"INFO1", "tele/fridge-1/INFO1", `{"Module":"Generic"}`, reasonIgnored},
		{"STATE empty", "tele/fridge-1/STATE", ``, reasonIgnored},
		{"only energy", topic, `{"Time":"2019-01-01T00:00:00","ENERGY":{"Power":12}}`, reasonIgnored},
		{"only time", topic, `{"Time":"2019-01-01T00:00:00","TempUnit":"C"}`, reasonIgnored},
		{"sensor null", topic, `{"DS18B20":null}`, reasonIgnored},

		{"DS18B20 power-on 85", topic, `{"Time":"2019-01-01T00:00:00","DS18B20":{"Temperature":85.0},"TempUnit":"C"}`, reasonOutOfRange},
		{"DS18B20 power-on 85 among others", topic, `{"Time":"2020-01-26T17:45:30","DS18B20-1":{"Id":"000008BD38BF","Temperature":26.1},"DS18B20-2":{"Id":"000008BD9714","Temperature":85},"TempUnit":"C"}`, reasonOutOfRange},
		{"DS18B20 power-on 185 F", topic, `{"DS18B20":{"Temperature":185.0},"TempUnit":"F"}`, reasonOutOfRange},
		{"DS18B20 -127", topic, `{"Time":"2019-01-01T00:00:00","DS18B20":{"Temperature":-127.0},"TempUnit":"C"}`, reasonOutOfRange},
		{"DS18B20 -127 with Id", topic, `{"DS18B20-1":{"Id":"000008BD38BF","Temperature":-127}}`, reasonOutOfRange},
		{"too hot", topic, `{"SI7021":{"Temperature":126,"Humidity":31.9}}`, reasonOutOfRange},
		{"humidity over 100", topic, `{"AM2301":{"Temperature":21.7,"Humidity":120}}`, reasonOutOfRange},

		{"FORMATS.md ellipsis", topic, `{"Time":"2020-02-08T17:17:11","DS18B20-1":{...},"SI7021":{"Temperature":20.6,"Humidity":31.9},"TempUnit":"C"}`, reasonBadJSON},
		{"garbage", topic, `Online`, reasonBadJSON},
		{"truncated", topic, `{"Time":"2019-01-01T00:00:00","DS18B20":{"Temperature":21.9}`, reasonBadJSON},
		{"array", topic, `[{"DS18B20":{"Temperature":21.9}}]`, reasonBadJSON},

		{"humidity bool", topic, `{"AM2301":{"Temperature":21.7,"Humidity":true}}`, reasonBadValue},
		{"Id with control character", topic, `{"DS18B20-1":{"Id":"00\u0000","Temperature":21.9}}`, reasonBadValue},
		{"TempUnit K", topic, `{"DS18B20":{"Temperature":21.9},"TempUnit":"K"}`, reasonBadValue},
		{"TempUnit number", topic, `{"DS18B20":{"Temperature":21.9},"TempUnit":1}`, reasonBadValue},
		{"Time bool", topic, `{"Time":true,"DS18B20":{"Temperature":21.9}}`, reasonBadValue},

		{"overflow", topic, `{"DS18B20":{"Temperature":1e400}}`, reasonNotFinite},

		{"Time 2130", topic, `{"Time":"2130-01-01T00:00:00","DS18B20":{"Temperature":21.9}}`, reasonBadTime},
		{"Time garbage", topic, `{"Time":"2019-13-01T00:00:00","DS18B20":{"Temperature":21.9}}`, reasonBadTime},
		{"Time before NTP sync", topic, `{"Time":"1970-01-01T00:05:00","DS18B20":{"Temperature":21.9}}`, reasonBadTime},
		{"Time epoch 1970", topic, `{"Time":300,"DS18B20":{"Temperature":21.9}}`, reasonBadTime},
		{"Epoch 2130", topic, `{"Epoch":5000000000,"DS18B20":{"Temperature":21.9}}`, reasonBadTime},

		{"empty", topic, ``, reasonEmpty},
		{"empty LWT", "tele/fridge-1/LWT", ``, reasonEmpty},
		{"too large", topic, big(1 << 20), reasonTooLarge},
		{"no levels", "SENSOR", tasmotaSingleDS, reasonBadTopic},
		{"empty level", "tele//SENSOR", tasmotaSingleDS, reasonBadTopic},
		{"wildcard", "tele/+/SENSOR", tasmotaSingleDS, reasonBadTopic},
		{"LWT word", "tele/fridge-1/LWT", `Maybe`, reasonBadValue},
	}
}

func TestTasmota(t *testing.T) {
	runDecodeCases(t, "tasmota", tasmotaDecodeCases())
}

func TestTasmotaReject(t *testing.T) {
	runRejectCases(t, "tasmota", tasmotaRejectCases())
}

// TestTasmotaTimeZone checks that Time is read in the decoder's zone, with that
// zone's offset on that date (daylight saving time).
func TestTasmotaTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin") // from time/tzdata if need be
	if err != nil {
		t.Fatal(err)
	}
	dec, err := New("tasmota", berlin)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ local, want string }{
		{"2019-01-01T00:00:00", "2018-12-31T23:00:00Z"}, // CET
		{"2019-07-01T00:00:00", "2019-06-30T22:00:00Z"}, // CEST
	}
	for _, tt := range tests {
		payload := `{"Time":"` + tt.local + `","DS18B20":{"Temperature":21.9},"TempUnit":"C"}`
		got, err := dec("tele/fridge-1/SENSOR", []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		if want := at(tt.want); !got[0].Time.Equal(want) {
			t.Errorf("Time %s = %v, want %v", tt.local, got[0].Time, want)
		}
	}
}
