package camera

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// nvr is one Frigate instance, known by its topic prefix.
type nvr struct {
	prefix     string
	statsEvery time.Duration
	available  string    // "", "online", "offline", "stopped"
	lastStats  time.Time // zero: no stats yet
	stats      frigateStats
}

// silentAfter: with no stats for this many stats intervals, Frigate or its broker
// link is down and every camera it reported becomes unknown.
const silentAfter = 3

// cam is one configured camera and what its source last said.
type cam struct {
	cfg config.Camera

	// frigate
	nvr                        *nvr
	recordings, enabled        string // retained ON/OFF state topics, lower case; "" unknown
	statusDetect, statusRecord string // 0.18 status topics: online, offline, disabled; "" unknown

	// generic and saqshy
	value  string    // generic: the last value (lower case)
	report Report    // saqshy: the last report
	heard  time.Time // when the last message was taken (generic, saqshy)

	// blind is why the camera's own stills show it does not see ("dark",
	// "covered", ...; see SetSight); "" while it sees or nobody looks.
	blind string

	// judged
	health    Health
	since     time.Time // when health last changed state
	lastPoint time.Time // when the last `camera` point was written
	offSince  time.Time // when it stopped covering; zero while it covers
	offSev    uint8     // severity of the open camera_offline condition, 0 none
	// sinceStale, offStale: since, offSince were stamped with an unsynchronised
	// clock; they are reset at the next synchronised advance.
	sinceStale, offStale bool
}

// judge returns the camera's health at now and the time at which it changes by
// itself (a report going stale); zero when it does not.
func (c *cam) judge(now time.Time) (Health, time.Time) {
	var h Health
	var exp time.Time
	switch c.cfg.Source {
	case config.CameraFrigate:
		h, exp = c.judgeFrigate(now)
	case config.CameraGeneric:
		h, exp = c.judgeGeneric(now)
	default:
		h, exp = c.judgeSaqshy(now)
	}
	// A camera that works but does not see (taped, blacked out, frozen, turned
	// away) does not cover its zones.
	if c.blind != "" && h.Covers {
		h.State, h.Reason, h.Covers = Degraded, ReasonViewPrefix+c.blind, false
	}
	return h, exp
}

func (c *cam) judgeFrigate(now time.Time) (Health, time.Time) {
	n := c.nvr
	switch n.available {
	case "offline", "stopped":
		return unknownHealth(ReasonNVROffline), time.Time{}
	}
	if n.lastStats.IsZero() {
		return unknownHealth(ReasonNoReport), time.Time{}
	}
	expires := n.lastStats.Add(silentAfter * n.statsEvery)
	if !now.Before(expires) {
		return unknownHealth(ReasonNVRSilent), time.Time{}
	}
	st, ok := n.stats.Cameras[c.cfg.FrigateName()]
	if !ok {
		return unknownHealth(ReasonNotInStats), expires
	}
	h := Health{State: Healthy, Covers: true, FPS: st.FPS, Recording: -1}
	switch {
	case c.recordings == "off" || c.statusRecord == "disabled" || c.statusRecord == "offline":
		h.Recording = 0
	case c.recordings == "on" || c.statusRecord == "online":
		h.Recording = 1
	}
	off := func(reason string) (Health, time.Time) {
		h.State, h.Reason, h.Covers = Offline, reason, false
		return h, expires
	}
	degraded := func(reason string, covers bool) (Health, time.Time) {
		h.State, h.Reason, h.Covers = Degraded, reason, covers
		return h, expires
	}
	switch {
	case c.enabled == "off":
		return off(ReasonDisabled)
	case st.FPS < 0.1 || !st.Running:
		return off(ReasonNoFrames)
	case c.statusDetect == "offline":
		return off(ReasonDetectOffline)
	case st.Quality == "unusable":
		return off(ReasonUnusable)
	case c.recordings == "off" || c.statusRecord == "disabled":
		return degraded(ReasonRecordingOff, false)
	case c.statusRecord == "offline":
		return degraded(ReasonRecordFailing, false)
	case st.FPS < c.cfg.MinFPS:
		return degraded(ReasonLowFPS, true)
	case st.Quality == "poor":
		return degraded(ReasonPoorLink, true)
	case n.stats.StorageLow:
		return degraded(ReasonStorageLow, true)
	}
	return h, expires
}

func (c *cam) judgeGeneric(now time.Time) (Health, time.Time) {
	if c.heard.IsZero() {
		return unknownHealth(ReasonNoReport), time.Time{}
	}
	var expires time.Time
	if c.cfg.StaleAfter > 0 {
		expires = c.heard.Add(c.cfg.StaleAfter.Std())
		if !now.Before(expires) {
			return unknownHealth(ReasonStale), time.Time{}
		}
	}
	h := Health{State: Healthy, Covers: true, FPS: math.NaN(), Recording: -1}
	if !slices.ContainsFunc(c.cfg.Online, func(o string) bool { return strings.EqualFold(o, c.value) }) {
		h.State, h.Covers, h.Reason = Offline, false, ReasonReported+" "+clipStr(c.value)
	}
	return h, expires
}

func (c *cam) judgeSaqshy(now time.Time) (Health, time.Time) {
	if c.heard.IsZero() {
		return unknownHealth(ReasonNoReport), time.Time{}
	}
	// A report is as old as the probe it describes; a retained one may be old.
	at := c.report.Time
	if at.After(c.heard) {
		at = c.heard // a prober with a clock ahead of ours
	}
	expires := at.Add(c.cfg.StaleAfter.Std())
	if !now.Before(expires) {
		return unknownHealth(ReasonStale), time.Time{}
	}
	st, _ := ParseState(c.report.State)
	h := Health{State: st, Reason: c.report.Reason, FPS: math.NaN(), Recording: -1}
	h.Covers = st == Healthy || st == Degraded && h.Reason != ReasonRecordingOff && h.Reason != ReasonRecordFailing
	return h, expires
}
