package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/zonekind"
)

// Coverage tunes the camera coverage rules.
type Coverage struct {
	// Kinds overrides the coverage rule of whole zone kinds, e.g. {outdoor: required,
	// corridor: optional}. Private kinds stay prohibited.
	Kinds map[string]string `yaml:"kinds,omitempty"`
	// WarnAfter: a required zone uncovered this long raises a coverage_gap warning
	// (default 5m); CriticalAfter makes it critical (default 30m).
	WarnAfter     Duration `yaml:"warn_after"`
	CriticalAfter Duration `yaml:"critical_after"`
}

// Coverage rules of a zone.
const (
	CoverageRequired   = string(zonekind.Required)   // must be watched: counted in the coverage ratios
	CoverageOptional   = string(zonekind.Optional)   // may be watched: not counted
	CoverageProhibited = string(zonekind.Prohibited) // must never be watched: a camera there is a config error
)

var coverageRules = []string{CoverageRequired, CoverageOptional, CoverageProhibited}

// Camera defaults.
const (
	DefaultFrigatePrefix     = "frigate"
	DefaultFrigateStats      = Duration(60 * time.Second)
	DefaultCameraMinFPS      = 1.0
	DefaultProbeInterval     = Duration(30 * time.Second)
	DefaultProbeTimeout      = Duration(5 * time.Second)
	DefaultCoverageWarn      = Duration(5 * time.Minute)
	DefaultCoverageCritical  = Duration(30 * time.Minute)
	DefaultZoneCameras       = 1
	staleProbeIntervals      = 3
	maxCameraGenericValueLen = 64
)

// DefaultOnline are the values a generic camera source means online by.
var DefaultOnline = []string{"online", "on", "true", "1", "ok"}

// ZoneCoverage returns zone z's coverage rule and, for a required zone, how many
// covering cameras it needs at once: the zone's own setting, else coverage.kinds,
// else the kind's default (the zone-kind table's; optional for an unknown kind).
// Private kinds are always prohibited.
func (c *Config) ZoneCoverage(z Zone) (rule string, need int) {
	rule = CoverageOptional
	if k, ok := zonekind.Lookup(z.Kind); ok {
		rule = string(k.Coverage)
	}
	if rule != CoverageProhibited {
		if r, ok := c.Coverage.Kinds[z.Kind]; ok && r != "" {
			rule = r
		}
		if z.Coverage != "" {
			rule = z.Coverage
		}
	}
	if rule != CoverageRequired {
		return rule, 0
	}
	need = z.Cameras
	if need <= 0 {
		need = DefaultZoneCameras
	}
	return rule, need
}

// CameraTopic returns the saqshy health topic of a camera:
// saqshy/<centre>/camera/<camera>/health.
func CameraTopic(centre, camera string) string {
	return "saqshy/" + centre + "/camera/" + camera + "/health"
}

// FrigateName returns the camera's name in Frigate: Name, or the id.
func (cam Camera) FrigateName() string {
	if cam.Name != "" {
		return cam.Name
	}
	return cam.ID
}

// StillURL returns where the gateway fetches the camera's still to check that it
// sees: Frigate's latest frame when frigate_api is set, else the prober's
// snapshot_url; "" when neither.
func (cam Camera) StillURL() string {
	if cam.Source == CameraFrigate && cam.FrigateAPI != "" {
		return strings.TrimRight(cam.FrigateAPI, "/") + "/api/" + url.PathEscape(cam.FrigateName()) + "/latest.jpg"
	}
	if cam.Source == CameraSaqshy {
		return cam.SnapshotURL
	}
	return ""
}

// Probed reports whether the gateway probes the camera itself.
func (cam Camera) Probed() bool { return cam.RTSPURL != "" || cam.SnapshotURL != "" }

// CameraPassword returns the camera's password from its password_file; "" when none.
func (cam Camera) CameraPassword() (string, error) { return Secret(cam.PasswordFile, "") }

