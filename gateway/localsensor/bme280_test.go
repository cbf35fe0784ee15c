package localsensor

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

// A BME280's trimming registers and one forced measurement, recorded from a real
// chip (periph.io/x/devices bmxx80 tests). Decoded by the datasheet's table 16:
//
//	T1 28176  T2 26220  T3 50
//	P1 38237  P2 -10824 P3 3024 P4 7799 P5 -99 P6 -7 P7 9900 P8 -10230 P9 4285
//	H1 75  H2 366  H3 0  H4 309  H5 0  H6 30
//	adc_P 304428  adc_T 526700  adc_H 31350
//
// Worked through the integer formulas of section 4.2.3 by hand (and checked with
// an independent script):
//
//	t_fine 121449, T = (121449·5 + 128) >> 8 = 2372 -> 23.72 °C
//	P = 25841330 (Q24.8) -> 25841330/256 = 100942.6953125 Pa
//	H = 66873 (Q22.10)   -> 66873/1024 = 65.3056640625 %RH
var (
	bmeCalib00 = []byte{0x10, 0x6e, 0x6c, 0x66, 0x32, 0x00, 0x5d, 0x95, 0xb8, 0xd5, 0xd0, 0x0b, 0x77, 0x1e, 0x9d, 0xff, 0xf9, 0xff, 0xac, 0x26, 0x0a, 0xd8, 0xbd, 0x10, 0x00, 0x4b}
	bmeCalib26 = []byte{0x6e, 0x01, 0x00, 0x13, 0x05, 0x00, 0x1e}
	bmeData    = []byte{0x4a, 0x52, 0xc0, 0x80, 0x96, 0xc0, 0x7a, 0x76}
)

func bmeInit(addr uint16, id byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0xD0}, R: []byte{id}},
		{Addr: addr, W: []byte{0xE0, 0xB6}},         // soft reset
		{Addr: addr, W: []byte{0xF3}, R: []byte{0}}, // NVM copied
		{Addr: addr, W: []byte{0x88}, R: bmeCalib00},
		{Addr: addr, W: []byte{0xE1}, R: bmeCalib26},
	}
}

func bmeMeasure(addr uint16, data []byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0xF2, 0x01, 0xF4, 0x25}}, // ctrl_hum ×1, ctrl_meas ×1 ×1 forced
		{Addr: addr, W: []byte{0xF3}, R: []byte{0}},     // not measuring
		{Addr: addr, W: []byte{0xF7}, R: data},
	}
}

