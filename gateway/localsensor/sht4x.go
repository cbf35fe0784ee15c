package localsensor

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// SHT4x facts (Sensirion SHT4x datasheet, section 4).
var (
	sht4xMeasure    = []byte{0xFD} // measure T & RH with high precision (high repeatability)
	sht4xSoftReset  = []byte{0x94}
	sht4xReadSerial = []byte{0x89}
)

const (
	sht4xMeasureWait = 10 * time.Millisecond // high repeatability: max 8.3 ms
	sht4xResetWait   = 2 * time.Millisecond  // soft reset: max 1 ms
	sht4xSerialWait  = 10 * time.Millisecond
)

// sht4xChip is the SHT4x's commands, timings and humidity formula.
var sht4xChip = sht{
	kind: "sht4x", measure: sht4xMeasure, measureWait: sht4xMeasureWait,
	reset: sht4xSoftReset, resetWait: sht4xResetWait, humidity: sht4xHumidity,
}

// SHT4x reads a Sensirion SHT4x (SHT40, SHT41, SHT45) temperature and humidity
// sensor at 0x44, 0x45 or 0x46 (by part number).
type SHT4x struct{ s sht }

// NewSHT4x returns a driver for the SHT4x at addr on bus; busNum is the bus's
// number, used in the probe's name ("i2c1:0x44"). It does no I/O. The bus stays
// the caller's. sleep nil means [Sleep].
func NewSHT4x(bus i2c.Bus, busNum int, addr uint16, sleep SleepFunc) (*SHT4x, error) {
	if addr < 0x44 || addr > 0x46 {
		return nil, fmt.Errorf("sht4x: address %#02x: the SHT4x answers at 0x44, 0x45 or 0x46", addr)
	}
	return &SHT4x{sht4xChip.on(bus, busNum, addr, sleep)}, nil
}

// String implements Probe: "i2c1:0x44".
func (d *SHT4x) String() string { return d.s.name }

// Read implements Probe: temperature and humidity, rounded to 0.01.
func (d *SHT4x) Read(ctx context.Context) (telemetry.Sample, error) {
	return readEnv(ctx, d.s.name, d.s.sense)
}

// Sense runs a high-precision measurement (0xFD), waits for it and reads both
// words, checking their CRCs. After a bus error or a CRC failure it sends a soft
// reset (0x94) and tries once more; the error then wraps [ErrCRC] or [ErrBus].
// Pressure is left zero.
func (d *SHT4x) Sense(ctx context.Context) (physic.Env, error) { return d.s.sense(ctx) }

// Serial reads the chip's 32-bit serial number (0x89).
func (d *SHT4x) Serial(ctx context.Context) (uint32, error) {
	return readSHT4xSerial(ctx, d.s.bus, d.s.addr, d.s.sleep)
}

func readSHT4xSerial(ctx context.Context, bus i2c.Bus, addr uint16, sleep SleepFunc) (uint32, error) {
	if err := bus.Tx(addr, sht4xReadSerial, nil); err != nil {
		return 0, wrapBus("read serial", err)
	}
	if err := sleep(ctx, sht4xSerialWait); err != nil {
		return 0, err
	}
	var b [6]byte
	if err := bus.Tx(addr, nil, b[:]); err != nil {
		return 0, wrapBus("read serial", err)
	}
	if err := checkWords(b[:]); err != nil {
		return 0, fmt.Errorf("serial % x: %w", b[:], err)
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[3])<<8 | uint32(b[4]), nil
}

// sht4xHumidity is RH = -6 + 125·raw/65535 %, clamped to 0..100 as the datasheet
// recommends.
func sht4xHumidity(raw uint16) physic.RelativeHumidity {
	h := -6*int64(physic.PercentRH) + int64(125*physic.PercentRH)*int64(raw)/65535
	return physic.RelativeHumidity(min(max(h, 0), int64(100*physic.PercentRH)))
}

var (
	_ Probe = (*SHT4x)(nil)
)
