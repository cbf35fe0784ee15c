package readings

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/decode"
	"github.com/saqshy/saqshy/gateway/mqttsrc"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// MaxSkew is how far a payload's own time may be from a synchronised gateway clock
// before the gateway's receive time replaces it.
const MaxSkew = 2 * time.Minute

// target is one configured sensor a device's samples may resolve to.
type target struct {
	sensor, zone, zoneKind, source, key string
}

// device is one configured device base topic with its decoder and sensors.
type device struct {
	source  string
	decode  decode.Func
	targets []target
}

// router maps MQTT topics to devices and resolves decoded samples to events.
type router struct {
	devices  map[string]*device // by base topic (telemetry.Sample.Device)
	topics   []string           // subscription filters
	counters *Counters
	clock    check.Clock
	// claimed reports whether a check reads the topic; such a topic with no sensor on
	// it is not counted as unmapped.
	claimed func(topic string) bool
	// floor and lastGood bound payload times while the clock is unsynchronised: the
	// build date, and the last arrival time (Unix ns) stamped by a synchronised clock.
	floor    time.Time
	lastGood atomic.Int64
	// units are the units ESPHome nodes declare in Home Assistant discovery.
	units declaredUnits
	// bthome knows what the Shelly BLU sensors measure.
	bthome *bthomeQuantities
	// from is, for each event the last route returned, the index of its message.
	from []int
}

// subscriptions returns the topic filters a device of source needs under base.
func subscriptions(source, base string) []string {
	switch source {
	case "zigbee2mqtt":
		return []string{base, base + "/+"} // availability, and attributes with output: attribute
	case "tasmota":
		return []string{base + "/SENSOR", base + "/LWT", base + "/RESULT"} // RESULT: ZbReceived
	case "ble":
		return []string{base}
	case "chirpstack":
		return []string{base + "/event/up", base + "/event/status"}
	case "esphome":
		return []string{base + "/sensor/+/state", base + "/status"}
	case "shelly":
		return []string{
			base + "/sensor/+", base + "/ext_temperature/+", base + "/ext_humidity/+", base + "/online",
			base + "/events/rpc", base + "/status/+",
		}
	case "saqshy":
		return []string{base + "/state", base + "/status"}
	}
	return nil
}

func newRouter(cfg *config.Config, counters *Counters, clock check.Clock) (*router, error) {
	kinds := cfg.KindByZone()
	r := &router{devices: map[string]*device{}, counters: counters, clock: clock, floor: decode.BuildFloor(),
		bthome: newBTHomeQuantities()}
	for _, s := range cfg.Sensors {
		r.bthome.add(s)
	}
	slices.Sort(r.bthome.devices)
	for _, dev := range r.bthome.devices {
		r.topics = append(r.topics, decode.ShellyReplyTopic(dev))
	}
	decoders := map[string]decode.Func{}
	for _, s := range cfg.Sensors {
		if s.Local() {
			// Wired to the Pi: no topic and no decoder; the local poller's samples
			// carry the normalised address as their device.
			base := s.Device()
			d := r.devices[base]
			if d == nil {
				d = &device{source: s.Source}
				r.devices[base] = d
			}
			d.targets = append(d.targets, target{sensor: s.ID, zone: s.Zone, zoneKind: kinds[s.Zone], source: s.Source, key: s.Key})
			continue
		}
		dec, ok := decoders[s.Source]
		if !ok {
			var err error
			if s.Source == config.SourceShelly {
				dec, err = decode.NewShelly(cfg.Centre.Location, r.bthome)
			} else {
				dec, err = decode.New(s.Source, cfg.Centre.Location)
			}
			if err != nil {
				return nil, fmt.Errorf("sensor %s: %w", s.ID, err)
			}
			decoders[s.Source] = dec
		}
		base := s.Device()
		d := r.devices[base]
		if d == nil {
			d = &device{source: s.Source, decode: dec}
			r.devices[base] = d
			r.topics = append(r.topics, subscriptions(s.Source, base)...)
		} else if d.source != s.Source {
			return nil, fmt.Errorf("sensor %s: topic %q is already used by a %s sensor", s.ID, base, d.source)
		}
		d.targets = append(d.targets, target{sensor: s.ID, zone: s.Zone, zoneKind: kinds[s.Zone], source: s.Source, key: s.Key})
	}
	for _, s := range cfg.Sensors {
		if s.Source == config.SourceESPHome {
			r.topics = append(r.topics, discoveryFilters...)
			break
		}
	}
	slices.Sort(r.topics)
	r.topics = slices.Compact(r.topics)
	return r, nil
}

// lookup finds the device a topic belongs to: the topic itself, or the topic with
// one to three trailing segments removed (availability, SENSOR, sensor/x/state ...).
func (r *router) lookup(topic string) *device {
	t := topic
	for range 4 {
		if d := r.devices[t]; d != nil {
			return d
		}
		i := strings.LastIndexByte(t, '/')
		if i <= 0 {
			return nil
		}
		t = t[:i]
	}
	return nil
}

