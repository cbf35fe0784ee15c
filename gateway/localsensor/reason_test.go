package localsensor

import (
	"errors"
	"fmt"
	"testing"
)

func TestReason(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("ds18b20 28-0000: read: %w", ErrCRC), "crc"},
		{fmt.Errorf("x: %w", ErrPowerOn), "power_on_value"},
		{ErrDisconnected, "disconnected"},
		{fmt.Errorf("bme280 i2c1/0x76: %w", ErrWrongChip), "wrong_chip"},
		{fmt.Errorf("sht3x: %w: %w", ErrBus, errors.New("i2c: NACK")), "bus_error"},
		{fmt.Errorf("w1_slave: %w", ErrBadData), "bad_data"},
		{errors.New("permission denied"), "read_error"},
	} {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
