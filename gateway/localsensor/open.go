package localsensor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/onewire"

	"github.com/saqshy/saqshy/gateway/config"
)

// Deps are what [Open] needs to reach the buses. The zero value opens DS18B20
// probes through the kernel's sysfs files under [DefaultW1Root] and cannot open
// I²C sensors.
type Deps struct {
	// W1Root is the kernel's 1-Wire device directory; "" means [DefaultW1Root].
	W1Root string
	// OneWire, when set, reads DS18B20 probes through this bus (for instance a
	// DS2482 bridge) instead of sysfs. The caller owns and closes it.
	OneWire onewire.Bus
	// Resolution of DS18B20 probes read through OneWire whose config.Sensor sets
	// none, 9 to 12 bits; 0 keeps each probe's own setting. (Through sysfs only a
	// sensor's own resolution is written; otherwise the kernel decides.)
	Resolution int
	// OpenI2C returns the I²C bus with the given number ("1" for /dev/i2c-1). Open
	// calls it once per I²C sensor: it should return the same bus for the same
	// number. The caller owns the buses and closes them after the Poller stops.
	// nil: I²C sensors cannot be opened.
	OpenI2C func(bus string) (i2c.Bus, error)
	// Sleep waits for conversions; nil means [Sleep].
	Sleep SleepFunc
}

// Open returns the probe for a sensor wired to the Pi (s.Local()). It does no I/O
// on the sensor itself, only opens its bus, so a sensor that is unplugged now is
// read once it is plugged in. A DS18B20's s.Resolution (or deps.Resolution on a
// OneWire bus) is set by its first read.
func Open(s config.Sensor, deps Deps) (Probe, error) {
	dev := s.Device()
	switch s.Source {
	case config.SourceDS18B20:
		if deps.OneWire != nil {
			addr, err := ParseW1Address(dev)
			if err != nil {
				return nil, fmt.Errorf("ds18b20: %w", err)
			}
			res := s.Resolution
			if res == 0 {
				res = deps.Resolution
			}
			return probeOrNil(NewDS18B20(deps.OneWire, addr, DS18B20Opts{Resolution: res, Sleep: deps.Sleep}))
		}
		root := deps.W1Root
		if root == "" {
			root = DefaultW1Root
		}
		p, err := NewW1Therm(root, dev)
		if err == nil {
			err = p.SetResolution(s.Resolution)
		}
		return probeOrNil(p, err)
	case config.SourceSHT3x, config.SourceSHT4x, config.SourceBME280:
		busNum, addr, err := parseI2CDevice(dev)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Source, err)
		}
		if deps.OpenI2C == nil {
			return nil, fmt.Errorf("%s %s: no I²C bus available", s.Source, dev)
		}
		bus, err := deps.OpenI2C(strconv.Itoa(busNum))
		if err != nil {
			return nil, fmt.Errorf("%s %s: open I²C bus %d: %w", s.Source, dev, busNum, err)
		}
		switch s.Source {
		case config.SourceSHT3x:
			return probeOrNil(NewSHT3x(bus, busNum, addr, deps.Sleep))
		case config.SourceSHT4x:
			return probeOrNil(NewSHT4x(bus, busNum, addr, deps.Sleep))
		default:
			return probeOrNil(NewBME280(bus, busNum, addr, deps.Sleep))
		}
	}
	return nil, fmt.Errorf("sensor source %q is not wired to the Pi", s.Source)
}

// probeOrNil keeps a typed nil pointer out of the Probe returned with an error.
func probeOrNil[P Probe](p P, err error) (Probe, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Targets opens every local sensor of sensors (the others are skipped) and pairs
// it with its interval (s.Interval, or [config.DefaultInterval]). Sensors that
// cannot be opened are left out and reported together in the error, each as
// "sensor ID: ..."; the targets returned are still usable.
func Targets(sensors []config.Sensor, deps Deps) ([]Target, error) {
	var ts []Target
	var errs []error
	for _, s := range sensors {
		if !s.Local() {
			continue
		}
		p, err := Open(s, deps)
		if err != nil {
			errs = append(errs, fmt.Errorf("sensor %s: %w", s.ID, err))
			continue
		}
		every := s.Interval.Std()
		if every <= 0 {
			every = config.DefaultInterval(s.Source)
		}
		ts = append(ts, Target{Probe: p, Interval: every})
	}
	return ts, errors.Join(errs...)
}

// parseI2CDevice parses a normalised I²C address, "i2c1:0x44".
func parseI2CDevice(dev string) (bus int, addr uint16, err error) {
	b, a, ok := strings.Cut(dev, ":")
	if ok && strings.HasPrefix(b, "i2c") && strings.HasPrefix(a, "0x") {
		n, err1 := strconv.Atoi(b[3:])
		v, err2 := strconv.ParseUint(a[2:], 16, 7)
		if err1 == nil && err2 == nil && n >= 0 {
			return n, uint16(v), nil
		}
	}
	return 0, 0, fmt.Errorf("invalid I²C address %q: want 0x44 or i2c1:0x44", dev)
}
