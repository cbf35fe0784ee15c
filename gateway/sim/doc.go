// Package sim simulates a care centre's devices: it builds a centre config with
// sensors of every supported format and publishes the exact payloads the real firmware
// publishes (Zigbee2MQTT, Tasmota, ESPHome, Shelly gen1 and gen2, Saqshy native), with
// plausible values per zone kind. The demo, cmd/saqshy-sim, the integration tests and
// the benchmarks share it.
package sim
