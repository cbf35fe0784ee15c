// Package discover works out, from what a broker carries, which sensors and cameras
// a centre has: it sorts MQTT messages by firmware format (Zigbee2MQTT, Tasmota,
// ESPHome, Shelly, BLE through OpenMQTTGateway/Theengs, LoRaWAN through ChirpStack,
// Frigate, Saqshy) with the gateway's own decoders, names each sensor's device family
// and firmware ([FamilyZbReceived], [FamilyMI32], [FamilyTheengs], ...), keeps each
// device's latest values and availability, reads Home Assistant discovery messages
// for friendly names, models, the climate sensors that did not report, and the units
// devices declare (and says when one is not what the gateway reads,
// such as an ESPHome temperature in °F), and writes a `sensors:` / `cameras:` config block to paste
// into a centre config.
//
// # Concepts
//
// A [Collector] is fed messages ([Collector.Add], safe for concurrent use) and
// summarised with [Collector.Result]. A device is identified the way the config
// identifies it ([config.Sensor.Device]): the decoders' Sample.Device.
package discover

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/camera"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/decode"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Formats in the order the report lists them.
const (
	Zigbee2MQTT = "zigbee2mqtt"
	Tasmota     = "tasmota"
	ESPHome     = "esphome"
	Shelly      = "shelly"
	BLE         = "ble"
	ChirpStack  = "chirpstack"
	Frigate     = "frigate"
	Saqshy      = "saqshy"
)

// Formats lists the formats discover recognises, in report order.
func Formats() []string {
	return []string{Zigbee2MQTT, Tasmota, ESPHome, Shelly, BLE, ChirpStack, Frigate, Saqshy}
}

var formatTitle = map[string]string{
	Zigbee2MQTT: "Zigbee2MQTT", Tasmota: "Tasmota", ESPHome: "ESPHome", Shelly: "Shelly",
	BLE: "BLE thermometers (OpenMQTTGateway / Theengs Gateway)", ChirpStack: "LoRaWAN (ChirpStack)",
	Frigate: "Frigate", Saqshy: "Saqshy firmware",
}

// Reading is the latest values of one sub-sensor of a device.
type Reading struct {
	Values map[telemetry.Metric]float64
	// Family is the device family and firmware the values came from (a Family...
	// constant): a Tasmota device may relay a Zigbee bridge's devices and BLE
	// thermometers beside its own sensors.
	Family string
	At     time.Time // the payload's time, or when it arrived; zero for a retained message without a time
}

// Device is one sensor device heard on the broker.
type Device struct {
	Format string
	// Base is the device's base topic as a config names it (Sample.Device).
	Base string
	// Name is the device's own name (friendly name, Tasmota topic, ESPHome node,
	// Shelly id, Saqshy sensor id); HAName, Model and Software (the device's or its
	// firmware's version) come from Home Assistant discovery when present.
	Name, HAName, Model, Software string
	// Readings by sub-sensor key ("" for a device with one).
	Readings map[string]*Reading
	Online   *bool
	Messages int
	Rejected int
	Reason   string // the latest rejection
	// Warnings are what Home Assistant discovery says that the gateway would read
	// wrongly (a temperature in °F where the decoder assumes °C).
	Warnings []string
	// UnknownBLU are the Shelly BLU sensors (bthomesensor:N) heard with a number
	// whose quantity the device has not told (it did not answer Shelly.GetComponents).
	UnknownBLU []string
}

// Camera is one camera heard on the broker.
type Camera struct {
	Format string // frigate or saqshy
	Name   string // Frigate's camera name, or the Saqshy camera id
	FPS    *float64
	Online *bool
}

// Collector gathers what the broker says. The zero value is not usable; see New.
type Collector struct {
	loc      *time.Location
	decoders map[string]decode.Func
	bthome   *bluQuantities

	mu       sync.Mutex
	messages int
	topics   map[string]bool
	devices  map[string]*Device // by format + "\x00" + base
	cameras  map[string]*Camera // by format + "\x00" + name
	avail    map[string]bool    // "<x>/status" or "<x>/online" payloads by <x>, resolved in Result
	ha       map[string]haEntity
	haCount  int
	other    map[string]int
	frigate  *bool // frigate/available
	// unknown are the latest messages of Shelly BLU sensors of unknown quantity, by
	// topic: read again when their device says what its sensors measure.
	unknown map[string]unknownMsg
}

