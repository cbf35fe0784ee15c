package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"

	"github.com/saqshy/saqshy/gateway/localsensor"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

const sensorsHelp = `Usage: saqshy-gateway sensors [--w1-root DIR] [--i2c BUSES]

Lists the sensors wired to this Raspberry Pi and takes one reading from each:
the first command to run after wiring a probe.

  1-Wire  DS18B20 probes, through the kernel's w1-therm driver (DIR/28-*)
  I2C     SHT3x at 0x44/0x45, SHT4x at 0x44/0x45/0x46, BME280 at 0x76/0x77

For each sensor it prints the kind, the address and a reading, or what went
wrong and what to check. Then it prints a config line for each sensor to paste
under "sensors:" in the centre config. Set the id and zone in each line, then
run check-config.

When it finds nothing, it says what to add to config.txt to turn the buses on.

Exit status: 0 when at least one sensor answered, 1 when none did, 2 on a
usage error.
`

func sensorsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sensors", sensorsHelp, stderr)
	w1Root := fs.String("w1-root", localsensor.DefaultW1Root, `the kernel's 1-Wire device directory; "" skips 1-Wire`)
	i2cFlag := fs.String("i2c", "1", `comma-separated I2C bus numbers to scan (1 is /dev/i2c-1); "" skips I2C`)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	var buses []int
	for _, s := range strings.Split(*i2cFlag, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			fmt.Fprintf(stderr, "sensors: --i2c %q: want bus numbers such as 1 or 0,1\n", *i2cFlag)
			return 2
		}
		buses = append(buses, n)
	}
	var open func(bus string) (i2c.Bus, error)
	if len(buses) > 0 {
		// periph's host drivers register the Pi's I²C buses; process-global, so it
		// is done here in main, once.
		if _, err := host.Init(); err != nil {
			open = func(string) (i2c.Bus, error) { return nil, fmt.Errorf("periph host.Init: %w", err) }
		} else {
			b := &i2cBuses{}
			defer b.Close()
			open = b.Open

		}
	}
	return scanSensors(ctx, *w1Root, buses, open, stdout)
}

// scanSensors scans the 1-Wire directory w1Root (unless "") and each I²C bus
// opened with open, prints what it finds and returns the exit code.
func scanSensors(ctx context.Context, w1Root string, buses []int, open func(bus string) (i2c.Bus, error), out io.Writer) int {
	var found []localsensor.Finding
	var advice []string
	if w1Root != "" {
		fmt.Fprintf(out, "Scanning 1-Wire (%s)...\n", w1Root)
		probes, err := localsensor.ScanW1(ctx, w1Root)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			advice = append(advice, w1Advice(w1Root+" does not exist: the kernel's 1-Wire driver is not loaded."))
		case err != nil:
			advice = append(advice, w1Advice(err.Error()))
		case len(probes) == 0:
			advice = append(advice, w1Advice("the kernel lists no DS18B20 (28-*) under "+w1Root+"."))
		}
		found = append(found, probes...)
	}
	for _, n := range buses {
		fmt.Fprintf(out, "Scanning I2C bus %d (/dev/i2c-%d)...\n", n, n)
		bus, err := open(strconv.Itoa(n))
		if err != nil {
			advice = append(advice, i2cAdvice(n, fmt.Sprintf("cannot open I2C bus %d: %v", n, err), true))
			continue
		}
		chips := localsensor.ScanI2C(ctx, bus, n, nil)
		if len(chips) == 0 {
			advice = append(advice, i2cAdvice(n, fmt.Sprintf("nothing answers on I2C bus %d at 0x44, 0x45, 0x46, 0x76 or 0x77.", n), false))
		}
		found = append(found, chips...)
	}
	fmt.Fprintln(out)
	if len(found) == 0 {
		fmt.Fprintln(out, "No sensors found.")
	} else {
		printFindings(out, found)
	}
	for _, a := range advice {
		fmt.Fprintln(out)
		fmt.Fprint(out, a)
	}
	if len(found) == 0 {
		return 1
	}
	return 0
}

