// Package config loads and checks a centre's configuration: one YAML file per
// centre that names its zones, sensors, cameras, night-round checkpoints and alert
// recipients, and says where the data goes (MQTT broker, InfluxDB, local spool).
//
// # Concepts
//
// A technician writes the file; `saqshy-gateway check-config FILE` calls [Load] and
// prints every problem at once. Each problem is a [*FieldError] naming the file, the
// line and the field path ("sensors[3].zone"), joined with [errors.Join], so that one
// run of check-config lists everything that is wrong, not just the first thing.
//
// Loading happens in three steps, all in [Parse]:
//
//  1. decode: go.yaml.in/yaml/v3 with KnownFields, so unknown keys (typos) and wrong
//     types are errors; the YAML node tree is kept to find the line of every field;
//  2. defaults: a key that is absent (or written with no value) takes its default;
//     a key written explicitly is taken as written, so "interval: 0s" is an error,
//     not a silent default. [Default] and [Config.ApplyDefaults] hold every default;
//  3. [Config.Validate]: pure checks, no network and no file reads.
//
// Secrets (the MQTT password, the InfluxDB token) never sit in the file: it names a
// file that holds them, or the environment provides them (see [Secret]).
//
// The embedded [Example] is the commented reference config printed by
// `saqshy-gateway example-config`; a test keeps it loading.
//
// # References
//
// Zone kinds and their defaults: DOMAIN.md §6. Topics per source: FORMATS.md.
package config
