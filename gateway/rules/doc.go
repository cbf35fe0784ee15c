// Package rules judges sensor readings and the gateway's own health and raises and
// clears conditions: temperature and humidity limits per zone kind with hold
// durations and hysteresis, the medicine fridge's freeze and cumulative rules,
// stale sensors, devices offline, low batteries, and gateway health (spool,
// uplink, clock, MQTT).
//
// # Concepts
//
// A [Limit] is one threshold: "temperature above 8 °C for 15 min is a warning".
// A reading beyond the limit starts its hold; the limit fires when the value has
// stayed beyond it (within the hysteresis) for the hold, and clears when the value
// comes back past the limit by the hysteresis. A zero hold fires at the reading.
// All limits of one direction of one metric share a condition kind
// (temperature_high, temperature_low, humidity_high, humidity_low); its severity is
// the highest among the limits firing.
//
// Readings delivered from the broker's retained store or replayed from a backlog
// never fire anything on their own: they are not live.
//
// With [Options.StateFile] the running holds, the devices offline and the medicine
// fridges' cumulative accounting survive a restart (state.go): a hold goes on from
// when it started instead of starting again.
//
// The defaults per zone kind follow DOMAIN.md §6.1 (the zone-kind table, [zonekind.DefaultLimits]); a centre
// overrides them per zone in its config.
package rules