type unknownMsg struct {
	device   string
	payload  []byte
	retained bool
	at       time.Time
}

type haEntity struct {
	name, model, software string
	class                 string // device_class
	warning               string
}

// New returns a collector; loc is the centre's time zone (for Tasmota times).
func New(loc *time.Location) *Collector {
	if loc == nil {
		loc = time.UTC
	}
	c := &Collector{loc: loc, decoders: map[string]decode.Func{}, topics: map[string]bool{},
		devices: map[string]*Device{}, cameras: map[string]*Camera{}, avail: map[string]bool{},
		ha: map[string]haEntity{}, other: map[string]int{}, unknown: map[string]unknownMsg{}}
	c.bthome = &bluQuantities{m: map[[2]string]telemetry.Metric{}, asked: map[string]bool{}}
	for _, s := range decode.Sources() {
		if f, err := decode.New(s, loc); err == nil {
			c.decoders[s] = f
		}
	}
	c.decoders[Shelly], _ = decode.NewShelly(loc, c.bthome)
	return c
}

// Filters are the MQTT subscriptions discover needs: everything, Home Assistant
// discovery (homeassistant/+/+/config) included.
func Filters() []string { return []string{"#"} }

var esphomeComponents = map[string]bool{"sensor": true, "binary_sensor": true, "text_sensor": true, "switch": true}

// frigateTopics are Frigate's own topics under frigate/ that are not cameras.
var frigateTopics = map[string]bool{
	"available": true, "stats": true, "events": true, "reviews": true, "notifications": true,
	"tracked_object_update": true, "camera_activity": true, "onConnect": true, "restart": true,
	"triggers": true, "audio": true, "birdseye": true,
}

// classify names the format a topic is in, or "".
func classify(levels []string) string {
	n := len(levels)
	last := levels[n-1]
	switch {
	case levels[0] == "zigbee2mqtt" && n >= 2:
		return Zigbee2MQTT
	case levels[0] == "tele" && n >= 3, // n 4: a Zigbee device's ZbDeviceTopic
		n == 3 && levels[1] == "tele": // FullTopic %topic%/%prefix%/
		return Tasmota
	case levels[0] == "shellies" && n >= 3:
		return Shelly
	case levels[0] == "frigate" && n >= 2:
		return Frigate
	case levels[0] == "saqshy" && n >= 4:
		return Saqshy
	case n >= 3 && levels[n-2] == "BTtoMQTT":
		return BLE
	case levels[0] == "application" && n >= 6 && levels[2] == "device" && levels[4] == "event":
		return ChirpStack
	case n >= 3 && levels[n-2] == "events" && last == "rpc",
		n >= 3 && levels[n-2] == "status" && strings.Contains(last, ":"):
		return Shelly
	case n >= 4 && last == "state" && esphomeComponents[levels[n-3]]:
		return ESPHome
	}
	return ""
}

// Add records one message. retained marks the broker's stored copy; at is when it
// arrived. Safe for concurrent use.
func (c *Collector) Add(topic string, payload []byte, retained bool, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.messages++
	c.topics[topic] = true
	c.add(topic, payload, retained, at)
}

