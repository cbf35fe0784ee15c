package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// Check compares a centre's local config with its registry entry and returns one
// *config.FieldError for every local setting that weakens the registry, naming
// the local file, line and field and the registry's value. Settings that only
// make the centre stricter (shorter intervals, more recipients, an earlier
// escalation, score caps on where the registry has them off) pass. nil: the
// config obeys the registry.
//
// What it refuses (docs/RATING.md has the table with the test of each):
// another centre id or time zone; a registered zone missing or of another kind;
// a zone the registry does not know (it would dilute the ratios); a required
// zone made optional (zone coverage or coverage.kinds); a camera covering a
// required zone the registry does not list it for; a registered sensor missing,
// in another zone or with a longer interval, or a sensor the registry does not
// know; another night window; a longer round interval (also by override); a
// registered checkpoint missing, moved or with another tag, or one the registry
// does not know; a badge not issued; the scan-plausibility rules loosened; no
// recipient the ministry requires, or one told later than required; score caps
// off; other weights under the registry's label, or another label.
func Check(cfg *config.Config, e *Entry) []error {
	c := &checkRun{cfg: cfg, e: e, reg: fmt.Sprintf("registry v%d", e.Version)}
	c.centre()
	c.zones()
	c.cameras()
	c.sensors()
	c.rounds()
	c.recipients()
	c.score()
	slices.SortStableFunc(c.errs, func(a, b error) int {
		return a.(*config.FieldError).Line - b.(*config.FieldError).Line
	})
	return c.errs
}

type checkRun struct {
	cfg  *config.Config
	e    *Entry
	reg  string // "registry v3", for messages
	errs []error
}

func (c *checkRun) errf(path, format string, args ...any) {
	c.errs = append(c.errs, &config.FieldError{
		File: c.cfg.File, Line: c.cfg.Line(path), Field: path,
		Err: fmt.Errorf(format, args...),
	})
}

func (c *checkRun) centre() {
	if c.cfg.Centre.ID != c.e.Centre.ID {
		c.errf("centre.id", "%q, but this %s is for centre %q", c.cfg.Centre.ID, c.reg, c.e.Centre.ID)
	}
	if c.cfg.Centre.Timezone != c.e.Centre.Timezone {
		c.errf("centre.timezone", "%q, but the %s has %q: the night window and the day's score follow the registered time zone", c.cfg.Centre.Timezone, c.reg, c.e.Centre.Timezone)
	}
}

// zones checks the zones and their coverage rules.
func (c *checkRun) zones() {
	local := indexByID(c.cfg.Zones, func(z config.Zone) string { return z.ID })
	var missing []string
	for _, rz := range c.e.Zones {
		i, ok := local[rz.ID]
		if !ok {
			missing = append(missing, fmt.Sprintf("%s (%s, %q)", rz.ID, rz.Kind, rz.Name))
			continue
		}
		z := c.cfg.Zones[i]
		zp := fmt.Sprintf("zones[%d]", i)
		if z.Kind != rz.Kind {
			c.errf(zp+".kind", "kind %q, but the %s has zone %q as %q", z.Kind, c.reg, rz.ID, rz.Kind)
			continue
		}
		if !rz.Required() {
			continue
		}
		if rule, _ := c.cfg.ZoneCoverage(z); rule != config.CoverageRequired {
			path := zp + ".coverage"
			if z.Coverage == "" {
				path = "coverage.kinds." + z.Kind
			}
			c.errf(path, "makes zone %q %s, but the %s requires camera coverage there (cameras %s)", rz.ID, rule, c.reg, strings.Join(rz.Cameras, ", "))
		}
	}
	if len(missing) > 0 {
		c.errf("zones", "%d registered zone(s) missing: %s; the %s has them", len(missing), strings.Join(missing, "; "), c.reg)
	}
	for i, z := range c.cfg.Zones {
		if _, ok := c.e.zone(z.ID); !ok {
			c.errf(fmt.Sprintf("zones[%d].id", i), "zone %q is not in the %s: the rating counts registered zones only; ask the region officer to register it", z.ID, c.reg)
		}
	}
}

