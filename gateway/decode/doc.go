// Package decode turns MQTT messages of sensor firmware into [telemetry.Sample] values.
//
// # Concepts
//
// There is one decoder per source, made by [New]: a pure [Func] from (topic, payload)
// to samples, with no state, no I/O and no logging, safe for concurrent use. A decoder
// either returns samples whose every value passes [telemetry.CheckValue], or
// [telemetry.ErrIgnored] for a message that carries nothing the gateway records (a bridge topic,
// a relay state, a sensor that is not climate), or a [*telemetry.RejectError] whose Reason is a stable
// code for a counter label. A message is taken whole or rejected whole.
//
// Sample.Device is derived from the topic alone, exactly as the centre config names a
// device (the Z2M topic, the Tasmota topic without its last level, the ESPHome prefix,
// the Shelly prefix), so that the router can match a sample to a configured sensor;
// Sample.Key names a sub-sensor (a DS18B20 Id, a Shelly component). The
// per-source rules are documented on the unexported decoders in each source's file.
//
// Payload times are returned in UTC and only checked to lie in 2000..2100; judging
// clock skew against the gateway clock is the caller's job.
//
// # References
//
// Zigbee2MQTT:
//   - https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html
//   - https://www.zigbee2mqtt.io/guide/configuration/device-availability.html
//   - last_seen formats: formatDate in https://github.com/Koenkk/zigbee2mqtt/blob/master/lib/util/utils.ts
//   - availability payload in 2.0: https://github.com/Koenkk/zigbee2mqtt/pull/24200
//
// Tasmota:
//   - https://tasmota.github.io/docs/MQTT/
//   - https://tasmota.github.io/docs/DS18x20/
//   - Time formats (command Time 1..4) and SetOption52: https://tasmota.github.io/docs/Commands/
//
// ESPHome:
//   - https://esphome.io/components/mqtt.html
//
// Shelly:
//   - gen1: https://shelly-api-docs.shelly.cloud/gen1/#shelly-h-amp-t-mqtt
//   - gen2 MQTT: https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Mqtt
//   - gen2 notifications: https://shelly-api-docs.shelly.cloud/gen2/General/Notifications
//   - components: https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Temperature,
//     .../Humidity, .../DevicePower
//
// Saqshy firmware: the topics in DESIGN.md, "Saqshy's own topics".
//
// Payloads of real firmware: FORMATS.md of the design notes, which the test fixtures
// of this package reproduce.
package decode