// add records one message; c.mu is held.
func (c *Collector) add(topic string, payload []byte, retained bool, at time.Time) {
	levels := strings.Split(topic, "/")
	if levels[0] == "homeassistant" && levels[len(levels)-1] == "config" {
		c.haConfig(topic, payload)
		return
	}
	if dev, ok := decode.ShellyReplyDevice(topic); ok {
		c.bthome.learn(dev, payload)
		// The device's sensors heard before its answer (paho hands messages over
		// concurrently: even one published after the answer may be) are read again.
		for _, t := range slices.Sorted(maps.Keys(c.unknown)) {
			if m := c.unknown[t]; m.device == dev {
				delete(c.unknown, t)
				c.add(t, m.payload, m.retained, m.at)
			}
		}
		return
	}
	if dev, ok := strings.CutSuffix(topic, "/rpc"); ok && c.bthome.isAsked(dev) {
		return // discover's own request
	}
	format := classify(levels)
	switch format {
	case "":
		if n := len(levels); n >= 2 && (levels[n-1] == "status" || levels[n-1] == "online") {
			// ESPHome's or Shelly gen2's availability, or nothing of ours: decided
			// in Result once the devices are known.
			w := strings.ToLower(strings.TrimSpace(string(payload)))
			switch w {
			case "online", "true":
				c.avail[strings.Join(levels[:n-1], "/")] = true
			case "offline", "false":
				c.avail[strings.Join(levels[:n-1], "/")] = false
			}
			return
		}
		c.other[firstLevels(levels)]++
		return
	case Frigate:
		c.frigateMsg(levels, payload)
		return
	case Saqshy:
		switch levels[2] {
		case "camera":
			cam := c.camera(Saqshy, levels[3])
			if levels[len(levels)-1] == "status" {
				on := strings.EqualFold(strings.TrimSpace(string(payload)), "online")
				cam.Online = &on
			}
			return
		case "sensor":
		default:
			return // gateway status, rounds, alerts, score: not devices
		}
	}
	dec := c.decoders[format]
	samples, err := dec(topic, payload)
	if errors.Is(err, telemetry.ErrIgnored) {
		return
	}
	if p := telemetry.AsPartial(err); p != nil {
		// The good fields are shown; the bad ones are named on the device.
		for _, s := range samples {
			d := c.device(format, s.Device)
			d.Rejected += len(p.Bad)
			d.Reason = err.Error()
		}
		err = nil
	}
	if err != nil {
		var de *telemetry.RejectError
		if errors.As(err, &de) && de.Reason == decode.ReasonUnknownQuantity {
			dev := c.unknownBLU(topic, payload)
			c.unknown[topic] = unknownMsg{device: dev, payload: bytes.Clone(payload), retained: retained, at: at}
			return
		}
		if errors.As(err, &de) {
			// Find the device by the longest known base that prefixes the topic.
			if d := c.deviceOf(format, topic); d != nil {
				d.Rejected++
				d.Reason = err.Error()
				return
			}
		}
		c.other["rejected "+format]++
		return
	}
	for _, s := range samples {
		d := c.device(format, s.Device)
		d.Messages++
		vals := map[telemetry.Metric]float64{}
		for _, v := range s.Values {
			if v.Metric == telemetry.Online {
				on := v.V == 1
				d.Online = &on
				continue
			}
			vals[v.Metric] = v.V
		}
		if len(vals) == 0 {
			continue
		}
		r := d.Readings[s.Key]
		if r == nil {
			r = &Reading{Values: map[telemetry.Metric]float64{}}
			d.Readings[s.Key] = r
		}
		maps.Copy(r.Values, vals)
		r.Family = family(format, levels, payload, s.Key)
		switch {
		case !s.Time.IsZero():
			r.At = s.Time
		case !retained:
			r.At = at
		}
	}
}

func firstLevels(levels []string) string {
	if len(levels) > 2 {
		return strings.Join(levels[:2], "/") + "/…"
	}
	return strings.Join(levels, "/")
}

func (c *Collector) device(format, base string) *Device {
	k := format + "\x00" + base
	d := c.devices[k]
	if d == nil {
		d = &Device{Format: format, Base: base, Name: deviceName(format, base), Readings: map[string]*Reading{}}
		c.devices[k] = d
	}
	return d
}

func (c *Collector) deviceOf(format, topic string) *Device {
	var best *Device
	for _, d := range c.devices {
		if d.Format == format && (topic == d.Base || strings.HasPrefix(topic, d.Base+"/")) && (best == nil || len(d.Base) > len(best.Base)) {
			best = d
		}
	}
	return best
}

func deviceName(format, base string) string {
	switch format {
	case Saqshy:
		return base[strings.LastIndexByte(base, '/')+1:]
	case Tasmota: // tele/<topic>, <topic>/tele (FullTopic %topic%/%prefix%/) or tele/<topic>/<ZbDeviceTopic>
		return strings.Join(slices.DeleteFunc(strings.Split(base, "/"), func(l string) bool { return l == "tele" }), "/")
	case Zigbee2MQTT, Shelly:
		if i := strings.IndexByte(base, '/'); i >= 0 {
			return base[i+1:]
		}
	case BLE: // the MAC
		return base[strings.LastIndexByte(base, '/')+1:]
	case ChirpStack: // the DevEUI
		return "lorawan-" + base[strings.LastIndexByte(base, '/')+1:]
	}
	return base
}