func (c *Config) cameraDefaults(absent func(string) bool) {
	setD := func(p *Duration, path string, v Duration) {
		if *p == 0 && absent(path) {
			*p = v
		}
	}
	setD(&c.Coverage.WarnAfter, "coverage.warn_after", DefaultCoverageWarn)
	setD(&c.Coverage.CriticalAfter, "coverage.critical_after", DefaultCoverageCritical)
	for i := range c.Cameras {
		cam := &c.Cameras[i]
		p := fmt.Sprintf("cameras[%d]", i)
		switch cam.Source {
		case CameraFrigate:
			if cam.Topic == "" && absent(p+".topic") {
				cam.Topic = DefaultFrigatePrefix
			}
			setD(&cam.StatsInterval, p+".stats_interval", DefaultFrigateStats)
			if cam.MinFPS == 0 && absent(p+".min_fps") {
				cam.MinFPS = DefaultCameraMinFPS
			}
		case CameraGeneric:
			if len(cam.Online) == 0 && absent(p+".online") {
				cam.Online = slices.Clone(DefaultOnline)
			}
		case CameraSaqshy:
			if cam.Topic == "" && absent(p+".topic") && c.Centre.ID != "" && cam.ID != "" {
				cam.Topic = CameraTopic(c.Centre.ID, cam.ID)
			}
			setD(&cam.Interval, p+".interval", DefaultProbeInterval)
			setD(&cam.Timeout, p+".timeout", DefaultProbeTimeout)
			setD(&cam.StaleAfter, p+".stale_after", staleProbeIntervals*cam.Interval)
		}
	}
}

var reFieldPath = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// cameraSource checks the source-specific settings of camera i; called from
// cameras() through coverage().
func (v *checker) cameraSource(i int, cam Camera) {
	p := fmt.Sprintf("cameras[%d]", i)
	onlyFor := func(field, source string, set bool) {
		if set && cam.Source != source && cam.Source != "" && contains(cameraSources, cam.Source) {
			v.errf(p+"."+field, "%s is only for source %s: remove it", field, source)
		}
	}
	onlyFor("field", CameraGeneric, cam.Field != "")
	onlyFor("online", CameraGeneric, len(cam.Online) > 0)
	onlyFor("min_fps", CameraFrigate, cam.MinFPS != 0)
	onlyFor("stats_interval", CameraFrigate, cam.StatsInterval != 0)
	onlyFor("frigate_api", CameraFrigate, cam.FrigateAPI != "")
	onlyFor("rtsp_url", CameraSaqshy, cam.RTSPURL != "")
	onlyFor("snapshot_url", CameraSaqshy, cam.SnapshotURL != "")
	onlyFor("username", CameraSaqshy, cam.Username != "")
	onlyFor("password_file", CameraSaqshy, cam.PasswordFile != "")
	onlyFor("interval", CameraSaqshy, cam.Interval != 0)
	onlyFor("timeout", CameraSaqshy, cam.Timeout != 0)
	if cam.Source == CameraFrigate {
		onlyFor("stale_after", CameraSaqshy, cam.StaleAfter != 0)
	}
	if cam.Topic != "" {
		if err := checkCameraTopic(cam.Topic); err != nil {
			v.errf(p+".topic", "%v", err)
		}
	}
	switch cam.Source {
	case CameraFrigate:
		if cam.MinFPS < 0 || cam.MinFPS > 120 {
			v.errf(p+".min_fps", "must be between 0 and 120 frames per second, got %g", cam.MinFPS)
		}
		v.positive(p+".stats_interval", cam.StatsInterval)
		if cam.Topic == "" {
			v.errf(p+".topic", "empty: leave the key out for Frigate's default prefix %q", DefaultFrigatePrefix)
		}
		if cam.FrigateAPI != "" {
			v.probeURL(p+".frigate_api", cam.FrigateAPI, []string{"http", "https"}, "http://127.0.0.1:5000")
		}
	case CameraGeneric:
		if cam.Topic == "" {
			v.errf(p+".topic", `required for a generic camera: the topic its status arrives on, e.g. "viseron/binary_sensor/cam1_connected/state"`)
		}
		if cam.Field != "" && !reFieldPath.MatchString(cam.Field) {
			v.errf(p+".field", `invalid field path %q: write JSON keys joined by dots, e.g. "state" or "attributes.connected"`, clip(cam.Field))
		}
		if len(cam.Online) == 0 {
			v.errf(p+".online", "empty: list the values that mean online (or leave the key out for %s)", quoteList(DefaultOnline))
		}
		for j, o := range cam.Online {
			if strings.TrimSpace(o) == "" || len(o) > maxCameraGenericValueLen {
				v.errf(fmt.Sprintf("%s.online[%d]", p, j), "must be a non-empty value of at most %d bytes", maxCameraGenericValueLen)
			}
		}
		if cam.StaleAfter < 0 {
			v.errf(p+".stale_after", "must not be negative, got %s", cam.StaleAfter)
		}
	case CameraSaqshy:
		v.positive(p+".stale_after", cam.StaleAfter)
		if cam.RTSPURL != "" && cam.SnapshotURL != "" {
			v.errf(p+".snapshot_url", "set rtsp_url or snapshot_url, not both: the prober checks one address per camera")
		}
		if cam.RTSPURL != "" {
			v.probeURL(p+".rtsp_url", cam.RTSPURL, []string{"rtsp"}, "rtsp://192.168.1.64:554/Streaming/Channels/101")
		}
		if cam.SnapshotURL != "" {
			v.probeURL(p+".snapshot_url", cam.SnapshotURL, []string{"http", "https"}, "http://192.168.1.64/ISAPI/Streaming/channels/101/picture")
		}
		if cam.Probed() {
			v.positive(p+".interval", cam.Interval)
			v.positive(p+".timeout", cam.Timeout)
			if cam.Timeout > 0 && cam.Interval > 0 && cam.Timeout > cam.Interval {
				v.errf(p+".timeout", "%s is longer than the interval %s: a probe must end before the next starts", cam.Timeout, cam.Interval)
			}
			if cam.PasswordFile != "" && cam.Username == "" {
				v.errf(p+".username", "required when password_file is set")
			}
		} else {
			for _, f := range []struct {
				name string
				set  bool
			}{{"username", cam.Username != ""}, {"password_file", cam.PasswordFile != ""}} {
				if f.set {
					v.errf(p+"."+f.name, "set, but there is nothing to probe: add rtsp_url or snapshot_url")
				}
			}
		}
	}
}

