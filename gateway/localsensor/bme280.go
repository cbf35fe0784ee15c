package localsensor

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// BME280 registers and values (Bosch BST-BME280-DS002, section 5).
const (
	bmeRegChipID   = 0xD0
	bmeRegReset    = 0xE0
	bmeRegCalib00  = 0x88 // 0x88..0xA1: T1..T3, P1..P9, (0xA0), H1
	bmeRegCalib26  = 0xE1 // 0xE1..0xE7: H2..H6
	bmeRegCtrlHum  = 0xF2
	bmeRegStatus   = 0xF3
	bmeRegCtrlMeas = 0xF4
	bmeRegData     = 0xF7 // 0xF7..0xFE: press[3], temp[3], hum[2]

	bmeChipID     = 0x60
	bmeResetValue = 0xB6
	bmeStatusMeas = 1 << 3 // measuring
	bmeStatusNVM  = 1 << 0 // im_update: NVM data being copied

	// Oversampling ×1 for each quantity, forced mode: osrs_t=001 osrs_p=001 mode=01.
	bmeCtrlHum  = 0x01
	bmeCtrlMeas = 1<<5 | 1<<2 | 1

	// Appendix B: t_measure,max = 1.25 + 2.3·1 + (2.3·1 + 0.575) + (2.3·1 + 0.575) ms = 9.3 ms.
	bmeMeasureWait = 10 * time.Millisecond
	bmeStartupWait = 2 * time.Millisecond // t_startup after a soft reset
	bmePollWait    = 2 * time.Millisecond
	bmePolls       = 5

	bmeSkippedTP = 0x80000 // value of a temperature or pressure measurement that was skipped
	bmeSkippedH  = 0x8000
)

// bmeChips names the chip ids that answer at 0x76/0x77 but are not a BME280.
var bmeChips = map[byte]string{
	0x55: "BMP180", 0x56: "BMP280 (sample)", 0x57: "BMP280 (sample)", 0x58: "BMP280 (no humidity sensor)",
	0x61: "BME680", 0x50: "BMP388/BMP390",
}

// BME280 reads a Bosch BME280 temperature, humidity and pressure sensor at 0x76 or
// 0x77 in forced mode: one measurement per Read, the chip asleep in between.
type BME280 struct {
	bus   i2c.Bus
	addr  uint16
	name  string
	sleep SleepFunc
	cal   *bme280Calib // nil until read; reset to nil after a failure
}

// NewBME280 returns a driver for the BME280 at addr on bus; busNum is the bus's
// number, used in the probe's name ("i2c1:0x76"). It does no I/O: the first Read
// checks the chip id, resets the chip and reads its calibration. The bus stays the
// caller's. sleep nil means [Sleep].
func NewBME280(bus i2c.Bus, busNum int, addr uint16, sleep SleepFunc) (*BME280, error) {
	if addr != 0x76 && addr != 0x77 {
		return nil, fmt.Errorf("bme280: address %#02x: the BME280 answers at 0x76 or 0x77", addr)
	}
	return &BME280{bus: bus, addr: addr, name: i2cName(busNum, addr), sleep: orSleep(sleep)}, nil
}

// String implements Probe: "i2c1:0x76".
func (d *BME280) String() string { return d.name }

// Read implements Probe: temperature and humidity, rounded to 0.01. The pressure
// is measured but not part of the sample (see [BME280.Sense]).
func (d *BME280) Read(ctx context.Context) (telemetry.Sample, error) {
	return readEnv(ctx, d.name, d.Sense)
}

// Sense measures temperature, pressure and humidity once (forced mode, ×1
// oversampling, no filter) and compensates them with the datasheet's integer
// formulas. The first call checks the chip id (0xD0 = 0x60), soft-resets the chip
// (0xE0 ← 0xB6) and reads its calibration. After a bus error it does all that again
// and measures once more.
//
// Errors wrap [ErrWrongChip] (another chip answers, such as a BMP280),
// [ErrBus], or [ErrBadData] (a skipped measurement, a chip that stays busy).
func (d *BME280) Sense(ctx context.Context) (physic.Env, error) {
	return senseRetried(ctx, d.senseOnce, func(context.Context) error {
		d.cal = nil // the next attempt checks the chip id, resets it and reads the calibration
		return nil
	})
}

func (d *BME280) senseOnce(ctx context.Context) (physic.Env, error) {
	if d.cal == nil {
		if err := d.init(ctx); err != nil {
			return physic.Env{}, err
		}
	}
	e, err := d.measure(ctx)
	if err != nil {
		d.cal = nil
	}
	return e, err
}