func (c *checkRun) cameras() {
	for i, cam := range c.cfg.Cameras {
		for j, zid := range cam.Zones {
			rz, ok := c.e.zone(zid)
			if !ok || !rz.Required() || slices.Contains(rz.Cameras, cam.ID) {
				continue
			}
			c.errf(fmt.Sprintf("cameras[%d].zones[%d]", i, j), "camera %q covers zone %q, but the %s lists only %s for it", cam.ID, zid, c.reg, strings.Join(rz.Cameras, ", "))
		}
	}
}

func (c *checkRun) sensors() {
	local := indexByID(c.cfg.Sensors, func(s config.Sensor) string { return s.ID })
	var missing []string
	for _, rs := range c.e.Sensors {
		i, ok := local[rs.ID]
		if !ok {
			missing = append(missing, fmt.Sprintf("%s (zone %s)", rs.ID, rs.Zone))
			continue
		}
		s := c.cfg.Sensors[i]
		sp := fmt.Sprintf("sensors[%d]", i)
		if s.Zone != rs.Zone {
			c.errf(sp+".zone", "zone %q, but the %s has sensor %q in zone %q", s.Zone, c.reg, rs.ID, rs.Zone)
		}
		if s.Interval.Std() > rs.MaxInterval.Std() {
			c.errf(sp+".interval", "%s, but the %s allows sensor %q at most %s between readings", s.Interval, c.reg, rs.ID, rs.MaxInterval)
		}
	}
	if len(missing) > 0 {
		c.errf("sensors", "%d registered sensor(s) missing: %s", len(missing), strings.Join(missing, ", "))
	}
	reg := map[string]bool{}
	for _, rs := range c.e.Sensors {
		reg[rs.ID] = true
	}
	for i, s := range c.cfg.Sensors {
		if !reg[s.ID] {
			c.errf(fmt.Sprintf("sensors[%d].id", i), "sensor %q is not in the %s: the rating counts registered sensors only; ask the region officer to register it", s.ID, c.reg)
		}
	}
}

// Scan-plausibility rules of the rounds: the defaults are the rating's rules, so
// a local value may only tighten them.
func (c *checkRun) roundsRules() {
	r := c.cfg.Rounds
	looser := func(path string, got, rule config.Duration, longerIsLooser bool) {
		if (longerIsLooser && got > rule) || (!longerIsLooser && got < rule) {
			c.errf(path, "%s loosens the rating's rule (%s)", got, rule)
		}
	}
	looser("rounds.grace", r.Grace, config.DefaultRoundsGrace, true)
	looser("rounds.min_walk", r.MinWalk, config.DefaultRoundsMinWalk, false)
	looser("rounds.pace", r.Pace, config.DefaultRoundsPace, false)
	looser("rounds.duplicate_window", r.DuplicateWindow, config.DefaultRoundsDuplicateWindow, false)
	looser("rounds.max_skew", r.MaxSkew, config.DefaultRoundsMaxSkew, true)
	looser("rounds.burst_window", r.BurstWindow, config.DefaultRoundsBurstWindow, false)
	if r.BurstCount == 0 || r.BurstCount > config.DefaultRoundsBurstCount {
		c.errf("rounds.burst_count", "%d loosens the rating's rule (%d scans; 0 turns it off)", r.BurstCount, config.DefaultRoundsBurstCount)
	}
}