func (c *Collector) camera(format, name string) *Camera {
	k := format + "\x00" + name
	cam := c.cameras[k]
	if cam == nil {
		cam = &Camera{Format: format, Name: name}
		c.cameras[k] = cam
	}
	return cam
}

func (c *Collector) frigateMsg(levels []string, payload []byte) {
	switch {
	case levels[1] == "available":
		on := strings.EqualFold(strings.TrimSpace(string(payload)), "online")
		c.frigate = &on
	case levels[1] == "stats":
		fps, err := camera.FrigateFPS(payload)
		if err != nil {
			c.other["rejected frigate"]++
			return
		}
		for name, f := range fps {
			c.camera(Frigate, name).FPS = &f
		}
	case len(levels) >= 3 && !frigateTopics[levels[1]]:
		c.camera(Frigate, levels[1])
	}
}

// haConfig reads a Home Assistant discovery message (decode.ParseDiscovery): the
// entity's state topic, its device's name and model, and its unit, checked against
// what the gateway's decoder for that topic assumes.
func (c *Collector) haConfig(topic string, payload []byte) {
	c.haCount++
	d, err := decode.ParseDiscovery(topic, payload)
	if err != nil {
		return
	}
	name := d.Name
	var dev map[string]json.RawMessage
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) == nil {
		for _, k := range []string{"device", "dev"} {
			if v, ok := m[k]; ok {
				_ = json.Unmarshal(v, &dev)
			}
		}
		var dn string
		if v, ok := dev["name"]; ok && json.Unmarshal(v, &dn) == nil && dn != "" {
			name = dn
		}
	}
	model := strings.TrimSpace(d.Manufacturer + " " + d.Model)
	e := haEntity{name: name, model: model, software: d.Software, class: d.DeviceClass}
	if old, ok := c.ha[d.StateTopic]; ok && old.warning != "" {
		e.warning = old.warning
	}
	if w := unitWarning(d); w != "" {
		e.warning = w
	}
	c.ha[d.StateTopic] = e
}

// unitWarning says when a device declares a unit the gateway's decoders do not
// assume for that reading; "" when they agree.
func unitWarning(d decode.Discovery) string {
	switch d.DeviceClass {
	case "temperature":
		if !d.Celsius() {
			return fmt.Sprintf("%s is in %s: the gateway converts it while the node keeps Home Assistant discovery on (ESPHome's default); or set the sensor to °C", d.StateTopic, d.Unit)
		}
	case "humidity", "battery":
		if d.Unit != "" && d.Unit != "%" {
			return fmt.Sprintf("%s %s is in %s, not %%", d.StateTopic, d.DeviceClass, d.Unit)
		}
	}
	return ""
}

// announced returns the climate sensors that Home Assistant discovery announced
// but that said nothing while discover listened (a battery device reports every
// few minutes; its discovery message is retained): one device per state topic's
// device, with a reading of no values. c.mu is held.
func (c *Collector) announced() []Device {
	var out []Device
	seen := map[string]bool{}
	for _, topic := range slices.Sorted(maps.Keys(c.ha)) {
		e := c.ha[topic]
		if e.class != "temperature" && e.class != "humidity" {
			continue
		}
		levels := strings.Split(topic, "/")
		format := classify(levels)
		base := ""
		if format != "" {
			base = announcedBase(format, levels)
		}
		if base == "" || seen[format+"\x00"+base] {
			continue
		}
		seen[format+"\x00"+base] = true
		if c.devices[format+"\x00"+base] != nil {
			continue
		}
		fam := family(format, levels, nil, "") + FamilyAnnounced
		d := Device{Format: format, Base: base, Name: deviceName(format, base),
			HAName: e.name, Model: e.model, Software: e.software,
			Readings: map[string]*Reading{"": {Values: map[telemetry.Metric]float64{}, Family: fam}}}
		if e.warning != "" {
			d.Warnings = []string{e.warning}
		}
		out = append(out, d)
	}
	return out
}

// Result is what was heard, sorted for printing.
type Result struct {
	Messages, Topics int
	Devices          []Device // by format (in Formats order), then base
	Cameras          []Camera // by format, then name
	HAEntities       int      // Home Assistant discovery messages seen
	FrigateOnline    *bool
	Other            map[string]int // unrecognised topics by their first levels
}