// init checks the chip id, soft-resets the chip and reads the calibration.
func (d *BME280) init(ctx context.Context) error {
	id, err := readBMEChipID(d.bus, d.addr)
	if err != nil {
		return fmt.Errorf("bme280 %s: %w", d.name, err)
	}
	if id != bmeChipID {
		return fmt.Errorf("bme280 %s: %w", d.name, wrongBMEChip(id))
	}
	if err := d.bus.Tx(d.addr, []byte{bmeRegReset, bmeResetValue}, nil); err != nil {
		return fmt.Errorf("bme280 %s: %w", d.name, wrapBus("soft reset", err))
	}
	if err := d.sleep(ctx, bmeStartupWait); err != nil {
		return err
	}
	if err := d.waitStatus(ctx, bmeStatusNVM); err != nil {
		return err
	}
	var c0 [26]byte
	var c1 [7]byte
	if err := d.bus.Tx(d.addr, []byte{bmeRegCalib00}, c0[:]); err != nil {
		return fmt.Errorf("bme280 %s: %w", d.name, wrapBus("read calibration", err))
	}
	if err := d.bus.Tx(d.addr, []byte{bmeRegCalib26}, c1[:]); err != nil {
		return fmt.Errorf("bme280 %s: %w", d.name, wrapBus("read calibration", err))
	}
	cal := newBME280Calib(&c0, &c1)
	if cal.t1 == 0 || cal.p1 == 0 {
		return fmt.Errorf("bme280 %s: calibration % x % x: %w", d.name, c0[:], c1[:], ErrBadData)
	}
	d.cal = &cal
	return nil
}

func readBMEChipID(bus i2c.Bus, addr uint16) (byte, error) {
	var id [1]byte
	if err := bus.Tx(addr, []byte{bmeRegChipID}, id[:]); err != nil {
		return 0, wrapBus("read chip id", err)
	}
	return id[0], nil
}

func wrongBMEChip(id byte) error {
	if name, ok := bmeChips[id]; ok {
		return fmt.Errorf("chip id %#02x is a %s, not a BME280 (0x60): %w", id, name, ErrWrongChip)
	}
	return fmt.Errorf("chip id %#02x, not a BME280 (0x60): %w", id, ErrWrongChip)
}

// waitStatus polls the status register until the bits in mask are clear.
func (d *BME280) waitStatus(ctx context.Context, mask byte) error {
	var st [1]byte
	for i := range bmePolls {
		if i > 0 {
			if err := d.sleep(ctx, bmePollWait); err != nil {
				return err
			}
		}
		if err := d.bus.Tx(d.addr, []byte{bmeRegStatus}, st[:]); err != nil {
			return fmt.Errorf("bme280 %s: %w", d.name, wrapBus("read status", err))
		}
		if st[0]&mask == 0 {
			return nil
		}
	}
	return fmt.Errorf("bme280 %s: still busy (status %#02x): %w", d.name, st[0], ErrBadData)
}

// measure starts a forced-mode measurement, waits for it and compensates it.
func (d *BME280) measure(ctx context.Context) (physic.Env, error) {
	// ctrl_hum takes effect only after a write to ctrl_meas, so it goes first;
	// both go in one transaction as address/data pairs (section 6.2.1).
	if err := d.bus.Tx(d.addr, []byte{bmeRegCtrlHum, bmeCtrlHum, bmeRegCtrlMeas, bmeCtrlMeas}, nil); err != nil {
		return physic.Env{}, fmt.Errorf("bme280 %s: %w", d.name, wrapBus("start measurement", err))
	}
	if err := d.sleep(ctx, bmeMeasureWait); err != nil {
		return physic.Env{}, err
	}
	if err := d.waitStatus(ctx, bmeStatusMeas); err != nil {
		return physic.Env{}, err
	}
	var b [8]byte
	if err := d.bus.Tx(d.addr, []byte{bmeRegData}, b[:]); err != nil {
		return physic.Env{}, fmt.Errorf("bme280 %s: %w", d.name, wrapBus("read measurement", err))
	}
	e, err := d.cal.convert(&b)
	if err != nil {
		return physic.Env{}, fmt.Errorf("bme280 %s: measurement % x: %w", d.name, b[:], err)
	}
	return e, nil
}

// bme280Calib holds the trimming parameters (section 4.2.2, table 16).
type bme280Calib struct {
	t1                             uint16
	t2, t3                         int16
	p1                             uint16
	p2, p3, p4, p5, p6, p7, p8, p9 int16
	h1                             uint8
	h2                             int16
	h3                             uint8
	h4, h5                         int16
	h6                             int8
}

