package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/localsensor"
)

// The fixture w1-therm tree of the localsensor package: three DS18B20, one whose
// CRC the kernel rejected.
const w1Fixture = "../../gateway/localsensor/testdata/w1/devices"

func sensorsCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), append([]string{"sensors"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSensorsFixture(t *testing.T) {
	code, out, errOut := sensorsCLI(t, "--w1-root", w1Fixture, "--i2c", "")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, row := range []string{
		`(?m)^ds18b20 +28-00000a1b2c3d +-10\.125 °C$`,
		`(?m)^ds18b20 +28-0316a2795eff +21\.875 °C$`,
		`(?m)^ds18b20 +28-0416b1c2d3e4 +error: .*checksum mismatch$`,
		`(?m)^ +hint: data corrupted on the wire`,
		`(?m)^  - \{id: ds18b20-795eff, zone: ZONE, source: ds18b20, address: 28-0316a2795eff\}$`,
	} {
		if !regexp.MustCompile(row).MatchString(out) {
			t.Errorf("output lacks %s:\n%s", row, out)
		}
	}
	if strings.Contains(out, "No sensors found") || strings.Contains(out, "dtoverlay") {
		t.Errorf("advice printed although probes were found:\n%s", out)
	}
	checkConfigLines(t, out, "28-00000a1b2c3d", "28-0316a2795eff", "28-0416b1c2d3e4")
}

// With the default --i2c on a machine without I2C (this one, unless it is a Pi),
// the 1-Wire probes are still listed and the I2C advice follows.
func TestSensorsFixtureNoI2C(t *testing.T) {
	code, out, _ := sensorsCLI(t, "--w1-root", w1Fixture)
	if code != 0 || !strings.Contains(out, "28-0316a2795eff") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.Contains(out, "cannot open I2C bus 1") && !strings.Contains(out, "dtparam=i2c_arm=on") {
		t.Errorf("no advice for the missing I2C bus:\n%s", out)
	}
}

func TestSensorsNothingFound(t *testing.T) {
	for name, root := range map[string]string{"empty": t.TempDir(), "missing": t.TempDir() + "/w1"} {
		t.Run(name, func(t *testing.T) {
			code, out, _ := sensorsCLI(t, "--w1-root", root, "--i2c", "")
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, out)
			}
			for _, want := range []string{"No sensors found.", "dtoverlay=w1-gpio,gpiopin=4", "config.txt", "ls /sys/bus/w1/devices/"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestSensorsI2CAdvice(t *testing.T) {
	var out bytes.Buffer
	noBus := func(string) (i2c.Bus, error) { return nil, errors.New("i2creg: can't open unknown bus") }
	if code := scanSensors(context.Background(), "", []int{1}, noBus, &out); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"No sensors found.", "cannot open I2C bus 1", "dtparam=i2c_arm=on", "ls /dev/i2c-*", "i2cdetect -y 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// addrBus answers at the addresses it has a Playback for; nothing ACKs elsewhere.
type addrBus map[uint16]*i2ctest.Playback

func (a addrBus) String() string                  { return "fake" }
func (a addrBus) SetSpeed(physic.Frequency) error { return nil }
func (a addrBus) Tx(addr uint16, w, r []byte) error {
	if p, ok := a[addr]; ok {
		return p.Tx(addr, w, r)
	}
	return errors.New("remote I/O error")
}

func TestSensorsI2CNothingAnswers(t *testing.T) {
	var out bytes.Buffer
	open := func(string) (i2c.Bus, error) { return addrBus{}, nil }
	if code := scanSensors(context.Background(), "", []int{1}, open, &out); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"No sensors found.", "nothing answers on I2C bus 1", "i2cdetect -y 1", "SDA"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "dtparam") {
		t.Errorf("I2C is on, yet the advice says to turn it on:\n%s", out.String())
	}
}

func TestSensorsI2CTable(t *testing.T) {
	// Bus 1: an SHT4x at 0x46 (serial, then T 0x6666 = 25 °C, RH 0x9999 = 69 %).
	// Bus 0: a BMP280 at 0x77, which the gateway cannot read.
	sht := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x46, W: []byte{0x89}},
		{Addr: 0x46, R: []byte{0x12, 0x34, 0x37, 0x56, 0x78, 0x7D}},
		{Addr: 0x46, W: []byte{0xFD}},
		{Addr: 0x46, R: []byte{0x66, 0x66, 0x93, 0x99, 0x99, 0xBE}},
	}}
	bmp := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: 0x77, W: []byte{0xD0}, R: []byte{0x58}}}}
	buses := map[string]i2c.Bus{"1": addrBus{0x46: sht}, "0": addrBus{0x77: bmp}}
	open := func(name string) (i2c.Bus, error) { return buses[name], nil }
	var out bytes.Buffer
	if code := scanSensors(context.Background(), "", []int{1, 0}, open, &out); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	for _, row := range []string{
		`(?m)^sht4x +i2c1:0x46 +25 °C  69 %RH$`,
		`(?m)^\? +i2c0:0x77 +error: .*BMP280`,
		`(?m)^  - \{id: sht4x-46, zone: ZONE, source: sht4x, address: "0x46"\}$`,
	} {
		if !regexp.MustCompile(row).MatchString(out.String()) {
			t.Errorf("output lacks %s:\n%s", row, out.String())
		}
	}
	checkConfigLines(t, out.String(), "i2c1:0x46")
	for _, p := range []*i2ctest.Playback{sht, bmp} {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSensorsConfigLineOtherBus(t *testing.T) {
	var out bytes.Buffer
	out.WriteString("  " + configLine(findingAt("bme280", "i2c0:0x76")) + "\n")
	out.WriteString("  " + configLine(findingAt("sht3x", "i2c1:0x45")) + "\n")
	checkConfigLines(t, out.String(), "i2c0:0x76", "i2c1:0x45")
	if !strings.Contains(out.String(), `{id: bme280-0-76, zone: ZONE, source: bme280, address: "i2c0:0x76"}`) {
		t.Fatalf("config lines:\n%s", out.String())
	}
}

func TestSensorsUsage(t *testing.T) {
	if code, _, errOut := sensorsCLI(t, "--i2c", "one"); code != 2 || !strings.Contains(errOut, "--i2c") {
		t.Errorf("--i2c one: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := sensorsCLI(t, "extra"); code != 2 {
		t.Errorf("extra argument: exit %d", code)
	}
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"help", "sensors"}, &out, &errb); code != 0 {
		t.Fatalf("help sensors: exit %d", code)
	}
	for _, want := range []string{"Usage: saqshy-gateway sensors", "--w1-root", "-i2c", "DS18B20", "config.txt", "check-config"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, errb.String())
		}
	}
}

