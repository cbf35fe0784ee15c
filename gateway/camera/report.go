package camera

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Report is what Saqshy's prober (or anything speaking its format) publishes,
// retained, on saqshy/<centre>/camera/<camera>/health:
//
//	{"time":"2026-11-22T18:00:00Z","state":"offline","reason":"rtsp: 401 Unauthorized","probe":"rtsp","latency_ms":12.5}
//
// State is healthy, degraded or offline; Reason says why in a few words.
type Report struct {
	Time      time.Time `json:"time"`
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	Probe     string    `json:"probe,omitempty"`      // rtsp or http
	LatencyMS float64   `json:"latency_ms,omitempty"` // how long the probe took
}

// Marshal encodes the report.
func (r Report) Marshal() []byte {
	b, _ := json.Marshal(r) // a Report always encodes
	return b
}

// ParseReport decodes a health report and checks it: a time (RFC 3339), a state
// other than unknown, a finite latency.
func ParseReport(payload []byte) (Report, error) {
	if err := checkPayload(payload); err != nil {
		return Report{}, err
	}
	var r Report
	if err := json.Unmarshal(payload, &r); err != nil {
		return Report{}, badJSON("camera health: %v", err)
	}
	st, ok := ParseState(r.State)
	switch {
	case !ok || st == Unknown:
		return Report{}, badValue("camera health: state %q is none of healthy, degraded, offline", clipStr(r.State))
	case r.Time.IsZero():
		return Report{}, badValue("camera health: no time")
	case r.Time.Year() < 2000 || r.Time.Year() >= 2100:
		return Report{}, &telemetry.RejectError{Source: "camera", Reason: "bad_time", Err: fmt.Errorf("camera health: time %s out of range", r.Time.Format(time.RFC3339))}
	case math.IsNaN(r.LatencyMS) || r.LatencyMS < 0:
		return Report{}, badValue("camera health: latency_ms %g", r.LatencyMS)
	}
	r.Reason = clipStr(r.Reason)
	r.Probe = clipStr(r.Probe)
	return r, nil
}