// Result summarises what has been collected so far.
func (c *Collector) Result() Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Result{Messages: c.messages, Topics: len(c.topics), HAEntities: c.haCount, FrigateOnline: c.frigate, Other: maps.Clone(c.other)}
	for _, d := range c.devices {
		dd := *d
		// A BLU sensor whose quantity the device has told since is no longer unknown:
		// it gets a config line like any heard sensor.
		dd.UnknownBLU = nil
		dd.Readings = maps.Clone(d.Readings)
		for _, k := range d.UnknownBLU {
			if _, ok := c.bthome.BTHomeQuantity(d.Base, k); !ok {
				dd.UnknownBLU = append(dd.UnknownBLU, k)
			} else if _, heard := d.Readings[k]; !heard {
				dd.Readings[k] = &Reading{Values: map[telemetry.Metric]float64{}, Family: FamilyShellyBLU}
			}
		}
		if on, ok := c.avail[d.Base]; ok && dd.Online == nil {
			dd.Online = &on
		}
		for _, topic := range slices.Sorted(maps.Keys(c.ha)) {
			e := c.ha[topic]
			if topic == d.Base || strings.HasPrefix(topic, d.Base+"/") {
				if dd.HAName == "" {
					dd.HAName, dd.Model, dd.Software = e.name, e.model, e.software
				}
				if e.warning != "" {
					dd.Warnings = append(dd.Warnings, e.warning)
				}
			}
		}
		r.Devices = append(r.Devices, dd)
	}
	r.Devices = append(r.Devices, c.announced()...)
	for _, cam := range c.cameras {
		r.Cameras = append(r.Cameras, *cam)
	}
	order := map[string]int{}
	for i, f := range Formats() {
		order[f] = i
	}
	slices.SortFunc(r.Devices, func(a, b Device) int {
		if a.Format != b.Format {
			return order[a.Format] - order[b.Format]
		}
		return strings.Compare(a.Base, b.Base)
	})
	slices.SortFunc(r.Cameras, func(a, b Camera) int {
		if a.Format != b.Format {
			return order[a.Format] - order[b.Format]
		}
		return strings.Compare(a.Name, b.Name)
	})
	return r
}

var slugBad = regexp.MustCompile(`[^a-z0-9]+`)

// slug turns a name into a config id: lower-case letters, digits and '-'.
func slug(s string) string {
	s = strings.Trim(slugBad.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" {
		s = "device"
	}
	if len(s) > 60 {
		s = strings.TrimRight(s[:60], "-")
	}
	return s
}

// configTopic is the topic a sensor config names for device d.
func configTopic(d Device) string {
	if d.Format == Tasmota {
		return d.Base + "/SENSOR"
	}
	return d.Base
}

// sensorKeys returns the keys that need a sensor each: every key of a family whose
// keys are devices of their own (a Zigbee bridge's device, an MI32 or Shelly BLU
// sensor), and every other key that carried a temperature (or, for devices without
// one, a humidity); a single key of the latter needs no key in the config.
func sensorKeys(d Device) []string {
	var own, temp, hum []string
	for k, r := range d.Readings {
		if ownDevice[r.Family] {
			own = append(own, k)
		} else if _, ok := r.Values[telemetry.Temperature]; ok {
			temp = append(temp, k)
		} else if _, ok := r.Values[telemetry.Humidity]; ok {
			hum = append(hum, k)
		}
	}
	keys := temp
	if len(keys) == 0 {
		keys = hum
	}
	if len(own) == 0 && len(keys) <= 1 {
		return []string{""}
	}
	keys = append(keys, own...)
	slices.Sort(keys)
	return keys
}

// sensorSource is the config source of a format.
func sensorSource(format string) string {
	switch format {
	case Zigbee2MQTT:
		return config.SourceZigbee2MQTT
	case Tasmota:
		return config.SourceTasmota
	case ESPHome:
		return config.SourceESPHome
	case Shelly:
		return config.SourceShelly
	case Saqshy:
		return config.SourceSaqshy
	case BLE:
		return config.SourceBLE
	case ChirpStack:
		return config.SourceChirpStack
	}
	return ""
}
