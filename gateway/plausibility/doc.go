// Package plausibility tells whether a temperature sensor's readings vary the way
// its zone kind does, so that a probe placed somewhere comfortable cannot raise the
// safety score (issue 16, "Implausible sensors").
//
// A [Sensor] is fed every reading (Observe) and keeps a day of them in a fixed ring
// of 10-minute slots (sum, count, compressor-like turns): its size does not grow
// with the readings, about 2 KB per sensor (see [SensorBytes]). A
// [Sensor.Verdict] answers, on demand, whether the last day is implausible:
//
//   - a cycling kind (medicine and food fridges, freezers, cool rooms) must show
//     compressor cycles: real fridges oscillate a few tenths to ~2 °C with periods
//     of about 10 to 60 minutes. Fewer than [Params.MinCycles] swings of at least
//     [Params.SwingC] in a day is "no compressor cycles";
//   - a room kind must not be flat: hourly means within [Params.FlatC] of each
//     other over a whole day is "flat";
//   - across sensors, [Twins] finds two sensors in different zones whose slot
//     means track each other exactly (the difference barely varies while each
//     sensor does), the mark of a duplicated or relocated sensor.
//
// Nothing here reads a clock, a map order or a random source: the same readings give
// the same verdict.
package plausibility
