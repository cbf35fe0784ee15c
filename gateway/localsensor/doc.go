// Package localsensor reads the sensors wired to the Raspberry Pi's own pins —
// DS18B20 probes on 1-Wire, SHT3x, SHT4x and BME280 chips on I²C — and polls them
// into telemetry samples.
//
// # Concepts
//
// A [Probe] is one sensor: Read measures once and returns a [telemetry.Sample]
// whose Device is the sensor's address as [config.Sensor.Device] normalises it
// ("28-0316a2795eff", "i2c1:0x44"), so the gateway resolves local readings exactly
// like MQTT ones. [Open] builds the probe for a configured sensor from [Deps] (the
// sysfs root, an I²C bus opener, optionally a periph 1-Wire bus); [Targets] does it
// for a whole config. A [Poller] reads a set of probes, each on its interval with
// jitter, hands the good readings to an [Emit] function and reports every failure
// to OnError: a failing probe is a condition, never a crash.
//
// The drivers are our own, one file per chip, written against the bus interfaces
// of periph.io/x/conn/v3, [periph.io/x/conn/v3/i2c.Bus] and
// [periph.io/x/conn/v3/onewire.Bus]; they never own or close a bus. DS18B20
// probes are read through the kernel's w1-therm sysfs files ([W1Therm], the usual
// Pi setup with dtoverlay=w1-gpio) or, given a periph 1-Wire bus, directly
// ([DS18B20]). Every wait (conversion times, intervals) goes through an injected
// [SleepFunc], so tests replay recorded bus traffic (i2ctest.Playback,
// onewiretest.Playback) instantly.
//
// Errors wrap sentinels — [ErrCRC], [ErrPowerOn], [ErrDisconnected], [ErrBus],
// [ErrWrongChip], [ErrBadData] — checked with [errors.Is]; [IsRetryable] says
// whether trying again soon may help (the [Retryable] behaviour, like periph's
// onewire.BusError). The SHT and BME280 drivers soft-reset the chip and retry once
// after a bus or CRC error; the DS18B20 driver re-reads a bad scratchpad once.
//
// [ScanW1] and [ScanI2C] find what is wired (saqshy-gateway sensors); opening the
// host's buses (periph host.Init, i2creg.Open) is left to the command.
//
// # References
//
// Maxim DS18B20 Programmable Resolution 1-Wire Digital Thermometer:
// https://www.analog.com/media/en/technical-documentation/data-sheets/DS18B20.pdf
//
// Maxim Application Note 27, Understanding and Using Cyclic Redundancy Checks with
// Maxim 1-Wire and iButton Products (the Dallas CRC-8):
// https://www.analog.com/en/resources/technical-articles/understanding-and-using-cyclic-redundancy-checks-with-maxim-1wire-and-ibutton-products.html
//
// Linux kernel w1_therm driver (w1_slave, temperature and resolution files):
// https://www.kernel.org/doc/html/latest/w1/slaves/w1_therm.html
//
// Sensirion SHT3x-DIS datasheet, Humidity and Temperature Sensor:
// https://sensirion.com/media/documents/213E6A3B/63A5A569/Datasheet_SHT3x_DIS.pdf
//
// Sensirion SHT4x datasheet, 4th Generation Relative Humidity and Temperature Sensor:
// https://sensirion.com/media/documents/33FD6951/662A593A/HT_DS_Datasheet_SHT4x.pdf
//
// Bosch Sensortec BME280 Combined humidity and pressure sensor, BST-BME280-DS002
// (section 4.2.3, compensation formulas; section 5, registers; appendix B,
// measurement time):
// https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bme280-ds002.pdf
//
// periph.io conn/v3, the bus interfaces and their test doubles:
// https://pkg.go.dev/periph.io/x/conn/v3
package localsensor
