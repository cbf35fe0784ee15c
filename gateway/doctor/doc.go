// Package doctor checks, in plain words, whether a centre's gateway can work: the
// config is valid, the MQTT broker answers and takes the credentials, every
// configured sensor and camera has reported recently, InfluxDB takes a test point
// and gives it back, the clock is synchronised, the spool directory is writable with
// free space, and the Pi's 1-Wire and I2C buses are there when probes are wired to
// them, and each configured alert channel works: its secret file is readable, the
// Telegram Bot API knows the token (getMe), the SMTP server takes the configured
// TLS and login, the webhook URL parses. Every failed check says what to do next.
//
// # Concepts
//
// [Run] performs every check it can and returns a [Report]; a check that depends on
// a failed one (sensors need the broker) is reported as skipped. [Report.OK] is true
// only when no needed check failed; warnings do not fail the report.
//
// Doctor connects to the broker with its own clean-session client id, never the
// gateway's, so running it next to a running gateway does not disturb the
// gateway's persistent session.
package doctor
