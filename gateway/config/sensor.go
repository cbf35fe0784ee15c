package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Sensor is one measuring device (or one probe of a device with several).
type Sensor struct {
	// ID is unique among sensors: lower-case letters, digits and '-'. It is the
	// "sensor" tag in InfluxDB.
	ID string `yaml:"id"`
	// Zone is the id of the zone the sensor measures.
	Zone string `yaml:"zone"`
	// Source decides the decoder: a network source (zigbee2mqtt, tasmota, esphome,
	// shelly, saqshy) or a sensor wired to the Pi (ds18b20, sht3x, sht4x, bme280).
	Source string `yaml:"source"`
	// Topic is the device's MQTT base topic (network sources only); see [Sensor.Device].
	Topic string `yaml:"topic"`
	// Key picks one sub-sensor of a device with several: a Tasmota DS18B20 Id
	// ("000008BD38BF") or sensor name ("AM2301"), an ESPHome component object id
	// ("temperature"), a Shelly component ("temperature:0"). Empty for the whole device.
	Key string `yaml:"key"`
	// Address locates a sensor wired to the Pi: a 1-Wire id for ds18b20
	// ("28-0316a2795eff"), an I2C address for the others ("0x44" on bus 1, or
	// "i2c0:0x44").
	Address string `yaml:"address"`
	// Interval is how often the sensor is expected to report; a sensor silent for
	// much longer is stale. Default per source, see [DefaultInterval].
	Interval Duration `yaml:"interval"`
	// Resolution is a DS18B20's resolution in bits, 9 to 12: 0.5 °C at 9 bits
	// (93.75 ms per reading) to 0.0625 °C at 12 (750 ms). 0 or absent leaves the
	// probe's own setting (12 bits from the factory). Only for source ds18b20.
	Resolution int `yaml:"resolution"`
	// Quantity says what a Shelly BLU sensor (key "bthomesensor:N") measures:
	// temperature, humidity, battery or voltage. Its MQTT status carries only a
	// value; the gateway asks the Shelly device for each component's BTHome object
	// id (Shelly.GetComponents over MQTT), and Quantity, when set, is used instead
	// (for a device that does not answer RPC over MQTT). Only for source shelly.
	Quantity string `yaml:"quantity"`
}

// Quantities lists the values of [Sensor.Quantity].
func Quantities() []string { return []string{"temperature", "humidity", "battery", "voltage"} }

// QuantityMetric returns the metric s.Quantity names, or 0 when it is empty or
// unknown.
func (s Sensor) QuantityMetric() telemetry.Metric {
	switch s.Quantity {
	case "temperature":
		return telemetry.Temperature
	case "humidity":
		return telemetry.Humidity
	case "battery":
		return telemetry.Battery
	case "voltage":
		return telemetry.Voltage
	}
	return 0
}

// Sensor sources.
const (
	SourceZigbee2MQTT = "zigbee2mqtt"
	SourceTasmota     = "tasmota"
	SourceESPHome     = "esphome"
	SourceShelly      = "shelly"
	SourceSaqshy      = "saqshy"
	SourceBLE         = "ble"        // OpenMQTTGateway / Theengs Gateway BLE (BTtoMQTT)
	SourceChirpStack  = "chirpstack" // LoRaWAN uplinks through ChirpStack
	SourceDS18B20     = "ds18b20"
	SourceSHT3x       = "sht3x"
	SourceSHT4x       = "sht4x"
	SourceBME280      = "bme280"
)

// SensorSources lists the known sensor sources: the network ones, then the local ones.
func SensorSources() []string {
	return []string{
		SourceZigbee2MQTT, SourceTasmota, SourceESPHome, SourceShelly, SourceSaqshy,
		SourceBLE, SourceChirpStack,
		SourceDS18B20, SourceSHT3x, SourceSHT4x, SourceBME280,
	}
}

// IsLocalSource reports whether source names a sensor wired to the Pi's own pins.
func IsLocalSource(source string) bool {
	switch source {
	case SourceDS18B20, SourceSHT3x, SourceSHT4x, SourceBME280:
		return true
	}
	return false
}

