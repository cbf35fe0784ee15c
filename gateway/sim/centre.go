package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// Formats a simulated device can speak, in the order NewCentre assigns them.
var Formats = []string{"zigbee2mqtt", "tasmota", "esphome", "shelly-gen1", "shelly-gen2", "saqshy"}

// Device is one simulated device with one configured sensor.
type Device struct {
	Sensor config.Sensor
	Format string // one of Formats
	Kind   string // the zone's kind

	center, spread float64 // temperature band the random walk stays in
	temp, hum      float64
	battery        float64
	// TemperatureOnly makes the device send one message per tick with only a
	// temperature (for tests that count points).
	TemperatureOnly bool
	// Offline stops the device from publishing (its availability goes offline).
	Offline bool

	incident *Incident // incident.go: now and then warm

	// Real variation (gateway/plausibility judges it): a compressor's cycle for
	// fridges, freezers and cool rooms (a triangle of period cyclePeriod and
	// half-height cycleAmp °C, phase cyclePhase), a daily swing for rooms.
	cyclePeriod, cycleAmp, cyclePhase float64
	diurnalAmp, diurnalPeak           float64
}

// cycling reports whether the zone kind is cooled by a compressor.
func cycling(kind string) bool {
	switch kind {
	case "med-fridge", "food-fridge", "freezer", "cool-room":
		return true
	}
	return false
}

// variation is the device's compressor cycle or daily swing at t, °C.
func (d *Device) variation(t time.Time) float64 {
	sec := float64(t.Unix())
	if d.cyclePeriod > 0 {
		ph := math.Mod(sec/d.cyclePeriod+d.cyclePhase, 1)
		return d.cycleAmp * (2*math.Abs(2*ph-1) - 1)
	}
	if d.diurnalAmp > 0 {
		h := math.Mod(sec/3600+5, 24) // Almaty local hour, near enough
		return d.diurnalAmp * math.Sin((h-d.diurnalPeak+6)/24*2*math.Pi)
	}
	return 0
}

// Centre is a simulated centre: its config (without mqtt/influx/spool settings,
// which the caller fills) and its devices.
type Centre struct {
	Config  *config.Config
	Devices []*Device
	Cameras []*Camera // cameras.go
	loc     *time.Location
	rng     *rand.Rand
}

// zonePlan is the demo centre's layout: ~20 zones of the kinds a centre has.
var zonePlan = []struct{ id, kind, name string }{
	{"room-101", "living", "Room 101"}, {"room-102", "living", "Room 102"},
	{"room-103", "living", "Room 103"}, {"room-104", "living", "Room 104"},
	{"room-201", "living", "Room 201"}, {"room-202", "children-bedroom", "Room 202 (children)"},
	{"treatment", "medical", "Treatment room"}, {"med-fridge", "med-fridge", "Treatment room fridge"},
	{"dining", "dining", "Dining hall"}, {"kitchen", "kitchen", "Kitchen"},
	{"food-fridge", "food-fridge", "Kitchen chiller"}, {"freezer", "freezer", "Kitchen freezer"},
	{"play", "play", "Play room"}, {"activity", "activity", "Activity room"},
	{"corridor-1", "corridor", "Corridor, floor 1"}, {"corridor-2", "corridor", "Corridor, floor 2"},
	{"entrance", "entrance", "Main entrance"}, {"boiler", "boiler", "Boiler outlet"},
	{"bath-1", "bathroom", "Bathroom, floor 1"}, {"cool-room", "cool-room", "Cool room"},
}

// band returns the centre and spread of a zone kind's simulated temperature.
func band(kind string) (float64, float64) {
	switch kind {
	case "med-fridge":
		return 5, 1.2
	case "food-fridge":
		return 3, 1
	case "freezer":
		return -20, 1
	case "boiler", "hot-water":
		return 62, 1.5
	case "corridor", "entrance":
		return 19, 1
	case "bathroom":
		return 25.5, 1
	case "kitchen":
		return 23, 1.5
	default:
		return 21, 1
	}
}

func hasHumidity(kind string) bool {
	switch kind {
	case "med-fridge", "food-fridge", "freezer", "boiler", "hot-water":
		return false
	}
	return true
}

// NewCentre returns the demo centre: ~20 zones, one sensor each, formats in turn,
// and 11 Frigate cameras, two of them flaky.
func NewCentre(id string, seed uint64) *Centre {
	c := newCentre(id, seed)
	for i, z := range zonePlan {
		c.Config.Zones = append(c.Config.Zones, config.Zone{ID: z.id, Kind: z.kind, Name: z.name})
		c.addDevice(fmt.Sprintf("%s-t", z.id), z.id, z.kind, Formats[i%len(Formats)], false)
	}
	c.addCameras()
	return c
}