// route decodes msgs and appends the resulting events to dst.
func (r *router) route(dst []telemetry.Event, msgs []mqttsrc.Message) []telemetry.Event {
	synced := r.clock.Synced()
	r.from = r.from[:0]
	for i := range msgs {
		for len(r.from) < len(dst) {
			r.from = append(r.from, i-1) // the previous message's events
		}
		m := &msgs[i]
		if isDiscovery(m.Topic) {
			if err := r.units.learn(m.Topic, m.Payload); err != nil && telemetry.Reason(err) != "empty" {
				r.counters.reject("homeassistant", telemetry.Reason(err), m.Topic, err)
			}
			continue
		}
		if dev, ok := decode.ShellyReplyDevice(m.Topic); ok && len(r.bthome.devices) > 0 {
			// A Shelly device's answer: what its BLU sensors measure.
			if err := r.bthome.learn(dev, m.Payload); err != nil {
				r.counters.reject(config.SourceShelly, telemetry.Reason(err), m.Topic, err)
			} else {
				r.counters.count(config.SourceShelly, "components")
			}
			continue
		}
		d := r.lookup(m.Topic)
		if d == nil || d.decode == nil {
			if r.claimed != nil && r.claimed(m.Topic) {
				continue
			}
			r.counters.reject("unknown", "unmapped_topic", m.Topic, nil)
			continue
		}
		samples, err := d.decode(m.Topic, m.Payload)
		if errors.Is(err, telemetry.ErrIgnored) {
			r.counters.count(d.source, "ignored")
			continue
		}
		var extra telemetry.Flags
		if p := telemetry.AsPartial(err); p != nil {
			// Keep every good field; count and name each bad one.
			for _, b := range p.Bad {
				r.counters.reject(d.source, b.Reason, m.Topic, b)
			}
			if p.TimeBad() {
				extra |= telemetry.TimeFallback
			}
			err = nil
		}
		if err != nil {
			r.counters.reject(d.source, telemetry.Reason(err), m.Topic, err)
			continue
		}
		if d.source == config.SourceESPHome {
			r.units.apply(m.Topic, samples) // a sensor the node declares in °F
		}
		r.counters.count(d.source, "decoded")
		for _, s := range samples {
			n := len(dst)
			dst = r.resolve(dst, d, m, s, synced)
			for i := n; i < len(dst); i++ {
				dst[i].Flags |= extra
			}
		}
	}
	for len(r.from) < len(dst) {
		r.from = append(r.from, len(msgs)-1)
	}
	return dst
}

// local resolves samples from sensors wired to the Pi. Their time is the gateway's
// own clock at the read (not a device's), so it is taken as the arrival time.
func (r *router) local(dst []telemetry.Event, samples []telemetry.Sample) []telemetry.Event {
	synced := r.clock.Synced()
	for _, s := range samples {
		d := r.devices[s.Device]
		if d == nil || d.decode != nil {
			r.counters.reject("local", "unmapped_device", s.Device, nil)
			continue
		}
		m := &mqttsrc.Message{Received: s.Time}
		if m.Received.IsZero() {
			m.Received = r.clock.Now()
		}
		s.Time = time.Time{}
		r.counters.count(d.source, "decoded")
		dst = r.resolve(dst, d, m, s, synced)
	}
	return dst
}

func (r *router) resolve(dst []telemetry.Event, d *device, m *mqttsrc.Message, s telemetry.Sample, synced bool) []telemetry.Event {
	if dd := r.devices[s.Device]; dd != nil {
		d = dd
	}
	online := len(s.Values) == 1 && s.Values[0].Metric == telemetry.Online
	var flags telemetry.Flags
	t := m.Received
	if !s.Time.IsZero() && !synced {
		// The arrival time cannot judge the payload's time: bound it by the build
		// date and the last known good time instead.
		b := decode.TimeBounds{Floor: r.floor, LastGood: time.Unix(0, r.lastGood.Load())}
		if r.lastGood.Load() == 0 {
			b.LastGood = time.Time{}
		}
		if err := b.Check(s.Time); err != nil {
			r.counters.reject(d.source, telemetry.Reason(err), m.Topic, err)
			s.Time = time.Time{}
			flags |= telemetry.TimeFallback
		}
	} else if synced && !m.Received.IsZero() {
		r.lastGood.Store(m.Received.UnixNano())
	}
	switch {
	case !s.Time.IsZero() && synced && absDur(s.Time.Sub(m.Received)) > MaxSkew:
		flags |= telemetry.ClockSkew
	case !s.Time.IsZero():
		t = s.Time
		flags |= telemetry.DeviceTime
	}
	if !synced {
		flags |= telemetry.ClockUnsynced
	}
	if m.Retained {
		flags |= telemetry.Retained
		if !online && !flags.Has(telemetry.DeviceTime) {
			r.counters.count(d.source, "retained_stale")
			return dst
		}
	}
	if m.Duplicate {
		flags |= telemetry.Replayed
	}
	matched := false
	for _, tg := range d.targets {
		if tg.key != "" && s.Key != "" && tg.key != s.Key {
			continue
		}
		matched = true
		dst = append(dst, telemetry.Event{
			Time: t, Sensor: tg.sensor, Zone: tg.zone, ZoneKind: tg.zoneKind, Source: tg.source,
			Values: s.Values, Flags: flags,
		})
	}
	if !matched {
		r.counters.reject(d.source, "unmapped_key", m.Topic+" key "+s.Key, nil)
	}
	return dst
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