// newBME280Calib decodes the calibration registers 0x88..0xA1 (c0) and
// 0xE1..0xE7 (c1). Words are little-endian; H4 and H5 are 12-bit values sharing
// register 0xE5.
func newBME280Calib(c0 *[26]byte, c1 *[7]byte) bme280Calib {
	u16 := func(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
	s16 := func(b []byte) int16 { return int16(u16(b)) }
	return bme280Calib{
		t1: u16(c0[0:]), t2: s16(c0[2:]), t3: s16(c0[4:]),
		p1: u16(c0[6:]), p2: s16(c0[8:]), p3: s16(c0[10:]), p4: s16(c0[12:]), p5: s16(c0[14:]),
		p6: s16(c0[16:]), p7: s16(c0[18:]), p8: s16(c0[20:]), p9: s16(c0[22:]),
		h1: c0[25],
		h2: s16(c1[0:]),
		h3: c1[2],
		h4: int16(int8(c1[3]))<<4 | int16(c1[4]&0x0F),
		h5: int16(int8(c1[5]))<<4 | int16(c1[4]>>4),
		h6: int8(c1[6]),
	}
}

// convert decodes registers 0xF7..0xFE (20-bit pressure and temperature, 16-bit
// humidity) and compensates them.
func (c *bme280Calib) convert(b *[8]byte) (physic.Env, error) {
	adcP := int32(b[0])<<12 | int32(b[1])<<4 | int32(b[2])>>4
	adcT := int32(b[3])<<12 | int32(b[4])<<4 | int32(b[5])>>4
	adcH := int32(b[6])<<8 | int32(b[7])
	if adcT == bmeSkippedTP || adcP == bmeSkippedTP || adcH == bmeSkippedH {
		return physic.Env{}, fmt.Errorf("measurement skipped: %w", ErrBadData)
	}
	t, tFine := c.compensateT(adcT)
	p := c.compensateP(adcP, tFine)
	h := c.compensateH(adcH, tFine)
	return physic.Env{
		Temperature: physic.ZeroCelsius + physic.Temperature(t)*10*physic.MilliCelsius,
		Pressure:    physic.Pressure(p) * (physic.Pascal / 256),
		Humidity:    physic.RelativeHumidity((int64(h)*int64(physic.PercentRH) + 512) / 1024),
	}, nil
}

// compensateT is BME280_compensate_T_int32 (section 4.2.3): the temperature in
// 0.01 °C ("5123" is 51.23 °C) and t_fine, which the other two formulas use.
func (c *bme280Calib) compensateT(adcT int32) (t, tFine int32) {
	var1 := ((adcT>>3 - int32(c.t1)<<1) * int32(c.t2)) >> 11
	var2 := (((adcT>>4 - int32(c.t1)) * (adcT>>4 - int32(c.t1))) >> 12 * int32(c.t3)) >> 14
	tFine = var1 + var2
	return (tFine*5 + 128) >> 8, tFine
}

// compensateP is BME280_compensate_P_int64 (section 4.2.3): the pressure in Pa as
// unsigned Q24.8 ("24674867" is 24674867/256 = 96386.2 Pa).
func (c *bme280Calib) compensateP(adcP, tFine int32) uint32 {
	var1 := int64(tFine) - 128000
	var2 := var1 * var1 * int64(c.p6)
	var2 += (var1 * int64(c.p5)) << 17
	var2 += int64(c.p4) << 35
	var1 = (var1*var1*int64(c.p3))>>8 + (var1*int64(c.p2))<<12
	var1 = ((int64(1)<<47 + var1) * int64(c.p1)) >> 33
	if var1 == 0 {
		return 0 // avoid a division by zero
	}
	p := 1048576 - int64(adcP)
	p = ((p<<31 - var2) * 3125) / var1
	var1 = (int64(c.p9) * (p >> 13) * (p >> 13)) >> 25
	var2 = (int64(c.p8) * p) >> 19
	p = (p+var1+var2)>>8 + int64(c.p7)<<4
	return uint32(p)
}

// compensateH is bme280_compensate_H_int32 (section 4.2.3): the relative humidity
// in % as unsigned Q22.10 ("47445" is 47445/1024 = 46.333 %RH).
func (c *bme280Calib) compensateH(adcH, tFine int32) uint32 {
	x := tFine - 76800
	a := (adcH<<14 - int32(c.h4)<<20 - int32(c.h5)*x + 16384) >> 15
	b := ((((x*int32(c.h6))>>10)*(((x*int32(c.h3))>>11)+32768))>>10 + 2097152) * int32(c.h2)
	b = (b + 8192) >> 14
	x = a * b
	x -= ((((x >> 15) * (x >> 15)) >> 7) * int32(c.h1)) >> 4
	x = min(max(x, 0), 419430400)
	return uint32(x >> 12)
}

var (
	_ Probe = (*BME280)(nil)
)
