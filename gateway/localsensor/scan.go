package localsensor

import (
	"context"
	"errors"
	"fmt"

	"periph.io/x/conn/v3/i2c"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Finding is one device a scan found.
type Finding struct {
	// Kind is the config source that reads it ("ds18b20", "sht3x", "sht4x",
	// "bme280"), or "" for a chip the gateway cannot read (see Detail).
	Kind string
	// Address is the device's address as [config.Sensor.Device] normalises it:
	// "28-0316a2795eff", "i2c1:0x44".
	Address string
	// Detail says what identified the chip: "serial 0x0a1b2c3d", "chip id 0x58 ...".
	Detail string
	// Sample is one reading; valid when Err is nil.
	Sample telemetry.Sample
	// Err is why the chip could not be identified or read.
	Err error
}

// ScanW1 lists the DS18B20 probes the kernel sees under root (normally
// [DefaultW1Root]) and reads each once. The error is non-nil only when root cannot
// be listed: with a missing root it wraps fs.ErrNotExist (no w1-gpio overlay).
func ScanW1(ctx context.Context, root string) ([]Finding, error) {
	names, err := ListW1(root)
	if err != nil {
		return nil, err
	}
	var fs []Finding
	for _, name := range names {
		f := Finding{Kind: config.SourceDS18B20, Address: name}
		p, err := NewW1Therm(root, name)
		if err == nil {
			f.Sample, err = p.Read(ctx)
		}
		f.Err = err
		fs = append(fs, f)
		if ctx.Err() != nil {
			break
		}
	}
	return fs, nil
}

// ScanI2C looks for the chips the gateway reads on bus, whose number busNum names
// it in addresses ("i2c1:0x44"), and reads each once: SHT4x (serial number, 0x89)
// and SHT3x (status register, 0xF32D) at 0x44 and 0x45, SHT4x at 0x46, BME280
// (chip id 0xD0 = 0x60) at 0x76 and 0x77. An address where nothing answers yields
// nothing; one where an unknown chip answers yields a Finding with an empty Kind.
// sleep nil means [Sleep].
func ScanI2C(ctx context.Context, bus i2c.Bus, busNum int, sleep SleepFunc) []Finding {
	sleep = orSleep(sleep)
	var fs []Finding
	for _, addr := range []uint16{0x44, 0x45, 0x46} {
		if ctx.Err() != nil {
			return fs
		}
		f, ok := scanSHT(ctx, bus, busNum, addr, sleep)
		if ok {
			fs = append(fs, f)
		}
	}
	for _, addr := range []uint16{0x76, 0x77} {
		if ctx.Err() != nil {
			return fs
		}
		id, err := readBMEChipID(bus, addr)
		if err != nil {
			continue // nothing there
		}
		f := Finding{Address: i2cName(busNum, addr), Detail: fmt.Sprintf("chip id %#02x", id)}
		if id != bmeChipID {
			f.Err = wrongBMEChip(id)
		} else {
			f.Kind = config.SourceBME280
			d, _ := NewBME280(bus, busNum, addr, sleep)
			f.Sample, f.Err = d.Read(ctx)
		}
		fs = append(fs, f)
	}
	return fs
}

// scanSHT tells an SHT4x from an SHT3x at addr: the SHT4x answers the one-byte
// serial number command; the SHT3x the two-byte status register read. Both
// answers carry CRCs, so a random chip is not mistaken for either.
func scanSHT(ctx context.Context, bus i2c.Bus, busNum int, addr uint16, sleep SleepFunc) (Finding, bool) {
	f := Finding{Address: i2cName(busNum, addr)}
	serial, err4 := readSHT4xSerial(ctx, bus, addr, sleep)
	if err4 == nil {
		f.Kind, f.Detail = config.SourceSHT4x, fmt.Sprintf("serial %#08x", serial)
		d, _ := NewSHT4x(bus, busNum, addr, sleep)
		f.Sample, f.Err = d.Read(ctx)
		return f, true
	}
	if ctx.Err() != nil {
		return f, false
	}
	if addr == 0x46 {
		if errors.Is(err4, ErrBus) {
			return f, false // nothing answers
		}
		f.Err = fmt.Errorf("a chip answers but is not an SHT4x: %w", err4)
		return f, true
	}
	var st [3]byte
	err3 := bus.Tx(addr, sht3xReadStatus, nil)
	if err3 == nil {
		if err3 = bus.Tx(addr, nil, st[:]); err3 == nil {
			err3 = checkWords(st[:])
		} else {
			err3 = wrapBus("read status", err3)
		}
	} else {
		err3 = wrapBus("read status", err3)
	}
	if err3 == nil {
		f.Kind, f.Detail = config.SourceSHT3x, fmt.Sprintf("status %#04x", uint16(st[0])<<8|uint16(st[1]))
		d, _ := NewSHT3x(bus, busNum, addr, sleep)
		f.Sample, f.Err = d.Read(ctx)
		return f, true
	}
	if errors.Is(err4, ErrBus) && errors.Is(err3, ErrBus) {
		return f, false // nothing answers
	}
	f.Err = fmt.Errorf("a chip answers but is neither an SHT4x (%w) nor an SHT3x (%w)", err4, err3)
	return f, true
}
