package localsensor

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

func TestScanW1(t *testing.T) {
	got, err := ScanW1(context.Background(), fixtureW1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d findings, want 3: %+v", len(got), got)
	}
	want := []struct {
		addr string
		v    float64
		err  error
	}{{"28-00000a1b2c3d", -10.125, nil}, {"28-0316a2795eff", 21.875, nil}, {"28-0416b1c2d3e4", 0, ErrCRC}}
	for i, w := range want {
		f := got[i]
		if f.Kind != "ds18b20" || f.Address != w.addr {
			t.Errorf("finding %d: %s %s, want ds18b20 %s", i, f.Kind, f.Address, w.addr)
		}
		if w.err != nil {
			if !errors.Is(f.Err, w.err) {
				t.Errorf("%s: err %v, want %v", f.Address, f.Err, w.err)
			}
			continue
		}
		if f.Err != nil || f.Sample.Values[0].V != w.v {
			t.Errorf("%s: %+v %v, want %g", f.Address, f.Sample, f.Err, w.v)
		}
	}
	if _, err := ScanW1(context.Background(), filepath.Join(t.TempDir(), "w1")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing root: %v, want fs.ErrNotExist", err)
	}
}

func TestScanI2C(t *testing.T) {
	// 0x44: an SHT4x answers the serial number command.
	sht4 := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x44, W: []byte{0x89}},
		{Addr: 0x44, R: []byte{0x12, 0x34, 0x37, 0x56, 0x78, 0x7D}},
		{Addr: 0x44, W: []byte{0xFD}},
		{Addr: 0x44, R: sht4xGood},
	}}
	// 0x45: an SHT3x takes the 0x89 byte but has nothing to send (NACK on the
	// read); it answers the status register read.
	sht3 := &faultBus{Playback: &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x45, W: []byte{0x89}},
		{Addr: 0x45, W: []byte{0xF3, 0x2D}},
		{Addr: 0x45, R: []byte{0x80, 0x10, 0xE1}},
		{Addr: 0x45, W: []byte{0x24, 0x00}},
		{Addr: 0x45, R: sht3xGood},
	}}, fail: map[int]error{1: errNACK}}
	// 0x76: chip id 0x60 is a BME280; the driver then checks it again, resets it
	// and reads its calibration.
	bme := &i2ctest.Playback{Ops: ops(bmeInit(0x76, 0x60)[:1], bmeInit(0x76, 0x60), bmeMeasure(0x76, bmeData))}
	// 0x77: a BMP280.
	bmp := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: 0x77, W: []byte{0xD0}, R: []byte{0x58}}}}
	bus := addrBus{0x44: sht4, 0x45: sht3, 0x76: bme, 0x77: bmp}

	got := ScanI2C(context.Background(), bus, 1, (&sleeps{}).sleep)
	want := []struct{ kind, addr, detail string }{
		{"sht4x", "i2c1:0x44", "serial 0x12345678"},
		{"sht3x", "i2c1:0x45", "status 0x8010"},
		{"bme280", "i2c1:0x76", "chip id 0x60"},
		{"", "i2c1:0x77", "chip id 0x58"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d findings, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		f := got[i]
		if f.Kind != w.kind || f.Address != w.addr || f.Detail != w.detail {
			t.Errorf("finding %d: %q %q %q, want %q %q %q", i, f.Kind, f.Address, f.Detail, w.kind, w.addr, w.detail)
		}
		if w.kind == "" {
			if !errors.Is(f.Err, ErrWrongChip) {
				t.Errorf("%s: err %v, want ErrWrongChip", f.Address, f.Err)
			}
		} else if f.Err != nil || f.Sample.Device != w.addr || len(f.Sample.Values) != 2 {
			t.Errorf("%s: %+v %v", f.Address, f.Sample, f.Err)
		}
	}
	for _, b := range []interface{ Close() error }{sht4, sht3, bme, bmp} {
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestScanI2CEmpty(t *testing.T) {
	if got := ScanI2C(context.Background(), addrBus{}, 1, nil); len(got) != 0 {
		t.Fatalf("findings on an empty bus: %+v", got)
	}
}

// A chip at 0x44 that acknowledges everything but answers neither SHT protocol
// with a valid CRC is reported, not taken for a sensor.
func TestScanI2CUnknownChip(t *testing.T) {
	junk := []byte{1, 2, 3, 4, 5, 6}
	other := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x44, W: []byte{0x89}},
		{Addr: 0x44, R: junk},
		{Addr: 0x44, W: []byte{0xF3, 0x2D}},
		{Addr: 0x44, R: junk[:3]},
	}}
	got := ScanI2C(context.Background(), addrBus{0x44: other}, 1, (&sleeps{}).sleep)
	if len(got) != 1 || got[0].Kind != "" || !errors.Is(got[0].Err, ErrCRC) {
		t.Fatalf("findings %+v", got)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
}

var _ i2c.Bus = addrBus{}
