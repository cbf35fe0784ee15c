package localsensor

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// SHT3x facts (Sensirion SHT3x-DIS datasheet, section 4).
var (
	sht3xMeasure    = []byte{0x24, 0x00} // single shot, high repeatability, clock stretching disabled
	sht3xSoftReset  = []byte{0x30, 0xA2}
	sht3xReadStatus = []byte{0xF3, 0x2D}
)

const (
	sht3xMeasureWait = 16 * time.Millisecond // t_MEAS high repeatability: max 15 ms
	sht3xResetWait   = 2 * time.Millisecond  // t_SR: max 1.5 ms
)

// sht3xChip is the SHT3x's commands, timings and humidity formula.
var sht3xChip = sht{
	kind: "sht3x", measure: sht3xMeasure, measureWait: sht3xMeasureWait,
	reset: sht3xSoftReset, resetWait: sht3xResetWait, humidity: sht3xHumidity,
}

// SHT3x reads a Sensirion SHT3x (SHT30, SHT31, SHT35) temperature and humidity
// sensor at 0x44 or 0x45.
type SHT3x struct{ s sht }

// NewSHT3x returns a driver for the SHT3x at addr on bus; busNum is the bus's
// number, used in the probe's name ("i2c1:0x44"). It does no I/O. The bus stays
// the caller's. sleep nil means [Sleep].
func NewSHT3x(bus i2c.Bus, busNum int, addr uint16, sleep SleepFunc) (*SHT3x, error) {
	if addr != 0x44 && addr != 0x45 {
		return nil, fmt.Errorf("sht3x: address %#02x: the SHT3x answers at 0x44 or 0x45", addr)
	}
	return &SHT3x{sht3xChip.on(bus, busNum, addr, sleep)}, nil
}

// String implements Probe: "i2c1:0x44".
func (d *SHT3x) String() string { return d.s.name }

// Read implements Probe: temperature and humidity, rounded to 0.01.
func (d *SHT3x) Read(ctx context.Context) (telemetry.Sample, error) {
	return readEnv(ctx, d.s.name, d.s.sense)
}

// Sense runs a single-shot high-repeatability measurement (0x2400), waits for it
// and reads both words, checking their CRCs. After a bus error or a CRC failure it
// sends a soft reset (0x30A2) and tries once more; the error then wraps [ErrCRC]
// or [ErrBus]. Pressure is left zero.
func (d *SHT3x) Sense(ctx context.Context) (physic.Env, error) { return d.s.sense(ctx) }

// sht3xHumidity is RH = 100·raw/65535 %.
func sht3xHumidity(raw uint16) physic.RelativeHumidity {
	return physic.RelativeHumidity(int64(100*physic.PercentRH) * int64(raw) / 65535)
}

var (
	_ Probe = (*SHT3x)(nil)
)