// NewRealisticCentre returns the demo centre with a second sensor in each of its
// zones: 40 sensors in the six formats, each at its firmware's default interval, and
// the 11 cameras (the realistic centre of docs/BENCHMARKS.md).
func NewRealisticCentre(id string, seed uint64) *Centre {
	c := NewCentre(id, seed)
	for i, z := range c.Config.Zones {
		c.AddDevice(z.ID+"-2", z.ID, Formats[(i+3)%len(Formats)])
	}
	return c
}

// NewFleet returns a centre with perFormat sensors of each of the five network
// sources (Shelly as gen2), each in a zone of its own, every device sending exactly
// one message with one temperature per tick: for tests and benchmarks that count.
func NewFleet(id string, perFormat int, seed uint64) *Centre {
	c := newCentre(id, seed)
	formats := []string{"zigbee2mqtt", "tasmota", "esphome", "shelly-gen2", "saqshy"}
	for _, f := range formats {
		for i := range perFormat {
			zone := fmt.Sprintf("%s-%d", shortName(f), i)
			c.Config.Zones = append(c.Config.Zones, config.Zone{ID: zone, Kind: "living", Name: zone})
			c.addDevice(zone+"-t", zone, "living", f, true)
		}
	}
	return c
}

func shortName(format string) string {
	switch format {
	case "zigbee2mqtt":
		return "z2m"
	case "shelly-gen1", "shelly-gen2":
		return "shelly"
	}
	return format
}

func newCentre(id string, seed uint64) *Centre {
	cfg := config.Default()
	cfg.Centre = config.Centre{ID: id, Name: "Simulated centre " + id, Timezone: "Asia/Almaty"}
	cfg.ApplyDefaults()
	return &Centre{Config: cfg, loc: cfg.Centre.Location, rng: rand.New(rand.NewPCG(seed, seed^0x5a5a))}
}

func (c *Centre) addDevice(sensorID, zone, kind, format string, tempOnly bool) {
	s := config.Sensor{ID: sensorID, Zone: zone}
	switch format {
	case "zigbee2mqtt":
		s.Source, s.Topic = "zigbee2mqtt", "zigbee2mqtt/"+sensorID
	case "tasmota":
		s.Source, s.Topic = "tasmota", "tele/"+sensorID+"/SENSOR"
	case "esphome":
		s.Source, s.Topic = "esphome", sensorID
	case "shelly-gen1":
		s.Source, s.Topic = "shelly", "shellies/shellyht-"+sensorID
	case "shelly-gen2":
		s.Source, s.Topic = "shelly", "shellyplusht-"+sensorID
	case "saqshy":
		s.Source = "saqshy"
	}
	s.Interval = config.Duration(config.DefaultInterval(s.Source))
	center, spread := band(kind)
	d := &Device{Sensor: s, Format: format, Kind: kind, center: center, spread: spread, TemperatureOnly: tempOnly}
	d.temp = center + (c.rng.Float64()*2-1)*spread/2
	switch {
	case cycling(kind):
		d.cyclePeriod = (20 + c.rng.Float64()*35) * 60 // 20–55 min
		d.cycleAmp = 0.4 + c.rng.Float64()*0.5         // 0.8–1.8 °C peak to peak
		d.cyclePhase = c.rng.Float64()
		d.spread = spread * 0.3 // the cycle is most of a fridge's variation
	case kind != "boiler" && kind != "hot-water":
		d.diurnalAmp = 0.4 + c.rng.Float64()*0.8 // rooms warm by day
		d.diurnalPeak = 14 + c.rng.Float64()*4
	}
	if hasHumidity(kind) {
		d.hum = 40 + c.rng.Float64()*10
	}
	switch format {
	case "zigbee2mqtt", "shelly-gen1", "shelly-gen2", "saqshy":
		d.battery = 60 + c.rng.Float64()*40
	}
	c.Config.Sensors = append(c.Config.Sensors, s)
	c.Devices = append(c.Devices, d)
}

// base returns the device's base topic (as config.Sensor.Device does).
func (c *Centre) base(d *Device) string {
	if d.Format == "saqshy" {
		return "saqshy/" + c.Config.Centre.ID + "/sensor/" + d.Sensor.ID
	}
	if d.Format == "tasmota" {
		return d.Sensor.Topic[:len(d.Sensor.Topic)-len("/SENSOR")]
	}
	return d.Sensor.Topic
}

// reading advances the device's random walk and returns the new reading at t: the
// walk plus the device's compressor cycle or daily swing.
func (c *Centre) reading(d *Device, t time.Time) Reading {
	d.temp += (c.rng.Float64()*2 - 1) * d.spread * 0.1
	d.temp += (d.center - d.temp) * 0.05 // pull back to the band
	r := Reading{TemperatureC: math.Round((d.temp+d.variation(t))*100) / 100}
	if d.TemperatureOnly {
		return r
	}
	if d.hum > 0 {
		d.hum = min(max(d.hum+(c.rng.Float64()*2-1)*0.5, 20), 80)
		r.HumidityPct = math.Round(d.hum*10) / 10
	}
	if d.battery > 0 {
		d.battery = max(d.battery-0.001, 5)
		r.BatteryPct = math.Round(d.battery)
	}
	if d.Format == "zigbee2mqtt" {
		r.LinkQuality = float64(80 + c.rng.IntN(100))
	}
	return r
}