func ops(parts ...[]i2ctest.IO) []i2ctest.IO {
	var all []i2ctest.IO
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func testCalib(t testing.TB) *bme280Calib {
	t.Helper()
	var c0 [26]byte
	var c1 [7]byte
	copy(c0[:], bmeCalib00)
	copy(c1[:], bmeCalib26)
	c := newBME280Calib(&c0, &c1)
	return &c
}

func TestBME280Calibration(t *testing.T) {
	want := bme280Calib{
		t1: 28176, t2: 26220, t3: 50,
		p1: 38237, p2: -10824, p3: 3024, p4: 7799, p5: -99, p6: -7, p7: 9900, p8: -10230, p9: 4285,
		h1: 75, h2: 366, h3: 0, h4: 309, h5: 0, h6: 30,
	}
	if got := *testCalib(t); got != want {
		t.Fatalf("calibration\n got %+v\nwant %+v", got, want)
	}
	// H4 and H5 share 0xE5 and are signed 12-bit: E4=0xFF E5=0xF1 E6=0x80.
	var c0 [26]byte
	c1 := [7]byte{0, 0, 0, 0xFF, 0xF1, 0x80, 0xFF}
	c := newBME280Calib(&c0, &c1)
	if c.h4 != -15 || c.h5 != -2033 || c.h6 != -1 {
		t.Fatalf("h4 %d h5 %d h6 %d, want -15 -2033 -1", c.h4, c.h5, c.h6)
	}
}

func TestBME280Compensate(t *testing.T) {
	c := testCalib(t)
	temp, tFine := c.compensateT(526700)
	if temp != 2372 || tFine != 121449 {
		t.Fatalf("T = %d, t_fine = %d; want 2372, 121449", temp, tFine)
	}
	if p := c.compensateP(304428, tFine); p != 25841330 {
		t.Fatalf("P = %d, want 25841330", p)
	}
	if h := c.compensateH(31350, tFine); h != 66873 {
		t.Fatalf("H = %d, want 66873", h)
	}
}

// The BMP280 datasheet (BST-BMP280-DS001, section 3.12) works its example through
// the same temperature and pressure formulas as the BME280's: T = 25.08 °C,
// t_fine = 128422, p = 100653.27 Pa (computed with an unrounded t_fine; the
// integer formula gives 25767233/256 = 100653.254 Pa, the double one with the
// integer t_fine 100653.258 Pa).
func TestBME280CompensateDatasheetExample(t *testing.T) {
	c := &bme280Calib{t1: 27504, t2: 26435, t3: -1000,
		p1: 36477, p2: -10685, p3: 3024, p4: 2855, p5: 140, p6: -7, p7: 15500, p8: -14600, p9: 6000}
	temp, tFine := c.compensateT(519888)
	if temp != 2508 || tFine != 128422 {
		t.Fatalf("T = %d, t_fine = %d; want 2508, 128422", temp, tFine)
	}
	pi := c.compensateP(415148, tFine)
	if pi != 25767233 {
		t.Fatalf("P = %d, want 25767233", pi)
	}
	if p := float64(pi) / 256; math.Abs(p-100653.27) > 0.02 {
		t.Fatalf("P = %.4f Pa, want 100653.27", p)
	}
	if pf := c.compensatePFloat(415148, float64(tFine)); math.Abs(pf-100653.27) > 0.02 {
		t.Fatalf("float P = %.4f Pa, want 100653.27", pf)
	}
}

// The integer formulas agree with the datasheet's floating-point ones over the
// whole range of readings.
func TestBME280IntMatchesFloat(t *testing.T) {
	c := testCalib(t)
	for adcT := int32(380000); adcT <= 640000; adcT += 5000 { // about -20..+60 °C
		temp, tFine := c.compensateT(adcT)
		tf, tFineF := c.compensateTFloat(adcT)
		if math.Abs(float64(temp)/100-tf) > 0.01 {
			t.Fatalf("adc_T %d: int %d, float %.4f", adcT, temp, tf)
		}
		for adcP := int32(250000); adcP <= 450000; adcP += 20000 {
			p := float64(c.compensateP(adcP, tFine)) / 256
			if pf := c.compensatePFloat(adcP, tFineF); math.Abs(p-pf) > 1 {
				t.Fatalf("adc_T %d adc_P %d: int %.3f Pa, float %.3f Pa", adcT, adcP, p, pf)
			}
		}
		for adcH := int32(20000); adcH <= 45000; adcH += 1000 {
			h := float64(c.compensateH(adcH, tFine)) / 1024
			if hf := c.compensateHFloat(adcH, tFineF); math.Abs(h-hf) > 0.05 {
				t.Fatalf("adc_T %d adc_H %d: int %.3f %%, float %.3f %%", adcT, adcH, h, hf)
			}
		}
	}
}

func TestBME280Read(t *testing.T) {
	bus := &i2ctest.Playback{Ops: ops(
		bmeInit(0x76, 0x60),
		bmeMeasure(0x76, bmeData),
		bmeMeasure(0x76, bmeData), // the second read does not reset the chip again
	)}
	var s sleeps
	d, err := NewBME280(bus, 1, 0x76, s.sleep)
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != "i2c1:0x76" {
		t.Fatalf("String() = %q", d.String())
	}
	e, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := physic.Env{
		Temperature: physic.ZeroCelsius + 23720*physic.MilliCelsius,
		Pressure:    100942695312500 * physic.NanoPascal,
		Humidity:    6530566 * physic.TenthMicroRH, // 66873·100000/1024, rounded
	}
	if e != want {
		t.Fatalf("env %+v\nwant %+v", e, want)
	}
	got, err := d.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Device != "i2c1:0x76" || len(got.Values) != 2 || got.Values[0].V != 23.72 || got.Values[1].V != 65.31 {
		t.Fatalf("sample %+v, want 23.72 °C 65.31 %%", got)
	}
	s.check(t, 2*time.Millisecond, 10*time.Millisecond, 10*time.Millisecond)
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBME280Busy(t *testing.T) {
	bus := &i2ctest.Playback{Ops: ops(
		bmeInit(0x77, 0x60),
		[]i2ctest.IO{
			{Addr: 0x77, W: []byte{0xF2, 0x01, 0xF4, 0x25}},
			{Addr: 0x77, W: []byte{0xF3}, R: []byte{0x08}}, // still measuring
			{Addr: 0x77, W: []byte{0xF3}, R: []byte{0x00}},
			{Addr: 0x77, W: []byte{0xF7}, R: bmeData},
		},
	)}
	var s sleeps
	d, _ := NewBME280(bus, 1, 0x77, s.sleep)
	if got, err := d.Read(context.Background()); err != nil || got.Values[0].V != 23.72 {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	s.check(t, 2*time.Millisecond, 10*time.Millisecond, 2*time.Millisecond)
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBME280BusErrorRetry(t *testing.T) {
	bus := &faultBus{
		Playback: &i2ctest.Playback{Ops: ops(
			bmeInit(0x76, 0x60),
			bmeMeasure(0x76, bmeData)[:2], // the data read (Tx 7) is NACKed
			bmeInit(0x76, 0x60),           // chip id, soft reset, calibration again
			bmeMeasure(0x76, bmeData),
		)},
		fail: map[int]error{7: errNACK},
	}
	d, _ := NewBME280(bus, 1, 0x76, (&sleeps{}).sleep)
	if got, err := d.Read(context.Background()); err != nil || got.Values[1].V != 65.31 {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBME280PersistentFailure(t *testing.T) {
	t.Run("bus", func(t *testing.T) {
		bus := &faultBus{Playback: &i2ctest.Playback{}, fail: map[int]error{0: errNACK, 1: errNACK}}
		d, _ := NewBME280(bus, 1, 0x76, (&sleeps{}).sleep)
		_, err := d.Read(context.Background())
		if !errors.Is(err, ErrBus) || !IsRetryable(err) {
			t.Fatalf("err = %v, want a retryable ErrBus", err)
		}
		if bus.n != 2 {
			t.Fatalf("%d transactions, want 2 chip id reads", bus.n)
		}
		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("skipped measurement", func(t *testing.T) {
		skipped := []byte{0x80, 0x00, 0x00, 0x80, 0x00, 0x00, 0x80, 0x00}
		bus := &i2ctest.Playback{Ops: ops(
			bmeInit(0x76, 0x60), bmeMeasure(0x76, skipped),
			bmeInit(0x76, 0x60), bmeMeasure(0x76, skipped),
		)}
		d, _ := NewBME280(bus, 1, 0x76, (&sleeps{}).sleep)
		_, err := d.Read(context.Background())
		if !errors.Is(err, ErrBadData) {
			t.Fatalf("err = %v, want ErrBadData", err)
		}
		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBME280WrongChip(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x58}}, // a BMP280: no retry, no reset
	}}
	d, _ := NewBME280(bus, 1, 0x76, (&sleeps{}).sleep)
	_, err := d.Read(context.Background())
	if !errors.Is(err, ErrWrongChip) || IsRetryable(err) {
		t.Fatalf("err = %v, want a non-retryable ErrWrongChip", err)
	}
	if _, err := NewBME280(nil, 1, 0x44, nil); err == nil {
		t.Fatal("BME280 at 0x44 accepted")
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// The datasheet's floating-point formulas (section 4.2.3, "double" versions): the
// reference the integer ones are checked and benchmarked against.

func (c *bme280Calib) compensateTFloat(adcT int32) (t, tFine float64) {
	v1 := (float64(adcT)/16384 - float64(c.t1)/1024) * float64(c.t2)
	x := float64(adcT)/131072 - float64(c.t1)/8192
	v2 := x * x * float64(c.t3)
	return (v1 + v2) / 5120, math.Trunc(v1 + v2)
}

func (c *bme280Calib) compensatePFloat(adcP int32, tFine float64) float64 {
	v1 := tFine/2 - 64000
	v2 := v1 * v1 * float64(c.p6) / 32768
	v2 += v1 * float64(c.p5) * 2
	v2 = v2/4 + float64(c.p4)*65536
	v1 = (float64(c.p3)*v1*v1/524288 + float64(c.p2)*v1) / 524288
	v1 = (1 + v1/32768) * float64(c.p1)
	if v1 == 0 {
		return 0
	}
	p := 1048576 - float64(adcP)
	p = (p - v2/4096) * 6250 / v1
	v1 = float64(c.p9) * p * p / 2147483648
	v2 = p * float64(c.p8) / 32768
	return p + (v1+v2+float64(c.p7))/16
}

func (c *bme280Calib) compensateHFloat(adcH int32, tFine float64) float64 {
	h := tFine - 76800
	h = (float64(adcH) - (float64(c.h4)*64 + float64(c.h5)/16384*h)) *
		(float64(c.h2) / 65536 * (1 + float64(c.h6)/67108864*h*(1+float64(c.h3)/67108864*h)))
	h *= 1 - float64(c.h1)*h/524288
	return min(max(h, 0), 100)
}

var sinkInt uint32
var sinkFloat float64

// BenchmarkBME280Compensate compares the datasheet's integer formulas (what the
// driver uses: int32 for T and H, int64 for P) with its floating-point ones; a Pi
// Zero (ARMv6) has a slow FPU, a Pi 4 a fast one.
func BenchmarkBME280Compensate(b *testing.B) {
	c := testCalib(b)
	b.Run("int", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, tFine := c.compensateT(526700)
			sinkInt = c.compensateP(304428, tFine) + c.compensateH(31350, tFine)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	})
	b.Run("float64", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, tFine := c.compensateTFloat(526700)
			sinkFloat = c.compensatePFloat(304428, tFine) + c.compensateHFloat(31350, tFine)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	})
}
