// Package decode turns MQTT messages of sensor firmware into [telemetry.Sample] values.
//
// # Concepts
//
// There is one decoder per source, made by [New]: a pure [Func] from (topic, payload)
// to samples, with no state, no I/O and no logging, safe for concurrent use. A decoder
// either returns samples whose every value passes [telemetry.CheckValue], or
// [telemetry.ErrIgnored] for a message that carries nothing the gateway records (a bridge topic,
// a relay state, a sensor that is not climate), or an [*telemetry.RejectError] whose Reason is a stable
// code for a counter label. One bad field never loses the good ones: a message with
// both comes back as its good samples plus a [*telemetry.Partial] naming each bad field; a
// message whose every field is bad is rejected with the first one's *telemetry.RejectError.
//
// Sample.Device is derived from the topic alone, exactly as the centre config names a
// device (the Z2M topic, the Tasmota topic without its last level, the ESPHome prefix,
// the Shelly prefix), so that the router can match a sample to a configured sensor;
// Sample.Key names a sub-sensor (a DS18B20 Id, a Shelly component). The
// per-source rules are documented on the unexported decoders in each source's file.
//
// Payload times are returned in UTC and only checked to lie in 2000..2100 (an
// unreadable or out-of-window time is a bad field: the sample keeps its values and no
// time). Judging clock skew against the gateway clock is the caller's job; while that
// clock is unsynchronised, [TimeBounds] bound payload times by the build date and the
// last known good time.
//
// [ParseDiscovery] reads Home Assistant MQTT discovery messages, which tell the unit,
// device class and state topic of an entity from the device itself.
//
// The test corpus, testdata/corpus/*.txt, holds real messages (each with its source)
// and what each decodes to; TestCorpus runs them all.
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
// OpenMQTTGateway / Theengs Gateway (source "ble"):
//   - https://docs.openmqttgateway.com/use/ble.html
//   - the decoder's outputs: https://github.com/theengs/decoder (tests/BLE/test_ble.cpp)
//
// ChirpStack (source "chirpstack"):
//   - https://www.chirpstack.io/docs/chirpstack/integrations/events.html
//
// Home Assistant discovery:
//   - https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
//
// Saqshy firmware: the topics in DESIGN.md, "Saqshy's own topics".
//
// Payloads of real firmware: FORMATS.md of the design notes, which the test fixtures
// of this package reproduce.
package decode
