package localsensor_test

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/localsensor"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// The gateway's wiring: open the configured local sensors, poll them and hand
// each round's readings to emit.
func ExamplePoller() {
	sensors := []config.Sensor{
		{ID: "fridge-1", Zone: "med-fridge", Source: "ds18b20", Address: "28-0316a2795eff"},
		{ID: "fridge-2", Zone: "med-fridge", Source: "ds18b20", Address: "28-0416b1c2d3e4"},
	}
	targets, err := localsensor.Targets(sensors, localsensor.Deps{W1Root: "testdata/w1/devices"})
	if err != nil {
		fmt.Println(err)
	}
	p, err := localsensor.NewPoller(targets, localsensor.PollerOptions{
		OnError: func(device string, err error) { fmt.Println("failed:", device, err) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	_ = p.Run(ctx, func(_ context.Context, samples []telemetry.Sample) error {
		for _, s := range samples {
			fmt.Println("read:", s.Device, s.Values[0].Metric, s.Values[0].V)
		}
		stop() // one round is enough here
		return nil
	})
	// Output:
	// failed: 28-0416b1c2d3e4 ds18b20 28-0416b1c2d3e4: kernel reports crc NO for scratchpad 91 01 4b 46 7f ff 0c 10 71: checksum mismatch
	// read: 28-0316a2795eff temperature_c 21.875
}

// A driver reads through any i2c.Bus; here a Playback built from the SHT4x
// datasheet (T 0x6666 = 25 °C, RH 0x9999 = 69 %).
func ExampleNewSHT4x() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x44, W: []byte{0xFD}},
		{Addr: 0x44, R: []byte{0x66, 0x66, 0x93, 0x99, 0x99, 0xBE}},
	}}
	d, err := localsensor.NewSHT4x(bus, 1, 0x44, func(context.Context, time.Duration) error { return nil })
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := d.Read(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Device, s.Values[0].V, s.Values[1].V)
	if err := bus.Close(); err != nil {
		fmt.Println(err)
	}
	// Output: i2c1:0x44 25 69
}
