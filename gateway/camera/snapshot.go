package camera

import "time"

// Snapshot is the cameras' and the coverage's state at one moment, for a status
// page. It shares no memory with the check.
type Snapshot struct {
	Time    time.Time
	Cameras []CameraStatus
	Zones   []ZoneStatus // the required zones
	// Kinds holds one entry per zone kind with required zones, sorted by kind, then
	// one with Kind "all" for the whole centre.
	Kinds []KindStatus
	// DayStart is the local midnight that starts Today; YesterdayStart the one that
	// started the last closed day (zero before the first midnight).
	DayStart, YesterdayStart time.Time
}

// CameraStatus is one camera's health.
type CameraStatus struct {
	ID, Name, Source string
	Zones            []string
	State            State
	Reason           string
	Covers           bool
	FPS              float64   // NaN when unknown
	Recording        int8      // 1 recording, 0 not, -1 unknown
	Since            time.Time // when the state last changed; zero if never
}

// ZoneStatus is one required zone's coverage.
type ZoneStatus struct {
	ID, Kind, Name string
	Need           int       // covering cameras needed at once
	Cameras        int       // cameras mapped to it
	Covering       int       // cameras covering it now
	Covered        bool      //
	UncoveredSince time.Time // zero while covered
	Today          Span
}

// KindStatus is the coverage of one zone kind (or "all").
type KindStatus struct {
	Kind         string
	Zones        int  // required zones of the kind
	CoveredNow   int  // of which covered now
	Today        Span // since local midnight
	Live         Span // the last 24 hours the gateway watched
	Yesterday    Span // the last closed day
	HasYesterday bool
}

// Snapshot returns the current state. Safe for concurrent use.
func (c *Check) Snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Snapshot{Time: c.last, DayStart: c.dayStart, YesterdayStart: c.yesterdayStart}
	for _, k := range c.cams {
		h := k.health
		s.Cameras = append(s.Cameras, CameraStatus{
			ID: k.cfg.ID, Name: k.cfg.Name, Source: k.cfg.Source, Zones: append([]string(nil), k.cfg.Zones...),
			State: h.State, Reason: h.Reason, Covers: h.Covers, FPS: h.FPS, Recording: h.Recording, Since: k.since,
		})
	}
	today := c.daySpans()
	live := make([]Span, len(c.kinds)+1)
	c.ring.live(c.last, live)
	s.Kinds = make([]KindStatus, len(c.kinds)+1)
	for i := range s.Kinds {
		ks := &s.Kinds[i]
		ks.Kind = "all"
		if i < len(c.kinds) {
			ks.Kind = c.kinds[i]
		}
		ks.Today, ks.Live = today[i], live[i]
		if c.yesterday != nil {
			ks.Yesterday, ks.HasYesterday = c.yesterday[i], true
		}
	}
	all := &s.Kinds[len(c.kinds)]
	for _, z := range c.zones {
		s.Zones = append(s.Zones, ZoneStatus{ID: z.cfg.ID, Kind: z.cfg.Kind, Name: z.cfg.Name, Need: z.need,
			Cameras: len(z.cams), Covering: z.covering, Covered: z.covered, UncoveredSince: z.since, Today: z.day})
		for _, ks := range []*KindStatus{&s.Kinds[z.kind], all} {
			ks.Zones++
			if z.covered {
				ks.CoveredNow++
			}
		}
	}
	return s
}
