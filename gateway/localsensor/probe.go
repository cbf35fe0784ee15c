package localsensor

import (
	"context"
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3/physic"

	"github.com/saqshy/saqshy/gateway/internal/clockx"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Probe is one sensor wired to the Pi.
//
// The [Poller] calls Read from one goroutine, once per interval; a Probe need not
// be safe for concurrent use.
type Probe interface {
	// Read measures once, waiting for the conversion (up to about a second for a
	// DS18B20 at 12 bits), and returns the sample with Device set to the probe's
	// address (see String) and Time left zero: the caller stamps it. A failed read
	// returns an error wrapping one of the package's sentinels ([ErrCRC],
	// [ErrBus], ...) or ctx.Err() when ctx ended first; the probe stays usable and
	// the next Read tries again from the start.
	Read(ctx context.Context) (telemetry.Sample, error)
	// String returns the probe's address as [config.Sensor.Device] normalises it:
	// "28-0316a2795eff" for a 1-Wire probe, "i2c1:0x44" for an I²C chip.
	String() string
}

// SleepFunc waits for d or until ctx is done, whichever comes first, and returns
// ctx.Err() in the latter case. Drivers and the Poller wait through it for
// conversion times and intervals; tests pass one that records the durations, or
// run the default [Sleep] inside a testing/synctest bubble.
type SleepFunc func(ctx context.Context, d time.Duration) error

// Sleep is the default [SleepFunc]: a timer raced against ctx.Done.
func Sleep(ctx context.Context, d time.Duration) error { return clockx.Sleep(ctx, d) }

func orSleep(s SleepFunc) SleepFunc {
	if s == nil {
		return Sleep
	}
	return s
}

// Emit delivers the samples of one polling round; it returns once they are durable
// (or ctx is done). It owns samples after the call.
type Emit func(ctx context.Context, samples []telemetry.Sample) error

// celsius converts t to degrees Celsius.
func celsius(t physic.Temperature) float64 {
	return float64(t-physic.ZeroCelsius) / float64(physic.Celsius)
}

// percent converts h to percent relative humidity.
func percent(h physic.RelativeHumidity) float64 {
	return float64(h) / float64(physic.PercentRH)
}

// round2 rounds x to two decimals, the resolution of the SHT and BME chips.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// newSample builds a sample for device and checks every value is plausible.
func newSample(device string, values ...telemetry.Value) (telemetry.Sample, error) {
	for _, v := range values {
		if err := telemetry.CheckValue(v); err != nil {
			return telemetry.Sample{}, fmt.Errorf("%s: implausible reading: %w: %w", device, ErrBadData, err)
		}
	}
	return telemetry.Sample{Device: device, Values: values}, nil
}

// readEnv is the Read of a chip that measures temperature and humidity: it
// measures with sense and rounds both to 0.01 (the chips' resolution).
func readEnv(ctx context.Context, device string, sense func(context.Context) (physic.Env, error)) (telemetry.Sample, error) {
	e, err := sense(ctx)
	if err != nil {
		return telemetry.Sample{}, err
	}
	return newSample(device,
		telemetry.Value{Metric: telemetry.Temperature, V: round2(celsius(e.Temperature))},
		telemetry.Value{Metric: telemetry.Humidity, V: round2(percent(e.Humidity))},
	)
}

// readTemperature is the Read of a probe that measures temperature alone.
func readTemperature(ctx context.Context, device string, temp func(context.Context) (physic.Temperature, error)) (telemetry.Sample, error) {
	t, err := temp(ctx)
	if err != nil {
		return telemetry.Sample{}, err
	}
	return newSample(device, telemetry.Value{Metric: telemetry.Temperature, V: celsius(t)})
}

// senseRetried measures with once; after a retryable failure (a bus error, a CRC
// failure) it calls reset and measures once more.
func senseRetried(ctx context.Context, once func(context.Context) (physic.Env, error), reset func(context.Context) error) (physic.Env, error) {
	e, err := once(ctx)
	if err == nil || ctx.Err() != nil || !IsRetryable(err) {
		return e, err
	}
	if rerr := reset(ctx); rerr != nil {
		return physic.Env{}, fmt.Errorf("%w; then %w", err, rerr)
	}
	if e, err = once(ctx); err != nil {
		return physic.Env{}, fmt.Errorf("after soft reset: %w", err)
	}
	return e, nil
}

// i2cName is the normalised address of an I²C chip: "i2c1:0x44".
func i2cName(bus int, addr uint16) string { return fmt.Sprintf("i2c%d:0x%02x", bus, addr) }