// DefaultInterval returns the expected reporting interval of a source's devices at
// their factory settings, or 0 for an unknown source: tasmota 300s (TelePeriod),
// zigbee2mqtt 5m, esphome 60s, shelly 10m, saqshy 60s, ble 5m (a BLE thermometer
// advertises every few seconds, the gateways publish on each scan), chirpstack 10m
// (the common LoRaWAN room sensors' uplink period), local sensors 30s (polled).
func DefaultInterval(source string) time.Duration {
	switch source {
	case SourceTasmota:
		return 300 * time.Second
	case SourceZigbee2MQTT:
		return 5 * time.Minute
	case SourceESPHome, SourceSaqshy:
		return 60 * time.Second
	case SourceShelly, SourceChirpStack:
		return 10 * time.Minute
	case SourceBLE:
		return 5 * time.Minute
	}
	if IsLocalSource(source) {
		return 30 * time.Second
	}
	return 0
}

// SaqshyTopic returns the base topic of a Saqshy-firmware sensor:
// saqshy/<centre>/sensor/<sensor>.
func SaqshyTopic(centre, sensor string) string {
	return "saqshy/" + centre + "/sensor/" + sensor
}

// Local reports whether the sensor is wired to the Pi (polled, not read over MQTT).
func (s Sensor) Local() bool { return IsLocalSource(s.Source) }

// Device returns the device's normalised identity, which is what decoders put in
// telemetry.Sample.Device, so that (Device, Key) finds the configured sensor:
//
//   - zigbee2mqtt: the topic as written ("zigbee2mqtt/room-101");
//   - tasmota: the topic without a trailing SENSOR, STATE or LWT level
//     ("tele/fridge-1/SENSOR" -> "tele/fridge-1");
//   - esphome: the node's topic_prefix as written ("room-101-node");
//   - shelly: the device prefix as written ("shellies/shellyht-AB12" for gen1, the
//     configured topic prefix for gen2, e.g. "shellyplusht-b8d61a8b17cc");
//   - saqshy: the topic, by default saqshy/<centre>/sensor/<id> (filled by Parse);
//   - ble: the topic as written ("home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11");
//   - chirpstack: the device's topic as written
//     ("application/<application>/device/<DevEUI>", without /event/up);
//   - local sensors: the normalised address, "28-0316a2795eff" for 1-Wire,
//     "i2c1:0x44" for I2C (bus 1 when the address names none).
func (s Sensor) Device() string {
	switch s.Source {
	case SourceTasmota:
		if i := strings.LastIndexByte(s.Topic, '/'); i > 0 {
			switch s.Topic[i+1:] {
			case "SENSOR", "STATE", "LWT":
				return s.Topic[:i]
			}
		}
		return s.Topic
	case SourceDS18B20:
		return strings.ToLower(strings.TrimSpace(s.Address))
	case SourceSHT3x, SourceSHT4x, SourceBME280:
		if bus, addr, err := parseI2CAddress(s.Address); err == nil {
			return fmt.Sprintf("i2c%d:0x%02x", bus, addr)
		}
		return strings.ToLower(strings.TrimSpace(s.Address))
	}
	return s.Topic
}

var (
	oneWireAddr = regexp.MustCompile(`^28-[0-9a-fA-F]{12}$`)
	i2cAddr     = regexp.MustCompile(`^(?:i2c(\d{1,2}):)?0x([0-9a-fA-F]{1,2})$`)
	tasmotaID   = regexp.MustCompile(`^[0-9a-fA-F]{12}$`)
)

// parseI2CAddress parses "0x44" (bus 1) or "i2c0:0x44".
func parseI2CAddress(s string) (bus, addr int, err error) {
	m := i2cAddr.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, 0, fmt.Errorf("invalid I2C address %q", s)
	}
	bus = 1
	if m[1] != "" {
		bus, _ = strconv.Atoi(m[1])
	}
	a, _ := strconv.ParseUint(m[2], 16, 8)
	return bus, int(a), nil
}

// i2cAddrs lists the addresses each I2C chip can answer at.
var i2cAddrs = map[string][]int{
	SourceSHT3x:  {0x44, 0x45},
	SourceSHT4x:  {0x44, 0x45, 0x46},
	SourceBME280: {0x76, 0x77},
}

