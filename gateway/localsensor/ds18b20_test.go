package localsensor

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/onewire"
	"periph.io/x/conn/v3/onewire/onewiretest"
	"periph.io/x/conn/v3/physic"

	"github.com/saqshy/saqshy/gateway/config"
)

const fixtureW1 = "testdata/w1/devices"

// ---------------------------------------------------------------------------
// sysfs

func TestListW1(t *testing.T) {
	got, err := ListW1(fixtureW1)
	if err != nil {
		t.Fatal(err)
	}
	want := "28-00000a1b2c3d 28-0316a2795eff 28-0416b1c2d3e4"
	if strings.Join(got, " ") != want {
		t.Fatalf("ListW1 = %v, want %s (w1_bus_master1 is not a probe)", got, want)
	}
	if _, err := ListW1(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing root: err = %v, want fs.ErrNotExist", err)
	}
}

func TestW1ThermFixture(t *testing.T) {
	tests := []struct {
		name string
		want float64
		err  error
	}{
		{"28-0316a2795eff", 21.875, nil},  // w1_slave, crc YES
		{"28-00000a1b2c3d", -10.125, nil}, // temperature file only
		{"28-0416b1c2d3e4", 0, ErrCRC},    // crc NO
		{"28-000000000001", 0, ErrDisconnected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewW1Therm(fixtureW1, strings.ToUpper(tt.name)) // normalised to lower case
			if err != nil {
				t.Fatal(err)
			}
			if p.String() != tt.name {
				t.Fatalf("String() = %q", p.String())
			}
			s, err := p.Read(context.Background())
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if IsRetryable(err) != (tt.err == ErrCRC) {
					t.Fatalf("IsRetryable(%v) = %v", err, IsRetryable(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Device != tt.name || len(s.Values) != 1 || s.Values[0].V != tt.want || !s.Time.IsZero() {
				t.Fatalf("sample = %+v, want %s %g", s, tt.name, tt.want)
			}
		})
	}
}

func TestW1ThermRejectsBadName(t *testing.T) {
	for _, name := range []string{"", "10-0316a2795eff", "28-0316a2795ef", "28-0316a2795efg", "w1_bus_master1"} {
		if _, err := NewW1Therm(fixtureW1, name); err == nil {
			t.Errorf("NewW1Therm(%q) accepted", name)
		}
	}
}

func TestW1ThermCancelled(t *testing.T) {
	p, _ := NewW1Therm(fixtureW1, "28-0316a2795eff")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseW1Slave(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int32
		err  error
	}{
		{"good", "5e 01 4b 46 7f ff 0c 10 51 : crc=51 YES\n5e 01 4b 46 7f ff 0c 10 51 t=21875\n", 21875, nil},
		{"negative", "5e ff 4b 46 7f ff 0c 10 6a : crc=6a YES\n5e ff 4b 46 7f ff 0c 10 6a t=-10125\n", -10125, nil},
		{"no trailing newline", "5e 01 4b 46 7f ff 0c 10 51 : crc=51 YES\n5e 01 4b 46 7f ff 0c 10 51 t=21875", 21875, nil},
		{"crc NO", "91 01 4b 46 7f ff 0c 10 71 : crc=70 NO\n91 01 4b 46 7f ff 0c 10 71 t=25062\n", 0, ErrCRC},
		{"crc NO, no second line", "91 01 4b 46 7f ff 0c 10 71 : crc=70 NO\n", 0, ErrCRC},
		{"all ones", "ff ff ff ff ff ff ff ff ff : crc=c9 NO\nff ff ff ff ff ff ff ff ff t=-62\n", 0, ErrDisconnected},
		{"all zeros", "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n", 0, ErrDisconnected},
		{"power-on 85", "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n", 0, ErrPowerOn},
		{"-127", "5e 01 4b 46 7f ff 0c 10 51 : crc=51 YES\n5e 01 4b 46 7f ff 0c 10 51 t=-127000\n", 0, ErrDisconnected},
		{"out of range", "5e 01 4b 46 7f ff 0c 10 51 : crc=51 YES\n5e 01 4b 46 7f ff 0c 10 51 t=130000\n", 0, ErrBadData},
		{"empty", "", 0, ErrBadData},
		{"short scratchpad", "5e 01 4b : crc=51 YES\nt=1\n", 0, ErrBadData},
		{"bad verdict", "5e 01 4b 46 7f ff 0c 10 51 : crc=51 MAYBE\n5e 01 t=21875\n", 0, ErrBadData},
		{"no t=", "5e 01 4b 46 7f ff 0c 10 51 : crc=51 YES\n5e 01 4b 46 7f ff 0c 10 51\n", 0, ErrBadData},
		{"bad number", "5e 01 4b 46 7f ff 0c 10 51 : crc=51 YES\n5e 01 4b 46 7f ff 0c 10 51 t=21.875\n", 0, ErrBadData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseW1Slave([]byte(tt.in))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseW1Slave = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestParseW1Temperature(t *testing.T) {
	for in, want := range map[string]error{"21875\n": nil, "-10125": nil, "85000\n": ErrPowerOn, "-127000\n": ErrDisconnected, "x\n": ErrBadData, "": ErrBadData} {
		if _, err := parseW1Temperature([]byte(in)); !errors.Is(err, want) && !(err == nil && want == nil) {
			t.Errorf("parseW1Temperature(%q) err = %v, want %v", in, err, want)
		}
	}
}

func FuzzParseW1Slave(f *testing.F) {
	for _, p := range []string{"28-0316a2795eff/w1_slave", "28-0416b1c2d3e4/w1_slave"} {
		b, err := os.ReadFile(filepath.Join(fixtureW1, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n"))
	f.Add([]byte("ff ff ff ff ff ff ff ff ff : crc=c9 NO\nff ff ff ff ff ff ff ff ff t=-62\n"))
	f.Add([]byte("5e ff 4b 46 7f ff 0c 10 6a : crc=6a YES\r\n5e ff 4b 46 7f ff 0c 10 6a t=-10125\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseW1Slave(b)
		if err != nil {
			for _, e := range []error{ErrBadData, ErrCRC, ErrDisconnected, ErrPowerOn} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("unclassified error %v", err)
		}
		if m < minMilli || m > maxMilli || m == 85000 {
			t.Fatalf("accepted %d m°C", m)
		}
		if !strings.Contains(string(b), " YES") || !strings.Contains(string(b), "t=") {
			t.Fatalf("accepted %q without a YES verdict and a t= value", b)
		}
	})
}

// ---------------------------------------------------------------------------
// The driver on a onewire.Bus. The scratchpads are built from the datasheet's
// memory map (temperature LSB, MSB, TH, TL, configuration, 0xFF, reserved, 0x10,
// CRC) and its temperature table (+25.0625 °C = 0x0191, +85 °C = 0x0550); the CRC
// is the Dallas CRC-8 of AN27.

const probe = "28-0316a2795eff" // ROM 28 ff 5e 79 a2 16 03 59: 0x59 is the ROM CRC

// rom returns a Match ROM for probe followed by cmd.
func rom(cmd ...byte) []byte {
	return append([]byte{0x55, 0x28, 0xff, 0x5e, 0x79, 0xa2, 0x16, 0x03, 0x59}, cmd...)
}

var (
	sp25_12 = []byte{0x91, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0x70} // +25.0625 °C, 12 bits
	sp25_9  = []byte{0x91, 0x01, 0x4b, 0x46, 0x1f, 0xff, 0x0c, 0x10, 0xe0} // same register, 9 bits
	spNeg   = []byte{0x5e, 0xff, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0x6a} // -10.125 °C
	sp85    = []byte{0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0x1c} // power-on +85 °C
	spBad   = []byte{0x91, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0x71} // CRC off by one
	spOnes  = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

var (
	readSP   = func(sp []byte) onewiretest.IO { return onewiretest.IO{W: rom(0xBE), R: sp} }
	convertT = onewiretest.IO{W: rom(0x44), Pull: onewire.StrongPullup}
)

func newTestDS18B20(t *testing.T, bus onewire.Bus, bits int, s *sleeps) *DS18B20 {
	t.Helper()
	addr, err := ParseW1Address(probe)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDS18B20(bus, addr, DS18B20Opts{Resolution: bits, Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseW1Address(t *testing.T) {
	a, err := ParseW1Address("28-0316A2795EFF")
	if err != nil {
		t.Fatal(err)
	}
	if a != 0x590316a2795eff28 {
		t.Fatalf("address %#x", uint64(a))
	}
	if !onewire.CheckCRC([]byte{0x28, 0xff, 0x5e, 0x79, 0xa2, 0x16, 0x03, 0x59}) {
		t.Fatal("ROM CRC")
	}
	if W1Name(a) != probe {
		t.Fatalf("W1Name = %s", W1Name(a))
	}
	if _, err := ParseW1Address("10-0316a2795eff"); err == nil {
		t.Fatal("DS18S20 family accepted")
	}
	if _, err := NewDS18B20(nil, 0x590316a2795eff10, DS18B20Opts{}); err == nil {
		t.Fatal("NewDS18B20 accepted family 0x10")
	}
	if _, err := NewDS18B20(nil, a, DS18B20Opts{Resolution: 13}); err == nil {
		t.Fatal("NewDS18B20 accepted 13 bits")
	}
}

func TestDS18B20Read(t *testing.T) {
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{
		readSP(sp25_12), // first read: learn the resolution (12 bits), nothing to write
		convertT, readSP(sp25_12),
		convertT, readSP(spNeg), // second read: no configuration
	}}
	var s sleeps
	d := newTestDS18B20(t, bus, 0, &s)
	if d.String() != probe {
		t.Fatalf("String() = %q", d.String())
	}
	got, err := d.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Device != probe || got.Values[0].V != 25.0625 {
		t.Fatalf("sample %+v, want 25.0625 °C", got)
	}
	temp, err := d.Temperature(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := physic.ZeroCelsius - 10125*physic.MilliCelsius; temp != want {
		t.Fatalf("temperature %s, want %s", temp, want)
	}
	s.check(t, 750*time.Millisecond, 750*time.Millisecond)
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDS18B20Resolution(t *testing.T) {
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{
		readSP(sp25_12),                  // factory setting: 12 bits
		{W: rom(0x4E, 0x4b, 0x46, 0x1f)}, // Write Scratchpad: TH, TL kept, R1R0 = 00
		readSP(sp25_9),                   // read back: 9 bits
		convertT, readSP(sp25_9),
	}}
	var s sleeps
	d := newTestDS18B20(t, bus, 9, &s)
	temp, err := d.Temperature(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// At 9 bits, bits 2..0 are undefined: 0x0191 reads as 0x0190 = 25.0 °C.
	if want := physic.ZeroCelsius + 25*physic.Celsius; temp != want {
		t.Fatalf("temperature %s, want %s", temp, want)
	}
	s.check(t, 93750*time.Microsecond)
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDS18B20ConversionTimes(t *testing.T) {
	for bits, want := range map[int]time.Duration{9: 93750 * time.Microsecond, 10: 187500 * time.Microsecond, 11: 375 * time.Millisecond, 12: 750 * time.Millisecond} {
		if got := convTime(bits); got != want {
			t.Errorf("convTime(%d) = %v, want %v", bits, got, want)
		}
		if got := resolution(configByte(bits)); got != bits {
			t.Errorf("resolution(configByte(%d)) = %d", bits, got)
		}
	}
}

func TestDS18B20PowerOn(t *testing.T) {
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{
		readSP(sp25_12),
		convertT, readSP(sp85),
		// The failure makes the next read check the configuration again.
		readSP(sp25_12),
		convertT, readSP(sp25_12),
	}}
	var s sleeps
	d := newTestDS18B20(t, bus, 0, &s)
	_, err := d.Read(context.Background())
	if !errors.Is(err, ErrPowerOn) || !IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable ErrPowerOn", err)
	}
	if _, err := d.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDS18B20ResolutionLost(t *testing.T) {
	// Configured to 9 bits, the probe restarts (12 bits again) between reads.
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{
		readSP(sp25_9),
		convertT, readSP(sp25_12),
	}}
	var s sleeps
	d := newTestDS18B20(t, bus, 9, &s)
	if _, err := d.Read(context.Background()); !errors.Is(err, ErrPowerOn) {
		t.Fatalf("err = %v, want ErrPowerOn", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDS18B20Disconnected(t *testing.T) {
	t.Run("all ones", func(t *testing.T) {
		bus := &onewiretest.Playback{Ops: []onewiretest.IO{readSP(spOnes)}} // not re-read: retrying won't help
		d := newTestDS18B20(t, bus, 0, &sleeps{})
		_, err := d.Read(context.Background())
		if !errors.Is(err, ErrDisconnected) || IsRetryable(err) {
			t.Fatalf("err = %v, want a non-retryable ErrDisconnected", err)
		}
		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no presence pulse", func(t *testing.T) {
		bus := &faultWire{Playback: &onewiretest.Playback{}, fail: map[int]error{0: noPresence{}}}
		d := newTestDS18B20(t, bus, 0, &sleeps{})
		_, err := d.Read(context.Background())
		if !errors.Is(err, ErrDisconnected) || IsRetryable(err) {
			t.Fatalf("err = %v, want a non-retryable ErrDisconnected", err)
		}
		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDS18B20CRCRetry(t *testing.T) {
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{
		readSP(sp25_12),
		convertT,
		readSP(spBad),   // noise on the line
		readSP(sp25_12), // the re-read is good; no new conversion
	}}
	var s sleeps
	d := newTestDS18B20(t, bus, 0, &s)
	got, err := d.Read(context.Background())
	if err != nil || got.Values[0].V != 25.0625 {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	s.check(t, 750*time.Millisecond)
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDS18B20BusErrorRetry(t *testing.T) {
	bus := &faultWire{
		Playback: &onewiretest.Playback{Ops: []onewiretest.IO{readSP(sp25_12), convertT, readSP(sp25_12)}},
		fail:     map[int]error{2: errors.New("ds2482: bus error")}, // the first scratchpad read after the conversion
	}
	d := newTestDS18B20(t, bus, 0, &sleeps{})
	got, err := d.Read(context.Background())
	if err != nil || got.Values[0].V != 25.0625 {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDS18B20PersistentCRC(t *testing.T) {
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{
		readSP(sp25_12),
		convertT, readSP(spBad), readSP(spBad),
	}}
	d := newTestDS18B20(t, bus, 0, &sleeps{})
	_, err := d.Read(context.Background())
	if !errors.Is(err, ErrCRC) || !IsRetryable(err) || !strings.Contains(err.Error(), probe) {
		t.Fatalf("err = %v, want a retryable ErrCRC naming the probe", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDS18B20Cancelled(t *testing.T) {
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{readSP(sp25_12), convertT}}
	ctx, cancel := context.WithCancel(context.Background())
	d := newTestDS18B20(t, bus, 0, &sleeps{})
	d.sleep = func(context.Context, time.Duration) error { cancel(); return ctx.Err() }
	if _, err := d.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------

var sinkTemp physic.Temperature

func BenchmarkDS18B20Scratchpad(b *testing.B) {
	var sp [9]byte
	copy(sp[:], sp25_12)
	b.ReportAllocs()
	for b.Loop() {
		t, _, err := decodeScratchpad(&sp)
		if err != nil {
			b.Fatal(err)
		}
		sinkTemp = t
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

var sinkMilli int32

func BenchmarkW1SlaveParse(b *testing.B) {
	in, err := os.ReadFile(filepath.Join(fixtureW1, "28-0316a2795eff/w1_slave"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m, err := parseW1Slave(in)
		if err != nil {
			b.Fatal(err)
		}
		sinkMilli = m
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// copyW1Fixture copies the probe dir name of the sysfs fixture into a temporary
// tree and returns its root.
func copyW1Fixture(t *testing.T, name string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, name), os.DirFS(filepath.Join(fixtureW1, name))); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestW1ThermResolution(t *testing.T) {
	root := copyW1Fixture(t, probe)
	res := filepath.Join(root, probe, "resolution")
	if err := os.WriteFile(res, []byte("12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Open(config.Sensor{Source: "ds18b20", Address: probe, Resolution: 10}, Deps{W1Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := p.Read(context.Background()); err != nil || s.Values[0].V != 21.875 {
		t.Fatalf("Read = %+v, %v", s, err)
	}
	if b, _ := os.ReadFile(res); string(b) != "10\n" {
		t.Fatalf("resolution file = %q, want 10", b)
	}
	// Written once: a later change by someone else stays.
	if err := os.WriteFile(res, []byte("12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(res); string(b) != "12\n" {
		t.Fatalf("resolution rewritten: %q", b)
	}
	// After the probe went missing and came back, it is written again.
	tmp := filepath.Join(root, "gone")
	if err := os.Rename(filepath.Join(root, probe), tmp); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(context.Background()); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("missing probe: err = %v", err)
	}
	if err := os.Rename(tmp, filepath.Join(root, probe)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(res); string(b) != "10\n" {
		t.Fatalf("resolution after reconnect = %q, want 10", b)
	}
}

func TestW1ThermResolutionUnsupported(t *testing.T) {
	root := copyW1Fixture(t, probe) // no resolution attribute: a kernel before 5.10
	p, err := NewW1Therm(root, probe)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetResolution(11); err != nil {
		t.Fatal(err)
	}
	_, err = p.Read(context.Background())
	if !errors.Is(err, fs.ErrNotExist) || IsRetryable(err) || !strings.Contains(err.Error(), "resolution 11 bits") {
		t.Fatalf("first read: err = %v, want a non-retryable fs.ErrNotExist naming the resolution", err)
	}
	if _, err := os.Stat(filepath.Join(root, probe, "resolution")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("resolution file created: %v", err)
	}
	// Reported once: later reads proceed at the kernel's setting.
	for range 2 {
		if s, err := p.Read(context.Background()); err != nil || s.Values[0].V != 21.875 {
			t.Fatalf("Read = %+v, %v", s, err)
		}
	}
	for _, bits := range []int{8, 13, -1} {
		if err := p.SetResolution(bits); err == nil {
			t.Errorf("SetResolution(%d) accepted", bits)
		}
	}
}
