// Package testenv starts the real components the gateway's integration tests and
// benchmarks talk to: a Mosquitto broker and an InfluxDB 1.8 server, each as a child
// process on free loopback ports with its own temporary directory, stopped when the
// test ends.
//
// The binaries are found on PATH (Mosquitto from Debian's package), in /usr/sbin, or
// in the project's tool directory (.tools/bin, where `make tools` builds influxd
// v1.8.10). A missing binary fails the test with the command that installs it: these
// tests are never skipped, because a skip would hide a missing dependency.
package testenv
