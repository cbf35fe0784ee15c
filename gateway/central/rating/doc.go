// Package rating is the ministry's own computation of every registered centre's
// daily safety score, the rating's point: after each local day closes (in the
// centre's time zone, plus a close-after delay like the gateway's), a [Job] reads
// that day's raw verified points of every registered centre from InfluxDB (climate
// readings, gateway heartbeats, the camera check's day coverage, night-round slots,
// alert transitions), computes the day with the gateway's own code
// ([score.ComputeDay]) and the registry entry's settings (zones and kinds,
// sensors and their registered maximum interval, weights, caps), and writes it as a
// `rating` point (tags centre, period=day) at the start of the local day, beside
// the gateway's own `safety_score` for comparison. The last KeepDays days are
// recomputed every cycle, so late data corrects them; the computation is
// deterministic, and a recomputed day overwrites its point (only this job writes
// `rating`). A day without verified data is 0, capped as a silent gateway. The raw
// points are read Options.Chunk centres at a time (docs/BENCHMARKS.md).
//
// The job runs the gateway's plausibility rules (package plausibility) over each
// day's verified readings itself: a sensor held implausible for the day does not
// count in band, and the point's `implausible` field says why. A day that ended
// before the registry entry's gateway.installed is not rated; the day holding it
// is scored from it.
//
// See docs/RATING.md and issue 16 ("Trusted rating 3").
package rating
