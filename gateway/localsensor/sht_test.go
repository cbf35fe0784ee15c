package localsensor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

// The measurements are built from the datasheets' conversion formulas with raw
// values chosen to give exact results, and their CRCs from the Sensirion CRC-8
// (poly 0x31, init 0xFF; the datasheets' example: 0xBEEF -> 0x92):
//
//	T  0x6666 = 26214: -45 + 175·26214/65535 = -45 + 70 = 25 °C        CRC 0x93
//	RH 0xCCCC = 52428 (SHT3x): 100·52428/65535 = 80 %                 CRC 0xA5
//	RH 0x9999 = 39321 (SHT4x): -6 + 125·39321/65535 = -6 + 75 = 69 %  CRC 0xBE
var (
	sht3xGood = []byte{0x66, 0x66, 0x93, 0xCC, 0xCC, 0xA5}
	sht3xBad  = []byte{0x66, 0x66, 0x94, 0xCC, 0xCC, 0xA5} // temperature CRC wrong
	sht4xGood = []byte{0x66, 0x66, 0x93, 0x99, 0x99, 0xBE}
	sht4xBad  = []byte{0x66, 0x66, 0x93, 0x99, 0x98, 0xBE} // a flipped humidity bit
)

func TestCRC8Sensirion(t *testing.T) {
	for _, tt := range []struct {
		w    []byte
		want byte
	}{{[]byte{0xBE, 0xEF}, 0x92}, {[]byte{0x00, 0x00}, 0x81}, {[]byte{0x66, 0x66}, 0x93}, {[]byte{0xCC, 0xCC}, 0xA5}} {
		if got := crc8Sensirion(tt.w); got != tt.want {
			t.Errorf("crc8(% x) = %#02x, want %#02x", tt.w, got, tt.want)
		}
	}
}

