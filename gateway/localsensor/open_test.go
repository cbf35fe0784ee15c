package localsensor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/onewire/onewiretest"

	"github.com/saqshy/saqshy/gateway/config"
)

func TestOpen(t *testing.T) {
	var opened []string
	bus := &i2ctest.Playback{}
	deps := Deps{
		W1Root: fixtureW1,
		OpenI2C: func(name string) (i2c.Bus, error) {
			opened = append(opened, name)
			return bus, nil
		},
	}
	tests := []struct {
		source, addr string
		typ          string
		device       string
	}{
		{"ds18b20", "28-0316A2795EFF", "*localsensor.W1Therm", "28-0316a2795eff"},
		{"sht3x", "0x44", "*localsensor.SHT3x", "i2c1:0x44"},
		{"sht4x", "i2c0:0x46", "*localsensor.SHT4x", "i2c0:0x46"},
		{"bme280", "0x77", "*localsensor.BME280", "i2c1:0x77"},
	}
	for _, tt := range tests {
		s := config.Sensor{ID: "s", Source: tt.source, Address: tt.addr}
		p, err := Open(s, deps)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.source, tt.addr, err)
		}
		if typ := typeName(p); typ != tt.typ || p.String() != tt.device || p.String() != s.Device() {
			t.Errorf("%s %s: %s %s, want %s %s (= Sensor.Device)", tt.source, tt.addr, typ, p, tt.typ, tt.device)
		}
	}
	if strings.Join(opened, ",") != "1,0,1" {
		t.Errorf("opened buses %v, want 1,0,1", opened)
	}
	if err := bus.Close(); err != nil { // Open does no I/O on the chips
		t.Fatal(err)
	}
}

func typeName(p Probe) string {
	switch p.(type) {
	case *W1Therm:
		return "*localsensor.W1Therm"
	case *DS18B20:
		return "*localsensor.DS18B20"
	case *SHT3x:
		return "*localsensor.SHT3x"
	case *SHT4x:
		return "*localsensor.SHT4x"
	case *BME280:
		return "*localsensor.BME280"
	}
	return "?"
}

func TestOpenOneWireBus(t *testing.T) {
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{
		readSP(sp25_12), {W: rom(0x4E, 0x4b, 0x46, 0x5f)}, readSP([]byte{0x91, 0x01, 0x4b, 0x46, 0x5f, 0xff, 0x0c, 0x10, 0x00}),
	}}
	var s sleeps
	p, err := Open(config.Sensor{Source: "ds18b20", Address: probe}, Deps{OneWire: bus, Resolution: 11, Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := p.(*DS18B20)
	if !ok || d.String() != probe {
		t.Fatalf("Open = %T %v", p, p)
	}
	if err := d.configure(context.Background()); err != nil || d.bits != 11 {
		t.Fatalf("configure: %v, %d bits", err, d.bits)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	noBus := errors.New("i2creg: no bus found")
	tests := []struct {
		s    config.Sensor
		deps Deps
		want string
	}{
		{config.Sensor{Source: "zigbee2mqtt", Topic: "z/x"}, Deps{}, "not wired to the Pi"},
		{config.Sensor{Source: "ds18b20", Address: "0x44"}, Deps{}, "invalid 1-Wire address"},
		{config.Sensor{Source: "sht3x", Address: "0x44"}, Deps{}, "no I²C bus"},
		{config.Sensor{Source: "sht3x", Address: "44"}, Deps{}, "invalid I²C address"},
		{config.Sensor{Source: "sht3x", Address: "0x76"}, Deps{OpenI2C: func(string) (i2c.Bus, error) { return &i2ctest.Playback{}, nil }}, "0x44 or 0x45"},
		{config.Sensor{Source: "bme280", Address: "0x76"}, Deps{OpenI2C: func(string) (i2c.Bus, error) { return nil, noBus }}, "open I²C bus 1: i2creg: no bus found"},
	}
	for _, tt := range tests {
		p, err := Open(tt.s, tt.deps)
		if err == nil || p != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%+v) = %v, %v; want an error containing %q", tt.s, p, err, tt.want)
		}
	}
}

func TestTargetsReportsEachFailure(t *testing.T) {
	sensors := []config.Sensor{
		{ID: "fridge", Source: "ds18b20", Address: "28-0316a2795eff", Interval: config.Duration(10 * time.Second)},
		{ID: "room", Source: "sht3x", Address: "0x44"},
		{ID: "hall", Source: "bme280", Address: "0x76"},
	}
	ts, err := Targets(sensors, Deps{W1Root: fixtureW1})
	if len(ts) != 1 || ts[0].Interval != 10*time.Second {
		t.Fatalf("targets %+v", ts)
	}
	if err == nil || !strings.Contains(err.Error(), "sensor room: ") || !strings.Contains(err.Error(), "sensor hall: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("x"), false},
		{context.Canceled, false},
		{ErrCRC, true},
		{ErrPowerOn, true},
		{ErrBadData, true},
		{ErrDisconnected, false},
		{ErrWrongChip, false},
		{wrapBus("read", errNACK), true},
		{wrapBus("read", noPresence{}), false},
		{errors.Join(ErrCRC, ErrWrongChip), false},
	}
	for _, tt := range tests {
		if got := IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	err := wrapBus("read", noPresence{})
	if !errors.Is(err, ErrDisconnected) || !errors.Is(err, ErrBus) {
		t.Errorf("no presence pulse: %v is not ErrDisconnected and ErrBus", err)
	}
}

func TestOpenOneWireSensorResolution(t *testing.T) {
	// The sensor's own resolution overrides Deps.Resolution.
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{
		readSP(sp25_12), {W: rom(0x4E, 0x4b, 0x46, 0x3f)}, readSP([]byte{0x91, 0x01, 0x4b, 0x46, 0x3f, 0xff, 0x0c, 0x10, 0x90}),
	}}
	p, err := Open(config.Sensor{Source: "ds18b20", Address: probe, Resolution: 10}, Deps{OneWire: bus, Resolution: 11})
	if err != nil {
		t.Fatal(err)
	}
	d := p.(*DS18B20)
	if err := d.configure(context.Background()); err != nil || d.bits != 10 {
		t.Fatalf("configure: %v, %d bits", err, d.bits)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}