// printFindings prints the table, then the config lines to paste.
func printFindings(out io.Writer, found []localsensor.Finding) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tADDRESS\tREADING")
	for _, f := range found {
		kind := f.Kind
		if kind == "" {
			kind = "?"
		}
		if f.Err != nil {
			fmt.Fprintf(tw, "%s\t%s\terror: %v\n", kind, f.Address, f.Err)
			if h := hint(f.Err); h != "" {
				fmt.Fprintf(tw, "\t\t%s\n", h)
			}
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", kind, f.Address, formatSample(f.Sample))
	}
	_ = tw.Flush()

	var lines []string
	for _, f := range found {
		if f.Kind != "" {
			lines = append(lines, configLine(f))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(out, "\nPaste under \"sensors:\" in the centre config, then set each id and zone:")
	for _, l := range lines {
		fmt.Fprintln(out, "  "+l)
	}
}

func formatSample(s telemetry.Sample) string {
	var parts []string
	for _, v := range s.Values {
		switch v.Metric {
		case telemetry.Temperature:
			parts = append(parts, strconv.FormatFloat(v.V, 'f', -1, 64)+" °C")
		case telemetry.Humidity:
			parts = append(parts, strconv.FormatFloat(v.V, 'f', -1, 64)+" %RH")
		default:
			parts = append(parts, fmt.Sprintf("%s=%g", v.Metric, v.V))
		}
	}
	return strings.Join(parts, "  ")
}

// configLine is the sensors: entry for a finding, with a suggested id and a zone
// placeholder that check-config rejects until it is set.
func configLine(f localsensor.Finding) string {
	bus, a, i2c := strings.Cut(f.Address, ":")
	switch {
	case !i2c: // 1-Wire: "28-0316a2795eff" -> id ds18b20-795eff
		id := f.Kind + "-" + f.Address[max(len(f.Address)-6, 0):]
		return fmt.Sprintf("- {id: %s, zone: ZONE, source: %s, address: %s}", id, f.Kind, f.Address)
	case bus == "i2c1": // the config's default bus: "0x44"
		return fmt.Sprintf("- {id: %s-%s, zone: ZONE, source: %s, address: %q}", f.Kind, strings.TrimPrefix(a, "0x"), f.Kind, a)
	default:
		return fmt.Sprintf("- {id: %s-%s-%s, zone: ZONE, source: %s, address: %q}",
			f.Kind, strings.TrimPrefix(bus, "i2c"), strings.TrimPrefix(a, "0x"), f.Kind, f.Address)
	}
}

// hint says what to check for an error, or "".
func hint(err error) string {
	switch localsensor.Reason(err) {
	case "disconnected":
		return "hint: no answer; check the wiring (the kernel lists an unplugged probe for a while)"
	case "crc":
		return "hint: data corrupted on the wire; check the connections, the pull-up (4.7 kΩ to 3.3 V on 1-Wire) and the cable length"
	case "power_on_value":
		return "hint: the probe restarted (85 °C is its power-on value); check its 3.3 V supply, or the strong pull-up on parasite power"
	case "wrong_chip":
		return "hint: not a chip the gateway reads (DS18B20, SHT3x, SHT4x, BME280)"
	case "bus_error":
		return "hint: bus errors; check the SDA, SCL, 3.3 V and GND wires and the cable length"
	}
	return ""
}

func w1Advice(why string) string {
	return fmt.Sprintf(`1-Wire (DS18B20): %s
  To turn 1-Wire on, add this line to /boot/firmware/config.txt (/boot/config.txt
  before Raspberry Pi OS Bookworm), then reboot:
      dtoverlay=w1-gpio,gpiopin=4
  Wire the probe's DATA to GPIO4 (pin 7) with a 4.7 kΩ pull-up to 3.3 V (pin 1).
  After the reboot, "ls /sys/bus/w1/devices/" should list 28-xxxxxxxxxxxx.
`, why)
}

// i2cAdvice explains how to turn I2C on (off) or what to check when the bus
// works but no chip answers.
func i2cAdvice(bus int, why string, off bool) string {
	wiring := "  Wire SDA to GPIO2 (pin 3), SCL to GPIO3 (pin 5), VCC to 3.3 V and GND to GND.\n"
	if !off {
		return fmt.Sprintf(`I2C (SHT3x, SHT4x, BME280): %s
%s  Check the wiring (SDA and SCL swapped is common) and the breakout's supply.
  "i2cdetect -y %d" (package i2c-tools) shows the addresses that answer.
`, why, wiring, bus)
	}
	return fmt.Sprintf(`I2C (SHT3x, SHT4x, BME280): %s
  To turn I2C on, add this line to /boot/firmware/config.txt (/boot/config.txt
  before Raspberry Pi OS Bookworm), then reboot (or use raspi-config, Interface
  Options, I2C):
      dtparam=i2c_arm=on
%s  "ls /dev/i2c-*" should then list /dev/i2c-%d, and "i2cdetect -y %d" (package
  i2c-tools) shows the addresses that answer.
`, why, wiring, bus, bus)
}

// i2cBuses opens I²C buses through periph's registry (host.Init must have run),
// each once, and closes them together. Its Open method is a
// localsensor.Deps.OpenI2C.
type i2cBuses struct {
	mu   sync.Mutex
	open map[string]i2c.BusCloser
	dev  string // directory of the i2c-N device files; "" is /dev
}

// Open returns the bus with the given number ("1" for /dev/i2c-1), opening it on
// first use.
func (b *i2cBuses) Open(name string) (i2c.Bus, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bus, ok := b.open[name]; ok {
		return bus, nil
	}
	bus, err := i2creg.Open(name)
	if err != nil {
		return nil, b.openError(name, err)
	}
	if b.open == nil {
		b.open = map[string]i2c.BusCloser{}
	}
	b.open[name] = bus
	return bus, nil
}

// openError says why bus name could not be opened in the technician's terms: no
// device file means I2C is off; periph's own message (its registry's "did you forget
// to call Init()?") is not shown, as it speaks to programmers.
func (b *i2cBuses) openError(name string, err error) error {
	dev := b.dev
	if dev == "" {
		dev = "/dev"
	}
	path := dev + "/i2c-" + name
	_, serr := os.Stat(path)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		return fmt.Errorf("there is no %s: I2C is off", path)
	case errors.Is(serr, fs.ErrPermission):
		return fmt.Errorf("%s cannot be read by this user: add the user to the i2c group (sudo adduser $USER i2c), then log in again", path)
	case serr != nil:
		return fmt.Errorf("%s: %w", path, serr)
	}
	if strings.Contains(err.Error(), "Init()") {
		return fmt.Errorf("%s exists but the I2C drivers did not start (is this a Raspberry Pi with I2C on?)", path)
	}
	return fmt.Errorf("cannot open %s: %w", path, err)
}

// Close closes every bus opened.
func (b *i2cBuses) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for name, bus := range b.open {
		if err := bus.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close I2C bus %s: %w", name, err))
		}
	}
	b.open = nil
	return errors.Join(errs...)
}
