package score

import "time"

// The response rule (docs/SAFETY_SCORE.md, "Response"). Each critical alert earns
// up to 1: AckWeight for a person's acknowledgement within AckWithin, and
// ResolveWeight for the time to resolution, full within ResolveTarget and falling
// linearly to 0 at ResolveLimit. The component is the value of the period's
// worst-handled critical alert (the minimum): adding an alert can never raise it
// (a mean could: short alerts a director causes would dilute badly handled real
// ones). The gateway's alert engine
// (alert.Engine.ResponseScore) and the central rating both call ResponseOf, so the
// two cannot drift apart.
const (
	AckWeight     = 0.3
	ResolveWeight = 0.7
	// AckWithin is how soon after an alert became critical an acknowledgement
	// earns AckWeight.
	AckWithin = 15 * time.Minute
	// AckSuspectWithin: an acknowledgement sooner than this after the alert's
	// first notification is no person's reading of it (a script): it is flagged
	// ack_suspect and earns nothing.
	AckSuspectWithin = 10 * time.Second
	// ResolveTarget is how soon a critical alert resolved earns all of
	// ResolveWeight; ResolveLimit is when it earns none.
	ResolveTarget = time.Hour
	ResolveLimit  = 4 * time.Hour
)

// AlertSpan is one critical alert as the response rule sees it.
type AlertSpan struct {
	// Critical is when the alert became critical (opened critical, or raised
	// to critical): the chain of the critical severity starts then and its
	// first notification goes out.
	Critical time.Time
	// Acked is when it was acknowledged at critical severity (zero: not).
	Acked time.Time
	// AckSuspect is set when the acknowledgement did not come from a person
	// (the gateway's own loopback API) or came too fast (see AckSuspectWithin).
	AckSuspect bool
	// Resolved is when the condition cleared (zero: still open).
	Resolved time.Time
}

// FastAck reports whether an acknowledgement at acked of an alert first
// notified at notified came too soon to be a person's.
func FastAck(notified, acked time.Time) bool {
	return !acked.IsZero() && acked.Sub(notified) < AckSuspectWithin
}

// AlertResponse is one critical alert's value at now, 0–1: until it is
// acknowledged or resolved it is 0.
func AlertResponse(a AlertSpan, now time.Time) float64 {
	v := 0.0
	if !a.Acked.IsZero() && !a.Acked.After(now) && !a.AckSuspect && !FastAck(a.Critical, a.Acked) &&
		a.Acked.Sub(a.Critical) <= AckWithin {
		v += AckWeight
	}
	if !a.Resolved.IsZero() && !a.Resolved.After(now) {
		v += ResolveWeight * resolveCredit(a.Resolved.Sub(a.Critical))
	}
	return v
}

// resolveCredit is 1 for a resolution within ResolveTarget, 0 from
// ResolveLimit, linear between.
func resolveCredit(d time.Duration) float64 {
	switch {
	case d <= ResolveTarget:
		return 1
	case d >= ResolveLimit:
		return 0
	}
	return float64(ResolveLimit-d) / float64(ResolveLimit-ResolveTarget)
}

// ResponseOf is the response component over [from, to) as known at now: the
// least AlertResponse of the critical alerts that became critical in the period
// (also those that cleared on their own within minutes: resolution time is what
// it is); 1 when there is none.
func ResponseOf(alerts []AlertSpan, from, to, now time.Time) float64 {
	v := 1.0
	for _, a := range alerts {
		if a.Critical.IsZero() || a.Critical.Before(from) || !a.Critical.Before(to) {
			continue
		}
		v = min(v, AlertResponse(a, now))
	}
	return v
}
