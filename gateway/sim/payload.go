package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Message is one MQTT publication.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Reading is what a simulated device measured.
type Reading struct {
	TemperatureC float64
	HumidityPct  float64 // 0 = the device has no humidity sensor
	BatteryPct   float64 // 0 = mains powered
	LinkQuality  float64 // Zigbee only
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// Zigbee2MQTT returns the data message of a Zigbee2MQTT device (friendly-name topic
// base, e.g. "zigbee2mqtt/room-101") with last_seen as epoch milliseconds.
func Zigbee2MQTT(base string, r Reading, t time.Time) Message {
	var b strings.Builder
	b.WriteString(`{"temperature":` + num(r.TemperatureC))
	if r.HumidityPct > 0 {
		b.WriteString(`,"humidity":` + num(r.HumidityPct))
	}
	if r.BatteryPct > 0 {
		b.WriteString(`,"battery":` + num(r.BatteryPct) + `,"voltage":2985`)
	}
	if r.LinkQuality > 0 {
		b.WriteString(`,"linkquality":` + strconv.Itoa(int(r.LinkQuality)))
	}
	b.WriteString(`,"last_seen":` + strconv.FormatInt(t.UnixMilli(), 10) + `}`)
	return Message{Topic: base, Payload: []byte(b.String())}
}

// Zigbee2MQTTAvailability is the retained 2.x availability message.
func Zigbee2MQTTAvailability(base string, online bool) Message {
	return Message{Topic: base + "/availability", Payload: []byte(`{"state":"` + onOff(online, "online", "offline") + `"}`), Retained: true}
}

// Tasmota returns tele/<topic>/SENSOR for a device (base "tele/<topic>") with one
// sensor named sensor ("AM2301", "SI7021", "DS18B20"); Time is local time in loc
// without an offset, as Tasmota sends it.
func Tasmota(base, sensor string, r Reading, t time.Time, loc *time.Location) Message {
	var b strings.Builder
	b.WriteString(`{"Time":"` + t.In(loc).Format("2006-01-02T15:04:05") + `","` + sensor + `":{`)
	if sensor == "DS18B20" {
		b.WriteString(`"Id":"0000` + fmt.Sprintf("%08X", hash(base)) + `",`)
	}
	b.WriteString(`"Temperature":` + strconv.FormatFloat(r.TemperatureC, 'f', 1, 64))
	if r.HumidityPct > 0 {
		b.WriteString(`,"Humidity":` + strconv.FormatFloat(r.HumidityPct, 'f', 1, 64) + `,"DewPoint":10.1`)
	}
	b.WriteString(`},"TempUnit":"C"}`)
	return Message{Topic: base + "/SENSOR", Payload: []byte(b.String())}
}

// TasmotaLWT is Tasmota's retained last-will topic.
func TasmotaLWT(base string, online bool) Message {
	return Message{Topic: base + "/LWT", Payload: []byte(onOff(online, "Online", "Offline")), Retained: true}
}

// ESPHome returns the state messages of a node (base = topic_prefix): one plain
// number per component, not retained here (the demo's nodes set retain: false, like
// firmware-config/esphome).
func ESPHome(base string, r Reading) []Message {
	msgs := []Message{{Topic: base + "/sensor/temperature/state", Payload: []byte(strconv.FormatFloat(r.TemperatureC, 'f', 1, 64))}}
	if r.HumidityPct > 0 {
		msgs = append(msgs, Message{Topic: base + "/sensor/humidity/state", Payload: []byte(strconv.FormatFloat(r.HumidityPct, 'f', 1, 64))})
	}
	return msgs
}

// ESPHomeStatus is the node's retained birth/last-will message.
func ESPHomeStatus(base string, online bool) Message {
	return Message{Topic: base + "/status", Payload: []byte(onOff(online, "online", "offline")), Retained: true}
}

// ShellyGen2 returns a NotifyStatus frame on <prefix>/events/rpc, as a Shelly Plus
// H&T sends it, with params.ts in UTC seconds.
func ShellyGen2(base string, r Reading, t time.Time) Message {
	id := base[strings.LastIndexByte(base, '/')+1:]
	ts := strconv.FormatFloat(float64(t.UnixMicro())/1e6, 'f', 3, 64)
	var b strings.Builder
	b.WriteString(`{"src":"` + id + `","dst":"` + id + `/events","method":"NotifyStatus","params":{"ts":` + ts)
	b.WriteString(`,"temperature:0":{"id":0,"tC":` + strconv.FormatFloat(r.TemperatureC, 'f', 1, 64) + `,"tF":` + strconv.FormatFloat(r.TemperatureC*9/5+32, 'f', 1, 64) + `}`)
	if r.HumidityPct > 0 {
		b.WriteString(`,"humidity:0":{"id":0,"rh":` + strconv.FormatFloat(r.HumidityPct, 'f', 1, 64) + `}`)
	}
	if r.BatteryPct > 0 {
		b.WriteString(`,"devicepower:0":{"id":0,"battery":{"V":5.9,"percent":` + strconv.Itoa(int(r.BatteryPct)) + `},"external":{"present":false}}`)
	}
	b.WriteString(`}}`)
	return Message{Topic: base + "/events/rpc", Payload: []byte(b.String())}
}

// ShellyGen1 returns the plain-number topics of a Shelly H&T gen1 (base "shellies/<id>").
func ShellyGen1(base string, r Reading) []Message {
	msgs := []Message{{Topic: base + "/sensor/temperature", Payload: []byte(num(r.TemperatureC))}}
	if r.HumidityPct > 0 {
		msgs = append(msgs, Message{Topic: base + "/sensor/humidity", Payload: []byte(num(r.HumidityPct))})
	}
	if r.BatteryPct > 0 {
		msgs = append(msgs, Message{Topic: base + "/sensor/battery", Payload: []byte(strconv.Itoa(int(r.BatteryPct)))})
	}
	return msgs
}

// ShellyOnline is the retained availability of gen1 and gen2 devices.
func ShellyOnline(base string, online bool) Message {
	return Message{Topic: base + "/online", Payload: []byte(onOff(online, "true", "false")), Retained: true}
}

// Saqshy returns the native state message (base "saqshy/<centre>/sensor/<id>").
func Saqshy(base string, r Reading, t time.Time) Message {
	var b strings.Builder
	b.WriteString(`{"temperature_c":` + num(r.TemperatureC))
	if r.HumidityPct > 0 {
		b.WriteString(`,"humidity_pct":` + num(r.HumidityPct))
	}
	if r.BatteryPct > 0 {
		b.WriteString(`,"battery_pct":` + num(r.BatteryPct))
	}
	b.WriteString(`,"ts":"` + t.UTC().Format(time.RFC3339Nano) + `"}`)
	return Message{Topic: base + "/state", Payload: []byte(b.String())}
}

// SaqshyStatus is the native retained availability message.
func SaqshyStatus(base string, online bool) Message {
	return Message{Topic: base + "/status", Payload: []byte(onOff(online, "online", "offline")), Retained: true}
}

func onOff(b bool, on, off string) string {
	if b {
		return on
	}
	return off
}

func hash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}
