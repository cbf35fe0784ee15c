// Package rounds judges night rounds: it reads checkpoint scans (Saqshy native JSON,
// Zigbee2MQTT buttons, Tasmota PN532/RC522 readers), splits each night's window into
// slots per checkpoint in the centre's time zone, judges each slot on time, late or
// missed, raises round_missed conditions the moment a slot is missed, flags scans
// that cannot be real (kept, never counted), and at the window's end writes slot and
// night points and publishes a summary.
//
// # Concepts
//
// A [Check] plugs into the gateway as a check (Name, Topics, Message, Observe,
// Tick), a runner (Run publishes summaries) and a status source ([Check.Snapshot]).
// Time is always passed in: Tick's now, a message's arrival (or Options.Now), so
// whole nights are tested in milliseconds. State survives restarts in a JSON file
// written atomically.
//
// # References
//
// docs/ROUNDS.md; firmware-config/esphome/nfc-checkpoint.yaml,
// firmware-config/tasmota/rfid-reader.txt, firmware-config/zigbee2mqtt/checkpoint-button.yaml.
package rounds
