package localsensor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/onewire"
	"periph.io/x/conn/v3/onewire/onewiretest"
	"periph.io/x/conn/v3/physic"
)

// sleeps records the waits a driver asks for and returns at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) check(t *testing.T, want ...time.Duration) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d) != len(want) {
		t.Fatalf("waits %v, want %v", s.d, want)
	}
	for i := range want {
		if s.d[i] != want[i] {
			t.Fatalf("waits %v, want %v", s.d, want)
		}
	}
}

// errNACK is what a Linux I²C adapter reports when no chip acknowledges.
var errNACK = errors.New("sysfs-i2c: remote I/O error")

// faultBus is an i2c.Bus that fails the transactions whose index (counted from 0
// over every Tx) is in fail, the way a noisy bus NACKs, and passes the others to
// the Playback: its ops hold only the transactions that reach the chip.
type faultBus struct {
	*i2ctest.Playback
	fail map[int]error
	n    int
}

func (b *faultBus) Tx(addr uint16, w, r []byte) error {
	n := b.n
	b.n++
	if err, ok := b.fail[n]; ok {
		return err
	}
	return b.Playback.Tx(addr, w, r)
}

// addrBus routes each address to its own bus; nothing answers elsewhere.
type addrBus map[uint16]i2c.Bus

func (a addrBus) String() string                  { return "addrbus" }
func (a addrBus) SetSpeed(physic.Frequency) error { return nil }
func (a addrBus) Tx(addr uint16, w, r []byte) error {
	if b, ok := a[addr]; ok {
		return b.Tx(addr, w, r)
	}
	return errNACK
}

// faultWire is a onewire.Bus failing the transactions whose index is in fail and
// passing the others to the Playback.
type faultWire struct {
	*onewiretest.Playback
	fail map[int]error
	n    int
}

func (b *faultWire) Tx(w, r []byte, pull onewire.Pullup) error {
	n := b.n
	b.n++
	if err, ok := b.fail[n]; ok {
		return err
	}
	return b.Playback.Tx(w, r, pull)
}

// noPresence is the error a 1-Wire bus returns when no device answers the reset.
type noPresence struct{}

func (noPresence) Error() string   { return "onewire: no devices responded to reset" }
func (noPresence) NoDevices() bool { return true }

var (
	_ i2c.Bus     = (*faultBus)(nil)
	_ i2c.Bus     = addrBus(nil)
	_ onewire.Bus = (*faultWire)(nil)
)
