// Package camera judges camera health from Frigate, any other NVR or camera bridge
// (a generic topic mapping) and Saqshy's own prober, and accounts, time-weighted,
// how long each zone that must be watched was watched.
//
// # Concepts
//
// A camera's [State] is healthy, degraded, offline or unknown, always with a reason.
// A degraded camera still covers its zones when the fault leaves the picture and the
// recording intact (low fps, poor connection, storage nearly full) and does not when
// the recording is off or failing. Unknown (no fresh report: Frigate silent, a stale
// probe) never covers.
//
// A zone whose rule is required is covered while at least its required number of
// mapped cameras cover it. Coverage is the seconds covered over the seconds required,
// per zone, per zone kind and overall, live (the last 24 hours) and per calendar day
// in the centre's time zone. [Check] plugs all of it into the gateway: it reads the
// cameras' topics, writes `camera` and `coverage` points and raises `coverage_gap`
// and `camera_offline` conditions.
//
// # References
//
// Frigate's MQTT topics: https://docs.frigate.video/integrations/mqtt ;
// its stats: frigate/stats/util.py. docs/CAMERAS.md describes the rules for technicians.
package camera