func (c *checkRun) rounds() {
	rr, r := c.e.Rounds, c.cfg.Rounds
	if len(rr.Checkpoints) > 0 {
		if r.Window != rr.Window {
			c.errf("rounds.window", "%q, but the %s sets the night window %q", r.Window, c.reg, rr.Window)
		}
		if r.Interval > config.Duration(rr.Interval) {
			c.errf("rounds.interval", "%s, but the %s sets every checkpoint due at least every %s", r.Interval, c.reg, rr.Interval)
		}
		for i, o := range r.Overrides {
			if o.Interval > config.Duration(rr.Interval) {
				c.errf(fmt.Sprintf("rounds.overrides[%d].interval", i), "%s, but the %s sets every checkpoint due at least every %s", o.Interval, c.reg, rr.Interval)
			}
		}
		c.roundsRules()
	}
	local := map[string]int{}
	for i, cp := range r.Checkpoints {
		local[cp.ID] = i
	}
	reg := map[string]bool{}
	var missing []string
	for _, rc := range rr.Checkpoints {
		reg[rc.ID] = true
		i, ok := local[rc.ID]
		if !ok {
			missing = append(missing, rc.ID)
			continue
		}
		cp := r.Checkpoints[i]
		p := fmt.Sprintf("rounds.checkpoints[%d]", i)
		if cp.Zone != rc.Zone {
			c.errf(p+".zone", "zone %q, but the %s has checkpoint %q in zone %q", cp.Zone, c.reg, rc.ID, rc.Zone)
		}
		if config.NormalizeUID(cp.Tag) != config.NormalizeUID(rc.Tag) {
			c.errf(p+".tag", "tag %q, but the %s has checkpoint %q with tag %q", cp.Tag, c.reg, rc.ID, rc.Tag)
		}
	}
	if len(missing) > 0 {
		c.errf("rounds.checkpoints", "%d registered checkpoint(s) missing: %s", len(missing), strings.Join(missing, ", "))
	}
	for i, cp := range r.Checkpoints {
		if !reg[cp.ID] {
			c.errf(fmt.Sprintf("rounds.checkpoints[%d].id", i), "checkpoint %q is not in the %s: the rating counts registered checkpoints only", cp.ID, c.reg)
		}
	}
	issued := map[string]Badge{}
	for _, b := range rr.Badges {
		issued[b.ID] = b
	}
	for i, b := range r.Badges {
		rb, ok := issued[b.ID]
		p := fmt.Sprintf("rounds.badges[%d]", i)
		switch {
		case !ok:
			c.errf(p+".id", "badge %q was not issued: the %s lists %d badge(s); a scan with it is never counted", b.ID, c.reg, len(rr.Badges))
		case config.NormalizeUID(b.UID) != config.NormalizeUID(rb.UID):
			c.errf(p+".uid", "card UID %q, but the %s issued badge %q with UID %q", b.UID, c.reg, b.ID, rb.UID)
		}
	}
}

func (c *checkRun) recipients() {
	a := c.cfg.Alerts
	for _, rr := range c.e.Recipients {
		idx := -1
		for i, lr := range a.Recipients {
			if (rr.TelegramChat != "" && lr.TelegramChat == rr.TelegramChat) || (rr.Email != "" && strings.EqualFold(lr.Email, rr.Email)) {
				idx = i
				break
			}
		}
		if idx < 0 {
			c.errf("alerts.recipients", "no recipient %q (%s): the %s requires one in the centre's alerts", rr.Name, channels(rr), c.reg)
			continue
		}
		if len(a.Escalation.Critical) == 0 {
			continue // no chain: every recipient is told at once
		}
		name := a.Recipients[idx].Name
		step := -1
		for i, s := range a.Escalation.Critical {
			if slices.Contains(s.Notify, name) {
				step = i
				break
			}
		}
		switch {
		case step < 0:
			c.errf("alerts.escalation.critical", "recipient %q is in no step, but the %s requires telling %q of a critical alert within %s", name, c.reg, rr.Name, rr.CriticalWithin)
		case a.Escalation.Critical[step].After > config.Duration(rr.CriticalWithin):
			c.errf(fmt.Sprintf("alerts.escalation.critical[%d].after", step), "%s, but the %s requires telling %q of a critical alert within %s", a.Escalation.Critical[step].After, c.reg, rr.Name, rr.CriticalWithin)
		}
	}
}

func channels(r Recipient) string {
	var out []string
	if r.TelegramChat != "" {
		out = append(out, "telegram_chat "+r.TelegramChat)
	}
	if r.Email != "" {
		out = append(out, "email "+r.Email)
	}
	return strings.Join(out, " or ")
}

func (c *checkRun) score() {
	s, rs := c.cfg.Score, c.e.Score
	if rs.Caps == "on" && s.Caps != "on" {
		c.errf("score.caps", "%q, but the %s has the score caps on", s.Caps, c.reg)
	}
	switch {
	case s.WeightsVersion != rs.WeightsVersion:
		c.errf("score.weights_version", "%q, but the %s rates with weights %q: the score must be comparable across centres", s.WeightsVersion, c.reg, rs.WeightsVersion)
	case s.Weights != rs.Weights.Config():
		c.errf("score.weights", "%s, but the %s's weights %q are %s: other weights may not carry the same label", fmtWeights(s.Weights), c.reg, rs.WeightsVersion, fmtWeights(rs.Weights.Config()))
	}
}