func TestSHTConversions(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"T min", shtTemperature(0), physic.ZeroCelsius - 45*physic.Celsius},
		{"T 25", shtTemperature(0x6666), physic.ZeroCelsius + 25*physic.Celsius},
		{"T max", shtTemperature(0xFFFF), physic.ZeroCelsius + 130*physic.Celsius},
		{"SHT3x RH 0", sht3xHumidity(0), physic.RelativeHumidity(0)},
		{"SHT3x RH 80", sht3xHumidity(0xCCCC), 80 * physic.PercentRH},
		{"SHT3x RH 100", sht3xHumidity(0xFFFF), 100 * physic.PercentRH},
		{"SHT4x RH 69", sht4xHumidity(0x9999), 69 * physic.PercentRH},
		{"SHT4x RH clamped low", sht4xHumidity(0), physic.RelativeHumidity(0)},   // -6 %
		{"SHT4x RH clamped high", sht4xHumidity(0xFFFF), 100 * physic.PercentRH}, // 119 %
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestSHT3xRead(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x44, W: []byte{0x24, 0x00}},
		{Addr: 0x44, R: sht3xGood},
	}}
	var s sleeps
	d, err := NewSHT3x(bus, 1, 0x44, s.sleep)
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != "i2c1:0x44" {
		t.Fatalf("String() = %q", d.String())
	}
	got, err := d.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Device != "i2c1:0x44" || len(got.Values) != 2 || got.Values[0].V != 25 || got.Values[1].V != 80 {
		t.Fatalf("sample %+v, want 25 °C 80 %%", got)
	}
	s.check(t, 16*time.Millisecond)
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSHT3xCRCRetry(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x45, W: []byte{0x24, 0x00}},
		{Addr: 0x45, R: sht3xBad},
		{Addr: 0x45, W: []byte{0x30, 0xA2}}, // soft reset
		{Addr: 0x45, W: []byte{0x24, 0x00}},
		{Addr: 0x45, R: sht3xGood},
	}}
	var s sleeps
	d, _ := NewSHT3x(bus, 1, 0x45, s.sleep)
	e, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if e.Temperature != physic.ZeroCelsius+25*physic.Celsius || e.Humidity != 80*physic.PercentRH {
		t.Fatalf("env %v", e)
	}
	s.check(t, 16*time.Millisecond, 2*time.Millisecond, 16*time.Millisecond)
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSHT3xBusErrorRetry(t *testing.T) {
	bus := &faultBus{
		Playback: &i2ctest.Playback{Ops: []i2ctest.IO{
			{Addr: 0x44, W: []byte{0x24, 0x00}},
			// the read is NACKed
			{Addr: 0x44, W: []byte{0x30, 0xA2}},
			{Addr: 0x44, W: []byte{0x24, 0x00}},
			{Addr: 0x44, R: sht3xGood},
		}},
		fail: map[int]error{1: errNACK},
	}
	d, _ := NewSHT3x(bus, 1, 0x44, (&sleeps{}).sleep)
	got, err := d.Read(context.Background())
	if err != nil || got.Values[0].V != 25 {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSHT3xPersistentFailure(t *testing.T) {
	t.Run("crc", func(t *testing.T) {
		bus := &i2ctest.Playback{Ops: []i2ctest.IO{
			{Addr: 0x44, W: []byte{0x24, 0x00}},
			{Addr: 0x44, R: sht3xBad},
			{Addr: 0x44, W: []byte{0x30, 0xA2}},
			{Addr: 0x44, W: []byte{0x24, 0x00}},
			{Addr: 0x44, R: sht3xBad},
		}}
		d, _ := NewSHT3x(bus, 1, 0x44, (&sleeps{}).sleep)
		_, err := d.Read(context.Background())
		if !errors.Is(err, ErrCRC) || !IsRetryable(err) || !strings.Contains(err.Error(), "sht3x i2c1:0x44") {
			t.Fatalf("err = %v, want a retryable ErrCRC naming the chip", err)
		}
		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bus", func(t *testing.T) {
		// Unplugged: nothing acknowledges, not even the soft reset.
		bus := &faultBus{Playback: &i2ctest.Playback{}, fail: map[int]error{0: errNACK, 1: errNACK}}
		d, _ := NewSHT3x(bus, 1, 0x44, (&sleeps{}).sleep)
		_, err := d.Read(context.Background())
		if !errors.Is(err, ErrBus) || !errors.Is(err, errNACK) {
			t.Fatalf("err = %v, want ErrBus wrapping the adapter's error", err)
		}
		if bus.n != 2 {
			t.Fatalf("%d transactions, want 2 (measure, soft reset)", bus.n)
		}
		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSHT4xRead(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x44, W: []byte{0xFD}},
		{Addr: 0x44, R: sht4xGood},
		{Addr: 0x44, W: []byte{0x89}},
		{Addr: 0x44, R: []byte{0x12, 0x34, 0x37, 0x56, 0x78, 0x7D}},
	}}
	var s sleeps
	d, err := NewSHT4x(bus, 1, 0x44, s.sleep)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Device != "i2c1:0x44" || got.Values[0].V != 25 || got.Values[1].V != 69 {
		t.Fatalf("sample %+v, want 25 °C 69 %%", got)
	}
	serial, err := d.Serial(context.Background())
	if err != nil || serial != 0x12345678 {
		t.Fatalf("Serial = %#x, %v", serial, err)
	}
	s.check(t, 10*time.Millisecond, 10*time.Millisecond)
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSHT4xCRCRetry(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x46, W: []byte{0xFD}},
		{Addr: 0x46, R: sht4xBad},
		{Addr: 0x46, W: []byte{0x94}}, // soft reset
		{Addr: 0x46, W: []byte{0xFD}},
		{Addr: 0x46, R: sht4xGood},
	}}
	var s sleeps
	d, _ := NewSHT4x(bus, 0, 0x46, s.sleep)
	got, err := d.Read(context.Background())
	if err != nil || got.Device != "i2c0:0x46" || got.Values[1].V != 69 {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	s.check(t, 10*time.Millisecond, 2*time.Millisecond, 10*time.Millisecond)
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSHT4xBusErrorRetry(t *testing.T) {
	bus := &faultBus{
		Playback: &i2ctest.Playback{Ops: []i2ctest.IO{
			// the measurement command is NACKed
			{Addr: 0x44, W: []byte{0x94}},
			{Addr: 0x44, W: []byte{0xFD}},
			{Addr: 0x44, R: sht4xGood},
		}},
		fail: map[int]error{0: errNACK},
	}
	d, _ := NewSHT4x(bus, 1, 0x44, (&sleeps{}).sleep)
	if got, err := d.Read(context.Background()); err != nil || got.Values[0].V != 25 {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSHT4xPersistentFailure(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x44, W: []byte{0xFD}},
		{Addr: 0x44, R: sht4xBad},
		{Addr: 0x44, W: []byte{0x94}},
		{Addr: 0x44, W: []byte{0xFD}},
		{Addr: 0x44, R: sht4xBad},
	}}
	d, _ := NewSHT4x(bus, 1, 0x44, (&sleeps{}).sleep)
	_, err := d.Read(context.Background())
	if !errors.Is(err, ErrCRC) || !IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable ErrCRC", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSHTAddresses(t *testing.T) {
	if _, err := NewSHT3x(nil, 1, 0x46, nil); err == nil {
		t.Error("SHT3x at 0x46 accepted")
	}
	if _, err := NewSHT4x(nil, 1, 0x47, nil); err == nil {
		t.Error("SHT4x at 0x47 accepted")
	}
}

var sinkEnv physic.Env

func BenchmarkSHTConvert(b *testing.B) {
	var m [6]byte
	copy(m[:], sht3xGood)
	b.ReportAllocs()
	for b.Loop() {
		e, err := convertSHT(&m, sht3xHumidity)
		if err != nil {
			b.Fatal(err)
		}
		sinkEnv = e
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