// checkAddress checks a local sensor's address.
func checkAddress(source, addr string) error {
	if source == SourceDS18B20 {
		if !oneWireAddr.MatchString(strings.TrimSpace(addr)) {
			return fmt.Errorf(`invalid 1-Wire address %q: a DS18B20 address looks like "28-0316a2795eff" (ls /sys/bus/w1/devices/)`, addr)
		}
		return nil
	}
	_, a, err := parseI2CAddress(addr)
	if err != nil {
		return fmt.Errorf(`invalid I2C address %q: write "0x44" (bus 1) or "i2c1:0x44" (i2cdetect -y 1 lists them)`, addr)
	}
	ok := i2cAddrs[source]
	for _, x := range ok {
		if x == a {
			return nil
		}
	}
	hex := make([]string, len(ok))
	for i, x := range ok {
		hex[i] = fmt.Sprintf("0x%02x", x)
	}
	return fmt.Errorf("%s answers only at %s, not at 0x%02x", source, strings.Join(hex, " or "), a)
}

// checkTopic checks a network sensor's topic; it returns nil for an empty topic.
func checkTopic(source, topic, key string) error {
	if topic == "" {
		return nil
	}
	if strings.ContainsAny(topic, "+#") {
		return fmt.Errorf("topic %q must not contain the MQTT wildcards + or #: write the device's own topic", clip(topic))
	}
	if strings.HasPrefix(topic, "/") || strings.HasSuffix(topic, "/") {
		return fmt.Errorf("topic %q must not start or end with '/'", clip(topic))
	}
	if strings.Contains(topic, "//") {
		return fmt.Errorf("topic %q has an empty level (//)", clip(topic))
	}
	for _, r := range topic {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("topic %q contains a control character", clip(topic))
		}
	}
	if len(topic) > 1024 {
		return fmt.Errorf("topic is %d bytes long; a device topic is much shorter", len(topic))
	}
	levels := strings.Split(topic, "/")
	last := levels[len(levels)-1]
	switch source {
	case SourceZigbee2MQTT:
		switch last {
		case "availability", "set", "get":
			return fmt.Errorf("write the device's base topic %q, without /%s", strings.Join(levels[:len(levels)-1], "/"), last)
		}
	case SourceTasmota:
		if len(levels) < 2 {
			return fmt.Errorf(`write the device's full telemetry topic, e.g. "tele/%s/SENSOR"`, topic)
		}
	case SourceESPHome:
		n := len(levels)
		if n >= 4 && last == "state" && esphomeComponents[levels[n-3]] {
			prefix := strings.Join(levels[:n-3], "/")
			msg := fmt.Sprintf("write the node's topic_prefix %q as the topic and put %q into key", prefix, levels[n-2])
			if key != "" && key != levels[n-2] {
				msg = fmt.Sprintf("write the node's topic_prefix %q as the topic (the component goes in key)", prefix)
			}
			return fmt.Errorf("topic %q is one component's state topic: %s", clip(topic), msg)
		}
		if n >= 2 && (last == "status" || last == "debug") {
			return fmt.Errorf("write the node's topic_prefix %q, without /%s", strings.Join(levels[:n-1], "/"), last)
		}
	case SourceShelly:
		n := len(levels)
		cut := 0 // levels to drop to get the device prefix
		switch {
		case n >= 3 && levels[0] == "shellies" && (levels[n-2] == "sensor" || levels[n-2] == "ext_temperature" || levels[n-2] == "ext_humidity"),
			n >= 3 && (levels[n-2] == "status" || (levels[n-2] == "events" && last == "rpc")):
			cut = 2
		case n >= 2 && (last == "online" || last == "announce"):
			cut = 1
		}
		if cut > 0 {
			return fmt.Errorf("write the device's topic prefix %q, without /%s", strings.Join(levels[:n-cut], "/"), strings.Join(levels[n-cut:], "/"))
		}
	case SourceSaqshy:
		switch last {
		case "state", "status":
			return fmt.Errorf("write the sensor's base topic %q, without /%s (or leave topic out)", strings.Join(levels[:len(levels)-1], "/"), last)
		}
	}
	return nil
}

var esphomeComponents = map[string]bool{
	"sensor": true, "binary_sensor": true, "text_sensor": true, "switch": true,
	"climate": true, "number": true, "select": true, "button": true, "light": true, "fan": true,
}
