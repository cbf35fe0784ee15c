package localsensor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"periph.io/x/conn/v3/onewire"
	"periph.io/x/conn/v3/physic"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// DefaultW1Root is where the kernel's w1 bus master lists 1-Wire devices on a
// Raspberry Pi with dtoverlay=w1-gpio.
const DefaultW1Root = "/sys/bus/w1/devices"

// DS18B20 facts (Maxim DS18B20 datasheet, "ROM Commands", "DS18B20 Function
// Commands", "Memory").
const (
	ds18b20Family      = 0x28
	cmdConvertT        = 0x44
	cmdReadScratchpad  = 0xBE
	cmdWriteScratchpad = 0x4E
	powerOnRaw         = 0x0550 // +85 °C, the temperature register's power-on value
	disconnectedMilli  = -127000
	minMilli, maxMilli = -55000, 125000 // the DS18B20's measuring range
)

// convTime is the DS18B20's maximum conversion time at bits of resolution:
// 93.75 ms at 9 bits, doubling with each bit to 750 ms at 12 bits.
func convTime(bits int) time.Duration {
	return 750 * time.Millisecond >> (12 - bits)
}

// ---------------------------------------------------------------------------
// The kernel's w1-therm driver (sysfs).

// ListW1 returns the names of the DS18B20 probes (family 28) the kernel lists under
// root (normally [DefaultW1Root]), sorted: "28-0316a2795eff". A missing root
// wraps [fs.ErrNotExist]: the w1-gpio overlay is not loaded.
func ListW1(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list 1-Wire devices: %w", err)
	}
	var names []string
	for _, e := range ents {
		if validW1Name(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// validW1Name reports whether name is a DS18B20 as the kernel names it:
// "28-" and 12 lower-case hex digits.
func validW1Name(name string) bool {
	if len(name) != 15 || !strings.HasPrefix(name, "28-") {
		return false
	}
	for _, c := range []byte(name[3:]) {
		if _, ok := unhex(c); !ok || (c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// W1Therm reads a DS18B20 through the kernel's w1-therm driver: the common
// Raspberry Pi setup (dtoverlay=w1-gpio). The kernel does the 1-Wire timing,
// waits for the conversion and checks the CRC.
type W1Therm struct {
	dir  string
	name string
	res  int  // resolution to set in bits, 0 = the kernel's
	done bool // res written, or the attempt failed and was reported
	ok   bool // res written successfully
}

// NewW1Therm returns the probe named name ("28-0316a2795eff") under root
// (normally [DefaultW1Root]). It does no I/O: a probe plugged in later is read
// once the kernel lists it.
func NewW1Therm(root, name string) (*W1Therm, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if !validW1Name(name) {
		return nil, fmt.Errorf("ds18b20: invalid 1-Wire address %q: want 28-xxxxxxxxxxxx", name)
	}
	return &W1Therm{dir: filepath.Join(root, name), name: name}, nil
}

// SetResolution asks for a resolution of bits, 9 to 12 (0.5 °C to 0.0625 °C;
// conversion 93.75 ms to 750 ms), written to the probe's sysfs resolution
// attribute (w1_therm, Linux 5.10 and later) by the first Read that finds the
// probe listed; 0 keeps the kernel's (the probe's own) setting. Call it before
// the first Read.
//
// The write is attempted once. If it fails, that Read returns the error and no
// reading: it wraps [fs.ErrNotExist] when the kernel has no resolution attribute,
// [fs.ErrPermission] when the gateway may not write it (neither retryable) and
// [ErrBus] otherwise. Later reads proceed at the kernel's setting without
// trying again. The kernel sets the scratchpad only, so after a read finds the
// probe disconnected or restarted (power-on value), a successful setting is
// written again.
func (p *W1Therm) SetResolution(bits int) error {
	if bits != 0 && (bits < 9 || bits > 12) {
		return fmt.Errorf("ds18b20 %s: resolution %d bits: want 9 to 12", p.name, bits)
	}
	p.res, p.done, p.ok = bits, false, false
	return nil
}

// setResolution writes p.res to the resolution attribute, once: see
// [W1Therm.SetResolution]. A probe the kernel does not list is left for a later
// read (the read that follows reports it disconnected).
func (p *W1Therm) setResolution() error {
	if p.res == 0 || p.done {
		return nil
	}
	if _, err := os.Stat(p.dir); err != nil {
		return nil
	}
	p.done = true
	f, err := os.OpenFile(filepath.Join(p.dir, "resolution"), os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(strconv.Itoa(p.res) + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	switch {
	case err == nil:
		p.ok = true
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("ds18b20 %s: cannot set resolution %d bits: the kernel has no %s (w1_therm before Linux 5.10); later reads use the probe's own: %w",
			p.name, p.res, filepath.Join(p.dir, "resolution"), err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("ds18b20 %s: cannot set resolution %d bits (run as root or make the attribute writable); later reads use the probe's own: %w", p.name, p.res, err)
	}
	return fmt.Errorf("ds18b20 %s: set resolution %d bits; later reads use the probe's own: %w", p.name, p.res, wrapBus("write sysfs resolution", err))
}

// String implements Probe: the probe's name, "28-0316a2795eff".
func (p *W1Therm) String() string { return p.name }

// Read implements Probe. The kernel blocks the read for the conversion (up to
// 750 ms) and it cannot be interrupted; ctx is checked before it starts. The
// first read writes the resolution set by [W1Therm.SetResolution].
func (p *W1Therm) Read(ctx context.Context) (telemetry.Sample, error) {
	return readTemperature(ctx, p.name, p.Temperature)
}

// Temperature reads the probe's w1_slave file (the scratchpad, the kernel's CRC
// verdict and t=millidegrees) or, where the kernel has no w1_slave, its
// temperature file (millidegrees). A CRC verdict of NO wraps [ErrCRC]; 85 °C
// wraps [ErrPowerOn]; −127 °C, an all-ones scratchpad or a missing probe wrap
// [ErrDisconnected]; a read error from the kernel (EIO) wraps [ErrBus].
func (p *W1Therm) Temperature(ctx context.Context) (physic.Temperature, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := p.setResolution(); err != nil {
		return 0, err
	}
	t, err := p.temperature()
	if p.ok && (errors.Is(err, ErrDisconnected) || errors.Is(err, ErrPowerOn)) {
		p.done, p.ok = false, false // the probe may have lost power: set it again
	}
	return t, err
}

func (p *W1Therm) temperature() (physic.Temperature, error) {
	b, err := os.ReadFile(filepath.Join(p.dir, "w1_slave"))
	parse := parseW1Slave
	if errors.Is(err, fs.ErrNotExist) {
		b, err = os.ReadFile(filepath.Join(p.dir, "temperature"))
		parse = parseW1Temperature
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(p.dir); serr != nil {
				return 0, fmt.Errorf("ds18b20 %s: not listed by the kernel: %w", p.name, ErrDisconnected)
			}
			return 0, fmt.Errorf("ds18b20 %s: neither w1_slave nor temperature in %s: %w", p.name, p.dir, ErrBadData)
		}
		return 0, fmt.Errorf("ds18b20 %s: %w", p.name, wrapBus("read sysfs", err))
	}
	m, err := parse(b)
	if err != nil {
		return 0, fmt.Errorf("ds18b20 %s: %w", p.name, err)
	}
	return milliToTemperature(m), nil
}

func milliToTemperature(m int32) physic.Temperature {
	return physic.ZeroCelsius + physic.Temperature(m)*physic.MilliCelsius
}

// parseW1Slave parses the kernel's w1_slave file and returns millidegrees Celsius:
//
//	5e 01 4b 46 7f ff 0c 10 51 : crc=51 YES
//	5e 01 4b 46 7f ff 0c 10 51 t=21875
//
// The first line is the scratchpad, the CRC the kernel computed and its verdict;
// the second the scratchpad again and the temperature. It does not allocate on
// success.
func parseW1Slave(b []byte) (int32, error) {
	line1, rest, _ := bytes.Cut(b, []byte{'\n'})
	var sp [9]byte
	p := line1
	for i := range sp {
		if len(p) < 3 || p[2] != ' ' {
			return 0, errW1Format("scratchpad")
		}
		hi, ok1 := unhex(p[0])
		lo, ok2 := unhex(p[1])
		if !ok1 || !ok2 {
			return 0, errW1Format("scratchpad")
		}
		sp[i] = hi<<4 | lo
		p = p[3:]
	}
	if !bytes.HasPrefix(p, []byte(": crc=")) || len(p) < 9 || p[8] != ' ' {
		return 0, errW1Format("crc")
	}
	if _, ok := unhex(p[6]); !ok {
		return 0, errW1Format("crc")
	}
	if _, ok := unhex(p[7]); !ok {
		return 0, errW1Format("crc")
	}
	verdict := bytes.TrimRight(p[9:], "\r")
	if allBytes(sp[:], 0xFF) || allBytes(sp[:], 0x00) {
		return 0, fmt.Errorf("scratchpad % x: %w", bytes.Clone(sp[:]), ErrDisconnected) // a copy keeps sp on the stack
	}
	switch string(verdict) {
	case "YES":
	case "NO":
		return 0, fmt.Errorf("kernel reports crc NO for scratchpad % x: %w", bytes.Clone(sp[:]), ErrCRC)
	default:
		return 0, errW1Format("crc verdict")
	}
	line2, _, _ := bytes.Cut(rest, []byte{'\n'})
	line2 = bytes.TrimRight(line2, "\r")
	i := bytes.LastIndexByte(line2, ' ')
	t := line2[i+1:]
	if !bytes.HasPrefix(t, []byte("t=")) {
		return 0, errW1Format("t=")
	}
	m, ok := parseInt32(t[2:])
	if !ok {
		return 0, errW1Format("t=")
	}
	return m, checkMilli(m)
}

// parseW1Temperature parses the kernel's temperature file: millidegrees Celsius and
// a newline.
func parseW1Temperature(b []byte) (int32, error) {
	m, ok := parseInt32(bytes.TrimSpace(b))
	if !ok {
		return 0, fmt.Errorf("temperature file %q: %w", clip(b), ErrBadData)
	}
	return m, checkMilli(m)
}

// checkMilli rejects the DS18B20's sentinel values and readings outside its range.
func checkMilli(m int32) error {
	switch {
	case m == disconnectedMilli:
		return fmt.Errorf("-127 °C: %w", ErrDisconnected)
	case m == 85000:
		return ErrPowerOn
	case m < minMilli || m > maxMilli:
		return fmt.Errorf("%d m°C outside the DS18B20's range -55..125 °C: %w", m, ErrBadData)
	}
	return nil
}

type errW1Format string

func (e errW1Format) Error() string        { return "malformed w1_slave: bad " + string(e) }
func (e errW1Format) Is(target error) bool { return target == ErrBadData }

// Retryable implements Retryable, like ErrBadData.
func (e errW1Format) Retryable() bool { return true }

// ---------------------------------------------------------------------------
// A driver on a periph onewire.Bus.

// ParseW1Address converts a kernel-style name ("28-0316a2795eff") to the periph
// address of the device: family code in the low byte, then the 48-bit serial,
// then the ROM CRC (computed here) in the high byte.
func ParseW1Address(name string) (onewire.Address, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if !validW1Name(name) {
		return 0, fmt.Errorf("invalid 1-Wire address %q: want 28-xxxxxxxxxxxx", name)
	}
	serial, err := strconv.ParseUint(name[3:], 16, 48)
	if err != nil {
		return 0, fmt.Errorf("invalid 1-Wire address %q: %w", name, err)
	}
	var rom [8]byte
	rom[0] = ds18b20Family
	for i := 1; i < 7; i++ {
		rom[i] = byte(serial >> (8 * (i - 1)))
	}
	rom[7] = onewire.CalcCRC(rom[:7])
	var a onewire.Address
	for i := 7; i >= 0; i-- {
		a = a<<8 | onewire.Address(rom[i])
	}
	return a, nil
}

// W1Name returns the kernel-style name of a 1-Wire address: "28-0316a2795eff".
func W1Name(a onewire.Address) string {
	return fmt.Sprintf("%02x-%012x", byte(a), uint64(a>>8)&(1<<48-1))
}

// DS18B20Opts configures a [DS18B20].
type DS18B20Opts struct {
	// Resolution in bits, 9 to 12 (0.5 °C to 0.0625 °C; conversion 93.75 ms to
	// 750 ms). 0 keeps the probe's own setting (12 bits from the factory). The
	// setting is written to the scratchpad only (not copied to EEPROM), so it is
	// rewritten after the probe loses power.
	Resolution int
	// Sleep waits for conversions; nil means [Sleep].
	Sleep SleepFunc
}

// DS18B20 reads a Maxim DS18B20 on a periph [onewire.Bus], addressing it by its ROM
// code (Match ROM), so that many probes share one bus.
type DS18B20 struct {
	dev   onewire.Dev
	name  string
	want  int // requested resolution, 0 = the probe's own
	bits  int // resolution in use; 0 until configured
	sleep SleepFunc
}

// NewDS18B20 returns a driver for the DS18B20 at addr on bus. It does no I/O: the
// first Read configures the resolution. The bus stays the caller's.
func NewDS18B20(bus onewire.Bus, addr onewire.Address, opts DS18B20Opts) (*DS18B20, error) {
	if byte(addr) != ds18b20Family {
		return nil, fmt.Errorf("ds18b20: address %#016x has family %#02x, not 0x28", uint64(addr), byte(addr))
	}
	if opts.Resolution != 0 && (opts.Resolution < 9 || opts.Resolution > 12) {
		return nil, fmt.Errorf("ds18b20 %s: resolution %d bits: want 9 to 12", W1Name(addr), opts.Resolution)
	}
	return &DS18B20{
		dev:   onewire.Dev{Bus: bus, Addr: addr},
		name:  W1Name(addr),
		want:  opts.Resolution,
		sleep: orSleep(opts.Sleep),
	}, nil
}

// String implements Probe: "28-0316a2795eff".
func (d *DS18B20) String() string { return d.name }

// Read implements Probe.
func (d *DS18B20) Read(ctx context.Context) (telemetry.Sample, error) {
	return readTemperature(ctx, d.name, d.Temperature)
}

// Temperature starts a conversion (Convert T, with a strong pull-up for probes on
// parasite power), waits the conversion time of the resolution in use and reads
// the scratchpad, once more if its CRC fails or the bus errs. The first call, and
// the first after a failure, configures the resolution (Write Scratchpad).
//
// Errors: [ErrCRC] after two bad scratchpads; [ErrPowerOn] for 85 °C or a probe
// whose resolution changed under it (it restarted); [ErrDisconnected] for an
// all-ones or all-zeros scratchpad or no presence pulse; [ErrBus] otherwise.
func (d *DS18B20) Temperature(ctx context.Context) (physic.Temperature, error) {
	if d.bits == 0 {
		if err := d.configure(ctx); err != nil {
			return 0, err
		}
	}
	if err := d.dev.TxPower([]byte{cmdConvertT}, nil); err != nil {
		d.bits = 0
		return 0, fmt.Errorf("ds18b20 %s: %w", d.name, wrapBus("convert T", err))
	}
	if err := d.sleep(ctx, convTime(d.bits)); err != nil {
		return 0, err
	}
	sp, err := d.readScratchpad(ctx)
	if err != nil {
		d.bits = 0
		return 0, err
	}
	t, bits, err := decodeScratchpad(&sp)
	if err == nil && bits != d.bits {
		err = fmt.Errorf("resolution is %d bits, configured %d: %w", bits, d.bits, ErrPowerOn)
	}
	if err != nil {
		d.bits = 0
		return 0, fmt.Errorf("ds18b20 %s: %w", d.name, err)
	}
	return t, nil
}

// configure reads the scratchpad and, if the resolution differs from the one
// wanted, writes TH, TL (unchanged) and the configuration register, then reads the
// scratchpad back to check.
func (d *DS18B20) configure(ctx context.Context) error {
	sp, err := d.readScratchpad(ctx)
	if err != nil {
		return err
	}
	cur := resolution(sp[4])
	if d.want == 0 || d.want == cur {
		d.bits = cur
		return nil
	}
	w := []byte{cmdWriteScratchpad, sp[2], sp[3], configByte(d.want)}
	if err := d.dev.Tx(w, nil); err != nil {
		return fmt.Errorf("ds18b20 %s: %w", d.name, wrapBus("write scratchpad", err))
	}
	if sp, err = d.readScratchpad(ctx); err != nil {
		return err
	}
	if got := resolution(sp[4]); got != d.want {
		return fmt.Errorf("ds18b20 %s: set resolution %d bits, probe reports %d: %w", d.name, d.want, got, ErrBadData)
	}
	d.bits = d.want
	return nil
}

// readScratchpad reads the 9-byte scratchpad and checks it, reading it a second
// time after a CRC or bus error (a re-read does not restart the conversion).
func (d *DS18B20) readScratchpad(ctx context.Context) ([9]byte, error) {
	var sp [9]byte
	var err error
	for range 2 {
		if err = d.dev.Tx([]byte{cmdReadScratchpad}, sp[:]); err != nil {
			err = fmt.Errorf("ds18b20 %s: %w", d.name, wrapBus("read scratchpad", err))
		} else if err = checkScratchpad(&sp); err != nil {
			err = fmt.Errorf("ds18b20 %s: scratchpad % x: %w", d.name, sp[:], err)
		}
		if err == nil || !IsRetryable(err) || ctx.Err() != nil {
			break
		}
	}
	return sp, err
}

// checkScratchpad rejects a scratchpad nobody sent (all ones: no device pulled the
// line low; all zeros: the line is stuck low, whose CRC is valid) and one whose
// Dallas CRC-8 (byte 8) does not match.
func checkScratchpad(sp *[9]byte) error {
	if allBytes(sp[:], 0xFF) || allBytes(sp[:], 0x00) {
		return ErrDisconnected
	}
	if onewire.CalcCRC(sp[:8]) != sp[8] {
		return ErrCRC
	}
	return nil
}

// decodeScratchpad checks a scratchpad and returns the temperature and the
// resolution in bits. The bits a lower resolution leaves undefined are cleared, as
// the datasheet says.
func decodeScratchpad(sp *[9]byte) (t physic.Temperature, bits int, err error) {
	if err := checkScratchpad(sp); err != nil {
		return 0, 0, err
	}
	bits = resolution(sp[4])
	raw := int16(uint16(sp[1])<<8 | uint16(sp[0]))
	if raw == powerOnRaw {
		return 0, bits, ErrPowerOn
	}
	raw &^= 1<<(12-bits) - 1
	// raw is in 1/16 °C.
	return physic.ZeroCelsius + physic.Temperature(raw)*(physic.Celsius/16), bits, nil
}

// resolution decodes the configuration register (bits R1 R0 = 6, 5).
func resolution(cfg byte) int { return 9 + int(cfg>>5&3) }

// configByte encodes a resolution into the configuration register.
func configByte(bits int) byte { return byte(bits-9)<<5 | 0x1F }

// ---------------------------------------------------------------------------

func allBytes(b []byte, v byte) bool {
	for _, c := range b {
		if c != v {
			return false
		}
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseInt32 parses an optionally negative decimal of at most 9 digits.
func parseInt32(b []byte) (int32, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	var v int32
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int32(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

func clip(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "…"
	}
	return string(b)
}

var (
	_ Probe = (*W1Therm)(nil)
	_ Probe = (*DS18B20)(nil)
)