// Tick returns one round of messages: a reading from every online device, stamped t.
// With TemperatureOnly devices it returns exactly one message per device.
func (c *Centre) Tick(t time.Time) []Message {
	var msgs []Message
	for _, d := range c.Devices {
		if d.Offline {
			continue
		}
		r := c.reading(d, t)
		if d.incident != nil && d.incident.Active(t) {
			r.TemperatureC = d.incident.temperature(t)
		}
		msgs = append(msgs, c.Message(d, r, t)...)
	}
	return msgs
}

// AddDevice adds a sensor in an existing zone of the centre, speaking format (one
// of Formats), and returns its device: for a centre with more than one sensor per
// zone. It panics on a zone the centre does not have.
func (c *Centre) AddDevice(sensorID, zone, format string) *Device {
	kind := c.Config.KindByZone()[zone]
	if kind == "" {
		panic("sim: AddDevice: no zone " + zone)
	}
	c.addDevice(sensorID, zone, kind, format, false)
	return c.Devices[len(c.Devices)-1]
}

// DeviceTick advances one device's reading and returns what it publishes at t (none
// when it is offline): for a simulation where each device keeps its own interval.
func (c *Centre) DeviceTick(d *Device, t time.Time) []Message {
	if d.Offline {
		return nil
	}
	r := c.reading(d, t)
	if d.incident != nil && d.incident.Active(t) {
		r.TemperatureC = d.incident.temperature(t)
	}
	return c.Message(d, r, t)
}

// Message returns what device d publishes for reading r at time t.
func (c *Centre) Message(d *Device, r Reading, t time.Time) []Message {
	base := c.base(d)
	switch d.Format {
	case "zigbee2mqtt":
		return []Message{Zigbee2MQTT(base, r, t)}
	case "tasmota":
		name := "AM2301"
		if r.HumidityPct == 0 {
			name = "DS18B20"
		}
		return []Message{Tasmota(base, name, r, t, c.loc)}
	case "esphome":
		return ESPHome(base, r)
	case "shelly-gen1":
		return ShellyGen1(base, r)
	case "shelly-gen2":
		return []Message{ShellyGen2(base, r, t)}
	default:
		return []Message{Saqshy(base, r, t)}
	}
}

// Availability returns every device's retained availability message.
func (c *Centre) Availability() []Message {
	var msgs []Message
	for _, d := range c.Devices {
		base, on := c.base(d), !d.Offline
		switch d.Format {
		case "zigbee2mqtt":
			msgs = append(msgs, Zigbee2MQTTAvailability(base, on))
		case "tasmota":
			msgs = append(msgs, TasmotaLWT(base, on))
		case "esphome":
			msgs = append(msgs, ESPHomeStatus(base, on))
		case "shelly-gen1", "shelly-gen2":
			msgs = append(msgs, ShellyOnline(base, on))
		default:
			msgs = append(msgs, SaqshyStatus(base, on))
		}
	}
	return msgs
}

// Publisher sends one message; paho's client fits through a small adapter (see
// PahoPublisher).
type Publisher interface {
	Publish(ctx context.Context, m Message) error
}

// Run publishes the availability messages, then a tick every period, until ctx ends.
// It returns nil on cancellation.
func (c *Centre) Run(ctx context.Context, pub Publisher, period time.Duration) error {
	for _, m := range append(c.Availability(), c.CameraAvailability()...) {
		if err := pub.Publish(ctx, m); err != nil {
			return fmt.Errorf("sim: publish %s: %w", m.Topic, err)
		}
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		now := time.Now()
		for _, m := range append(c.Tick(now), c.CameraTick(now)...) {
			if err := pub.Publish(ctx, m); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("sim: publish %s: %w", m.Topic, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// History calls f with what the centre published at each step of [from, to): each
// device's reading once its sensor's interval has passed since its last (the first
// ones spread over the interval), and the cameras' stats every step (Frigate sends
// them every minute). It advances the devices as Tick does, so that a live run
// goes on from where the past ended. It stops at f's first error.
func (c *Centre) History(from, to time.Time, step time.Duration, f func(t time.Time, msgs []Message) error) error {
	next := make([]time.Time, len(c.Devices))
	for i, d := range c.Devices {
		iv := max(d.Sensor.Interval.Std(), step)
		next[i] = from.Add(time.Duration(i) * step % iv)
	}
	var msgs []Message
	for t := from; t.Before(to); t = t.Add(step) {
		msgs = msgs[:0]
		for i, d := range c.Devices {
			if t.Before(next[i]) {
				continue
			}
			next[i] = next[i].Add(max(d.Sensor.Interval.Std(), step))
			msgs = append(msgs, c.DeviceTick(d, t)...)
		}
		msgs = append(msgs, c.CameraTick(t)...)
		if err := f(t, msgs); err != nil {
			return err
		}
	}
	return nil
}