func (v *checker) probeURL(path, raw string, schemes []string, example string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !strings.Contains(raw, "://"):
		v.errf(path, "invalid URL %q: write e.g. %q", redact(raw), example)
	case !contains(schemes, strings.ToLower(u.Scheme)):
		v.errf(path, "unsupported scheme %q in %q: use %s://", u.Scheme, redact(raw), strings.Join(schemes, ":// or "))
	case u.User != nil:
		v.errf(path, "the URL %q carries credentials: write the user into username and the password into a file named by password_file", redact(raw))
	case u.Hostname() == "":
		v.errf(path, "the URL %q names no host", redact(raw))
	}
}

// checkCameraTopic rejects topics with wildcards, empty levels or control characters.
func checkCameraTopic(t string) error {
	if strings.ContainsAny(t, "+#") {
		return fmt.Errorf("topic %q must not contain the wildcards + or #: write one camera's topic", clip(t))
	}
	for _, lvl := range strings.Split(t, "/") {
		if lvl == "" {
			return fmt.Errorf("topic %q has an empty level (a leading, trailing or doubled '/')", clip(t))
		}
	}
	for _, r := range t {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("topic %q contains a control character", clip(t))
		}
	}
	return nil
}

// coverage checks the coverage section, the zones' coverage settings and the
// cameras' source settings, and that no camera watches a prohibited zone.
func (v *checker) coverage(zones map[string]Zone) {
	cv := &v.c.Coverage
	for _, kind := range sortedKeys(cv.Kinds) {
		rule := cv.Kinds[kind]
		p := "coverage.kinds." + kind
		k, ok := zonekind.Lookup(kind)
		switch {
		case !ok:
			v.errf(p, "unknown zone kind %q%s", clip(kind), DidYouMean(kind, zonekind.KindNames()))
		case !contains(coverageRules, rule):
			v.errf(p, "unknown coverage rule %q: use %s", clip(rule), quoteList(coverageRules))
		case k.Private && rule != CoverageProhibited:
			v.errf(p, "%s is private: cameras are never allowed there, it stays prohibited", kind)
		}
	}
	v.positive("coverage.warn_after", cv.WarnAfter)
	v.positive("coverage.critical_after", cv.CriticalAfter)
	if cv.WarnAfter > 0 && cv.CriticalAfter > 0 && cv.CriticalAfter < cv.WarnAfter {
		v.errf("coverage.critical_after", "%s is shorter than warn_after %s", cv.CriticalAfter, cv.WarnAfter)
	}

	mapped := map[string][]string{} // zone -> cameras
	for i, cam := range v.c.Cameras {
		v.cameraSource(i, cam)
		for j, ref := range cam.Zones {
			z, ok := zones[ref]
			if !ok || slices.Contains(mapped[ref], cam.ID) {
				continue
			}
			mapped[ref] = append(mapped[ref], cam.ID)
			k, _ := zonekind.Lookup(z.Kind)
			if rule, _ := v.c.ZoneCoverage(z); rule == CoverageProhibited && !k.Private {
				name := cam.ID
				if name == "" {
					name = fmt.Sprintf("cameras[%d]", i)
				}
				v.errf(fmt.Sprintf("cameras[%d].zones[%d]", i, j), "camera %q must not cover zone %q: its coverage is prohibited by %s", name, z.ID, v.prohibitedBy(z))
			}
		}
	}
	topics := map[string]int{} // generic and saqshy topic -> first camera
	for i, cam := range v.c.Cameras {
		if cam.Topic == "" || cam.Source != CameraGeneric && cam.Source != CameraSaqshy {
			continue
		}
		if j, ok := topics[cam.Topic]; ok && v.c.Cameras[j].Source != cam.Source {
			v.errf(fmt.Sprintf("cameras[%d].topic", i), "topic %q is also camera %q's (%s), a %s camera: one topic speaks one format", clip(cam.Topic), v.c.Cameras[j].ID, v.where(fmt.Sprintf("cameras[%d]", j)), v.c.Cameras[j].Source)
			continue
		}
		topics[cam.Topic] = i
	}
	frigates := map[string]int{} // prefix -> first camera
	for i, cam := range v.c.Cameras {
		if cam.Source != CameraFrigate || cam.Topic == "" {
			continue
		}
		if j, ok := frigates[cam.Topic]; ok {
			if other := v.c.Cameras[j].StatsInterval; other > 0 && cam.StatsInterval > 0 && other != cam.StatsInterval {
				v.errf(fmt.Sprintf("cameras[%d].stats_interval", i), "%s differs from %s of camera %q on the same Frigate (%s): one Frigate has one stats_interval", cam.StatsInterval, v.c.Cameras[j].StatsInterval, v.c.Cameras[j].ID, v.where(fmt.Sprintf("cameras[%d]", j)))
			}
			continue
		}
		frigates[cam.Topic] = i
	}

	for i, z := range v.c.Zones {
		p := fmt.Sprintf("zones[%d]", i)
		k, _ := zonekind.Lookup(z.Kind)
		if z.Coverage != "" {
			switch {
			case !contains(coverageRules, z.Coverage):
				v.errf(p+".coverage", "unknown coverage rule %q%s: use %s", clip(z.Coverage), DidYouMean(z.Coverage, coverageRules), quoteList(coverageRules))
			case k.Private && z.Coverage != CoverageProhibited:
				v.errf(p+".coverage", "zone %q is a %s, which is private: cameras are never allowed there", z.ID, z.Kind)
			}
		}
		if z.Cameras < 0 || z.Cameras > 16 {
			v.errf(p+".cameras", "must be between 1 and 16, got %d", z.Cameras)
			continue
		}
		if z.Cameras == 0 {
			continue
		}
		if rule, _ := v.c.ZoneCoverage(z); rule != CoverageRequired {
			v.errf(p+".cameras", "zone %q is not required to be covered (%s): cameras only applies to required zones", z.ID, rule)
		} else if n := len(mapped[z.ID]); n < z.Cameras {
			v.errf(p+".cameras", "zone %q needs %d cameras at once, but only %d camera(s) are mapped to it", z.ID, z.Cameras, n)
		}
	}
}

// prohibitedBy names the setting that made zone z prohibited, with its line.
func (v *checker) prohibitedBy(z Zone) string {
	if z.Coverage == CoverageProhibited {
		for i, zz := range v.c.Zones {
			if zz.ID == z.ID {
				return v.where(fmt.Sprintf("zones[%d].coverage", i))
			}
		}
	}
	return v.where("coverage.kinds." + z.Kind)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