func fmtWeights(w config.ScoreWeights) string {
	return fmt.Sprintf("temperature %g, availability %g, coverage %g, rounds %g, response %g", w.Temperature, w.Availability, w.Coverage, w.Rounds, w.Response)
}

// Apply returns the effective config: cfg with every score-relevant setting
// taken from the registry (time zone, zone kinds and coverage, the cameras that
// may cover each required zone, the longest sensor intervals, the night window
// and interval, also in overrides, the issued badges, the score's weights and
// caps) and the scan-plausibility rules no looser than the rating's. A local
// setting stricter than the registry stays. cfg is not modified; the result
// shares the parts Apply does not change.
func Apply(cfg *config.Config, e *Entry) *config.Config {
	out := *cfg
	out.Centre.Timezone = e.Centre.Timezone
	if loc, err := time.LoadLocation(e.Centre.Timezone); err == nil {
		out.Centre.Location = loc
	}
	out.Zones = slices.Clone(cfg.Zones)
	for i := range out.Zones {
		z := &out.Zones[i]
		if rz, ok := e.zone(z.ID); ok {
			z.Kind = rz.Kind
			if rz.Required() {
				z.Coverage = config.CoverageRequired
			}
		}
	}
	out.Cameras = slices.Clone(cfg.Cameras)
	for i := range out.Cameras {
		cam := &out.Cameras[i]
		cam.Zones = slices.DeleteFunc(slices.Clone(cam.Zones), func(zid string) bool {
			rz, ok := e.zone(zid)
			return ok && rz.Required() && !slices.Contains(rz.Cameras, cam.ID)
		})
	}
	out.Sensors = slices.Clone(cfg.Sensors)
	for i := range out.Sensors {
		s := &out.Sensors[i]
		for _, rs := range e.Sensors {
			if rs.ID == s.ID && (s.Interval <= 0 || s.Interval > config.Duration(rs.MaxInterval)) {
				s.Interval = config.Duration(rs.MaxInterval)
			}
		}
	}
	if len(e.Rounds.Checkpoints) > 0 {
		iv := config.Duration(e.Rounds.Interval)
		out.Rounds.Window = e.Rounds.Window
		if out.Rounds.Interval <= 0 || out.Rounds.Interval > iv {
			out.Rounds.Interval = iv
		}
		out.Rounds.Overrides = slices.Clone(cfg.Rounds.Overrides)
		for i := range out.Rounds.Overrides {
			out.Rounds.Overrides[i].Interval = min(out.Rounds.Overrides[i].Interval, iv)
		}
		tightenRoundsRules(&out.Rounds)
	}
	out.Rounds.Badges = make([]config.Badge, len(e.Rounds.Badges))
	for i, b := range e.Rounds.Badges {
		out.Rounds.Badges[i] = config.Badge{ID: b.ID, UID: b.UID, Name: b.Name, Role: b.Role}
	}
	out.Score.WeightsVersion = e.Score.WeightsVersion
	out.Score.Weights = e.Score.Weights.Config()
	if e.Score.Caps == "on" {
		out.Score.Caps = "on"
	}
	return &out
}

// tightenRoundsRules puts scan-plausibility rules looser than the rating's
// (the config defaults) back to the rating's.
func tightenRoundsRules(r *config.Rounds) {
	r.Grace = min(r.Grace, config.DefaultRoundsGrace)
	r.MinWalk = max(r.MinWalk, config.DefaultRoundsMinWalk)
	r.Pace = max(r.Pace, config.DefaultRoundsPace)
	r.DuplicateWindow = max(r.DuplicateWindow, config.DefaultRoundsDuplicateWindow)
	r.MaxSkew = min(r.MaxSkew, config.DefaultRoundsMaxSkew)
	r.BurstWindow = max(r.BurstWindow, config.DefaultRoundsBurstWindow)
	if r.BurstCount == 0 || r.BurstCount > config.DefaultRoundsBurstCount {
		r.BurstCount = config.DefaultRoundsBurstCount
	}
}

// effective is the projection of a config that EffectiveHash covers: every
// setting that decides the score, in a fixed order.
type effective struct {
	Centre   string           `json:"centre"`
	Timezone string           `json:"timezone"`
	Zones    []effectiveZone  `json:"zones"`
	Cameras  []effectiveCam   `json:"cameras"`
	Sensors  []effectiveSens  `json:"sensors"`
	Window   string           `json:"window"`
	Interval string           `json:"interval"`
	Points   []effectivePoint `json:"checkpoints"`
	Badges   []string         `json:"badges"`
	Rules    []string         `json:"round_rules"`
	Notify   []string         `json:"recipients"`
	Critical []string         `json:"critical_chain"`
	Weights  string           `json:"weights_version"`
	W        [5]float64       `json:"weights"`
	Caps     string           `json:"caps"`
}

