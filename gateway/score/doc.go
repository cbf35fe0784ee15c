// Package score computes a centre's safety score: an explainable number 0–100 built
// from components each 0–1 (temperature, availability, coverage, rounds, response),
// weighted, and capped when a serious event happened in the period. Unknown time —
// a sensor that did not report, a gateway that was off, a clock that was not
// synchronised — counts as non-compliant, never as "no data": switching monitoring
// off can only lower the score.
//
// # Concepts
//
// A [Check] observes the gateway's durable sensor events and keeps, per calendar day
// in the centre's time zone, one accumulator per sensor: a bit per expected
// reporting interval ("slot") saying whether a climate reading arrived, whether a
// temperature reading was inside the zone's band ([SensorBand]), and whether one was
// a serious reading (scald, freeze, cold room). From these it computes the
// temperature and availability components of any period. Coverage, rounds and
// response come from the camera, night-round and alert checks through the small
// interfaces [Coverage], [Rounds] and [Response]; serious conditions those checks
// hold come through [Events]. [Compute] assembles the total.
//
// Every minute the check writes a `safety_score` point with tag period=live (the
// rolling 24 h before now) and publishes it retained on saqshy/<centre>/score; after
// each local day has ended (plus a grace period for late data) it writes a
// period=day point timestamped at the start of that day, and rewrites it when late
// data changes the day. The day accumulators survive restarts in a JSON file.
//
// # References
//
// docs/SAFETY_SCORE.md (the formula, defaults, caps and a worked example);
// ../shared/DOMAIN.md §6.1 (zone bands) and §6.4 (score assembly and caps).
package score
