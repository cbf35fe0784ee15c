package camera

import (
	"fmt"
	"math"
)

// State is a camera's health.
type State uint8

// States, from best to worst for coverage. Unknown is the zero value: a camera
// nobody reported on is not assumed to work.
const (
	Unknown  State = iota // no fresh report: never covers
	Healthy               // online, fps above its floor, recording where known
	Degraded              // working with a fault; covers or not per Health.Covers
	Offline               // reported down
)

var stateNames = [...]string{Unknown: "unknown", Healthy: "healthy", Degraded: "degraded", Offline: "offline"}

// String returns "unknown", "healthy", "degraded" or "offline".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// ParseState parses the names String returns.
func ParseState(s string) (State, bool) {
	for i, n := range stateNames {
		if n == s {
			return State(i), true
		}
	}
	return Unknown, false
}

// Reasons: short stable codes people read on the status page and in the `camera`
// point's reason field. Degraded reasons say whether the camera still covers.
const (
	ReasonOK            = ""
	ReasonNoReport      = "no_report"           // nothing heard yet
	ReasonStale         = "stale"               // the source stopped reporting
	ReasonNVRSilent     = "nvr_silent"          // Frigate's stats stopped arriving
	ReasonNVROffline    = "nvr_offline"         // frigate/available is offline or stopped
	ReasonNotInStats    = "not_in_stats"        // Frigate's stats do not name the camera
	ReasonNoFrames      = "no_frames"           // camera_fps 0, or no capture process
	ReasonDisabled      = "disabled"            // disabled in the NVR
	ReasonDetectOffline = "detect_offline"      // Frigate 0.18 status/detect offline
	ReasonUnusable      = "connection_unusable" // Frigate 0.18 connection_quality unusable
	ReasonRecordingOff  = "recording_off"       // recordings/state OFF, or status/record disabled: not covered
	ReasonRecordFailing = "recording_failing"   // status/record offline: not covered
	ReasonLowFPS        = "low_fps"             // fps below the floor: covered
	ReasonPoorLink      = "connection_poor"     // connection_quality poor: covered
	ReasonStorageLow    = "storage_low"         // recordings storage nearly full: covered
	ReasonReported      = "reported"            // a generic source's value said so
	// ReasonViewPrefix starts the reason of a camera whose stills show it does not
	// see its zone: view_dark, view_covered, view_frozen, view_turned_away (see
	// SetSight): not covered.
	ReasonViewPrefix = "view_"
)

// Health is a camera's state as judged at one moment.
type Health struct {
	State  State
	Reason string // one of the Reason codes, or the source's own words (prober, generic)
	// Covers reports whether the camera counts towards its zones' coverage: true
	// when healthy, and when degraded by a fault that leaves the recording intact.
	Covers bool
	// FPS is the camera's frame rate; NaN when unknown.
	FPS float64
	// Recording is 1 when the NVR records, 0 when it does not, -1 when unknown.
	Recording int8
}

// unknownHealth returns an Unknown health with reason.
func unknownHealth(reason string) Health {
	return Health{State: Unknown, Reason: reason, FPS: math.NaN(), Recording: -1}
}

// same reports whether h and o would be written as the same `camera` point apart
// from the time (fps changes alone do not count: they would write a point per
// Frigate stats message).
func (h Health) same(o Health) bool {
	return h.State == o.State && h.Reason == o.Reason && h.Covers == o.Covers && h.Recording == o.Recording
}