type effectiveZone struct{ ID, Kind, Coverage string }
type effectiveCam struct {
	ID    string
	Zones []string
}
type effectiveSens struct{ ID, Zone, Interval string }
type effectivePoint struct{ ID, Zone, Tag, Interval string }

// EffectiveHash is the SHA-256 (hex) of a canonical encoding of cfg's
// score-relevant settings (those Apply takes from the registry, plus the local
// ones that may tighten them). The heartbeat carries it with the registry
// version, so the ministry sees when a gateway's effective config changes.
// Settings that do not decide the score (broker, spool, status page) are not in it.
func EffectiveHash(cfg *config.Config) string {
	ef := effective{Centre: cfg.Centre.ID, Timezone: cfg.Centre.Timezone, Window: cfg.Rounds.Window, Interval: cfg.Rounds.Interval.String(),
		Weights: cfg.Score.WeightsVersion, Caps: cfg.Score.Caps}
	kinds := map[string]string{}
	for _, z := range cfg.Zones {
		rule, need := cfg.ZoneCoverage(z)
		kinds[z.ID] = z.Kind
		ef.Zones = append(ef.Zones, effectiveZone{z.ID, z.Kind, fmt.Sprintf("%s/%d", rule, need)})
	}
	for _, cam := range cfg.Cameras {
		ef.Cameras = append(ef.Cameras, effectiveCam{cam.ID + "/" + cam.Source, slices.Sorted(slices.Values(cam.Zones))})
	}
	for _, s := range cfg.Sensors {
		ef.Sensors = append(ef.Sensors, effectiveSens{s.ID, s.Zone, s.Interval.String()})
	}
	for _, cp := range cfg.Rounds.Checkpoints {
		iv := config.Duration(cfg.Rounds.IntervalFor(cp.Zone, kinds[cp.Zone])).String()
		ef.Points = append(ef.Points, effectivePoint{cp.ID, cp.Zone, config.NormalizeUID(cp.Tag), iv})
	}
	for _, b := range cfg.Rounds.Badges {
		ef.Badges = append(ef.Badges, b.ID+"/"+config.NormalizeUID(b.UID))
	}
	r := cfg.Rounds
	ef.Rules = []string{r.Grace.String(), r.MinWalk.String(), r.Pace.String(), r.DuplicateWindow.String(), r.MaxSkew.String(), r.BurstWindow.String(), fmt.Sprint(r.BurstCount)}
	for _, rc := range cfg.Alerts.Recipients {
		ef.Notify = append(ef.Notify, rc.Name+"/"+rc.TelegramChat+"/"+strings.ToLower(rc.Email))
	}
	for _, s := range cfg.Alerts.Escalation.Critical {
		ef.Critical = append(ef.Critical, s.After.String()+":"+strings.Join(s.Notify, ","))
	}
	w := cfg.Score.Weights
	ef.W = [5]float64{w.Temperature, w.Availability, w.Coverage, w.Rounds, w.Response}
	sortBy := func(a, b string) int { return strings.Compare(a, b) }
	slices.SortFunc(ef.Zones, func(a, b effectiveZone) int { return sortBy(a.ID, b.ID) })
	slices.SortFunc(ef.Cameras, func(a, b effectiveCam) int { return sortBy(a.ID, b.ID) })
	slices.SortFunc(ef.Sensors, func(a, b effectiveSens) int { return sortBy(a.ID, b.ID) })
	slices.SortFunc(ef.Points, func(a, b effectivePoint) int { return sortBy(a.ID, b.ID) })
	slices.Sort(ef.Badges)
	slices.Sort(ef.Notify)
	data, _ := json.Marshal(&ef) // plain strings and floats: cannot fail
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// indexByID maps each item's id to its index in items.
func indexByID[T any](items []T, id func(T) string) map[string]int {
	m := make(map[string]int, len(items))
	for i, x := range items {
		m[id(x)] = i
	}
	return m
}