// checkConfigLines pastes the printed config lines, with a zone, into a centre
// config and checks that it loads and that the sensors' devices are want: the
// addresses the gateway will match the readings on.
func checkConfigLines(t *testing.T, out string, want ...string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  - {id: ") {
			lines = append(lines, strings.Replace(l, "zone: ZONE", "zone: fridge", 1))
		}
	}
	if len(lines) != len(want) {
		t.Fatalf("%d config lines, want %d:\n%s", len(lines), len(want), out)
	}
	yaml := "centre: {id: c1}\nzones: [{id: fridge, kind: med-fridge}]\nsensors:\n" + strings.Join(lines, "\n") + "\n"
	cfg, err := config.Parse("pasted.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("the pasted lines do not pass check-config: %v\n%s", err, yaml)
	}
	for i, s := range cfg.Sensors {
		if s.Device() != want[i] {
			t.Errorf("sensor %d: Device() = %q, want %q", i, s.Device(), want[i])
		}
	}
}

func findingAt(kind, addr string) localsensor.Finding {
	return localsensor.Finding{Kind: kind, Address: addr}
}

// TestI2COpenErrorIsPlain: periph's registry message ("did you forget to call
// Init()?") never reaches the technician.
func TestI2COpenErrorIsPlain(t *testing.T) {
	dev := t.TempDir()
	b := &i2cBuses{dev: dev}
	_, err := b.Open("7")
	if err == nil || strings.Contains(err.Error(), "Init()") || strings.Contains(err.Error(), "i2creg") ||
		!strings.Contains(err.Error(), "there is no "+dev+"/i2c-7: I2C is off") {
		t.Errorf("no device file: %v", err)
	}
	if err := os.WriteFile(dev+"/i2c-7", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = b.Open("7")
	if err == nil || strings.Contains(err.Error(), "Init()") || !strings.Contains(err.Error(), "I2C drivers did not start") {
		t.Errorf("device file but no driver: %v", err)
	}
}
