package localsensor

import (
	"errors"
)

// Errors a probe returns, wrapped with the probe's address and the step that failed.
// Check them with [errors.Is]; ask [IsRetryable] whether trying again soon may help.
var (
	// ErrCRC: the data failed its checksum (noise, a long or unshielded cable, a
	// loose contact, a missing pull-up). Retryable.
	ErrCRC error = &kindError{"checksum mismatch", true}
	// ErrPowerOn: a DS18B20 returned its power-on reset value, 85 °C, or lost its
	// configuration: it restarted or no conversion took place, usually a weak
	// supply or parasite power without a strong pull-up. Retryable.
	ErrPowerOn error = &kindError{"power-on value 85 °C: the probe restarted or did not convert", true}
	// ErrDisconnected: nothing answered: an all-ones or all-zeros 1-Wire
	// scratchpad, the −127 °C "disconnected" value, no presence pulse, or a probe
	// missing from sysfs. Retrying at once will not help; check the wiring.
	ErrDisconnected error = &kindError{"no answer from the probe (disconnected or shorted)", false}
	// ErrBus: an I²C or 1-Wire transaction failed (NACK, arbitration lost, I/O
	// error). Errors wrapping it also wrap the bus driver's own error. Retryable.
	ErrBus error = &kindError{"bus transaction failed", true}
	// ErrWrongChip: something answered at the address, but not the chip the
	// config names (a BMP280 where a BME280 was expected). Not retryable.
	ErrWrongChip error = &kindError{"unexpected chip", false}
	// ErrBadData: the device answered with data that cannot be a reading (a
	// skipped BME280 measurement, a malformed w1_slave file, a value outside the
	// chip's range). Retryable.
	ErrBadData error = &kindError{"invalid data", true}
)

// Retryable is implemented by errors that know whether retrying may help, as
// periph's onewire.BusError does for bus faults. Every sentinel above implements it.
type Retryable interface {
	// Retryable reports whether the same operation may succeed if tried again soon.
	Retryable() bool
}

// IsRetryable reports whether err, or an error it wraps, says that trying again
// soon may succeed: checksum and bus faults, a probe that restarted. Context
// errors, wrong chips and disconnected probes are not retryable.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, ErrDisconnected) || errors.Is(err, ErrWrongChip) {
		return false
	}
	var r Retryable
	if errors.As(err, &r) {
		return r.Retryable()
	}
	var b interface{ BusError() bool } // periph onewire.BusError
	return errors.As(err, &b) && b.BusError()
}

// kindError is the type of the sentinels.
type kindError struct {
	msg   string
	retry bool
}

func (e *kindError) Error() string { return e.msg }

// Retryable implements Retryable.
func (e *kindError) Retryable() bool { return e.retry }

// busError wraps an error returned by a bus driver's Tx; it Is ErrBus.
type busError struct {
	op  string
	err error
}

func (e *busError) Error() string { return e.op + ": " + e.err.Error() }
func (e *busError) Unwrap() error { return e.err }

// Is reports whether target is ErrBus.
func (e *busError) Is(target error) bool { return target == ErrBus }

// Retryable implements Retryable: a bus fault may be transient.
func (e *busError) Retryable() bool { return true }

// BusError implements periph's onewire.BusError.
func (e *busError) BusError() bool { return true }

// wrapBus classifies an error from a bus Tx. A 1-Wire bus that saw no presence
// pulse (periph's onewire.NoDevicesError) means the probe is disconnected.
func wrapBus(op string, err error) error {
	var nd interface{ NoDevices() bool }
	if errors.As(err, &nd) && nd.NoDevices() {
		return &disconnectedError{busError{op, err}}
	}
	return &busError{op, err}
}

// disconnectedError is a bus error that Is ErrDisconnected too.
type disconnectedError struct{ busError }

func (e *disconnectedError) Is(target error) bool {
	return target == ErrDisconnected || target == ErrBus
}

// Retryable implements Retryable: no device answered, retrying at once won't help.
func (e *disconnectedError) Retryable() bool { return false }

var (
	_ Retryable = (*kindError)(nil)
	_ Retryable = (*busError)(nil)
	_ Retryable = (*disconnectedError)(nil)
)

// Reason returns the counter label of a failed read: "crc", "power_on_value",
// "disconnected", "wrong_chip", "bus_error", "bad_data", or "read_error" for any
// other error.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrCRC):
		return "crc"
	case errors.Is(err, ErrPowerOn):
		return "power_on_value"
	case errors.Is(err, ErrDisconnected):
		return "disconnected"
	case errors.Is(err, ErrWrongChip):
		return "wrong_chip"
	case errors.Is(err, ErrBus):
		return "bus_error"
	case errors.Is(err, ErrBadData):
		return "bad_data"
	}
	return "read_error"
}
