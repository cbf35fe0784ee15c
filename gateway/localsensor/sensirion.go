package localsensor

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// sht is what the SHT3x and SHT4x drivers share: a single-shot measurement of two
// CRC-protected words, a soft reset, and one retry after it.
type sht struct {
	bus         i2c.Bus
	addr        uint16
	name        string // "i2c1:0x44"
	kind        string // "sht3x"
	sleep       SleepFunc
	measure     []byte // single-shot, high repeatability, no clock stretching
	measureWait time.Duration
	reset       []byte // soft reset
	resetWait   time.Duration
	humidity    func(raw uint16) physic.RelativeHumidity
}

// on returns the chip template c attached to the chip at addr on bus; busNum
// names it ("i2c1:0x44"). sleep nil means [Sleep].
func (c sht) on(bus i2c.Bus, busNum int, addr uint16, sleep SleepFunc) sht {
	c.bus, c.addr, c.name, c.sleep = bus, addr, i2cName(busNum, addr), orSleep(sleep)
	return c
}

// sense measures; after a bus error or a CRC failure it soft-resets the chip and
// measures once more.
func (s *sht) sense(ctx context.Context) (physic.Env, error) {
	return senseRetried(ctx, s.measureOnce, s.softReset)
}

func (s *sht) measureOnce(ctx context.Context) (physic.Env, error) {
	if err := s.bus.Tx(s.addr, s.measure, nil); err != nil {
		return physic.Env{}, fmt.Errorf("%s %s: %w", s.kind, s.name, wrapBus("start measurement", err))
	}
	if err := s.sleep(ctx, s.measureWait); err != nil {
		return physic.Env{}, err
	}
	var b [6]byte
	if err := s.bus.Tx(s.addr, nil, b[:]); err != nil {
		return physic.Env{}, fmt.Errorf("%s %s: %w", s.kind, s.name, wrapBus("read measurement", err))
	}
	e, err := convertSHT(&b, s.humidity)
	if err != nil {
		return physic.Env{}, fmt.Errorf("%s %s: measurement % x: %w", s.kind, s.name, b[:], err)
	}
	return e, nil
}

func (s *sht) softReset(ctx context.Context) error {
	if err := s.bus.Tx(s.addr, s.reset, nil); err != nil {
		return fmt.Errorf("%s %s: %w", s.kind, s.name, wrapBus("soft reset", err))
	}
	return s.sleep(ctx, s.resetWait)
}

// convertSHT checks the two words of a Sensirion measurement (temperature then
// humidity, each followed by its CRC) and converts them.
func convertSHT(b *[6]byte, humidity func(uint16) physic.RelativeHumidity) (physic.Env, error) {
	if err := checkWords(b[:]); err != nil {
		return physic.Env{}, err
	}
	return physic.Env{
		Temperature: shtTemperature(uint16(b[0])<<8 | uint16(b[1])),
		Humidity:    humidity(uint16(b[3])<<8 | uint16(b[4])),
	}, nil
}

// shtTemperature is T = -45 + 175·raw/65535 °C, the same for SHT3x and SHT4x.
func shtTemperature(raw uint16) physic.Temperature {
	return physic.ZeroCelsius - 45*physic.Celsius + 175*physic.Celsius*physic.Temperature(raw)/65535
}

// checkWords checks each 3-byte group of b: a 16-bit word and its CRC.
func checkWords(b []byte) error {
	for i := 0; i+3 <= len(b); i += 3 {
		if crc8Sensirion(b[i:i+2]) != b[i+2] {
			return ErrCRC
		}
	}
	return nil
}

// crc8Sensirion is Sensirion's CRC-8: polynomial 0x31 (x⁸+x⁵+x⁴+1), init 0xFF, no
// reflection, no final XOR. crc8Sensirion([]byte{0xBE, 0xEF}) == 0x92.
func crc8Sensirion(b []byte) byte {
	crc := byte(0xFF)
	for _, c := range b {
		crc ^= c
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ 0x31
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
