package registry

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/zonekind"
)

var (
	reID  = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	reUID = regexp.MustCompile(`^[0-9A-F]{4,32}$`)
	// reTelegram matches the centre config's telegram_chat.
	reTelegram = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$`)
)

// Validate checks the entry; the error joins one *config.FieldError per problem
// (without lines: an entry built in code or decoded from a bundle).
func (e *Entry) Validate() error {
	p := &problems{}
	e.validate(p)
	return p.Err()
}

func kindNames() []string { return zonekind.KindNames() }

func clip(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:61]) + "..."
	}
	return s
}

func (e *Entry) validate(p *problems) {
	id := func(path, v string) bool {
		switch {
		case v == "":
			p.errf(path, "required")
		case !reID.MatchString(v):
			p.errf(path, "invalid id %q: use only lower-case letters, digits and '-' (at most 64)", clip(v))
		default:
			return true
		}
		return false
	}
	unique := func(seen map[string]string, path, v string) {
		if first, dup := seen[v]; dup {
			p.errf(path, "duplicate id %q (first at %s)", v, where(p, first))
			return
		}
		seen[v] = path
	}
	if e.Version < 1 {
		p.errf("version", "required: a whole number from 1, raised with every change the ministry signs (got %d)", e.Version)
	}
	// Centre.
	id("centre.id", e.Centre.ID)
	if strings.TrimSpace(e.Centre.Name) == "" {
		p.errf("centre.name", "required: the centre's name")
	}
	if strings.TrimSpace(e.Centre.Region) == "" {
		p.errf("centre.region", "required: the region whose officers keep this entry, e.g. \"turkistan\"")
	}
	if e.Centre.Timezone == "" {
		p.errf("centre.timezone", "required: an IANA time zone such as \"Asia/Almaty\"")
	} else if _, err := time.LoadLocation(e.Centre.Timezone); err != nil || e.Centre.Timezone == "Local" {
		p.errf("centre.timezone", "unknown time zone %q: write an IANA name such as \"Asia/Almaty\"", clip(e.Centre.Timezone))
	}
	// Zones.
	if len(e.Zones) == 0 {
		p.errf("zones", "required: the centre's zones, each with id, kind and name")
	}
	zones := map[string]string{}
	kinds := kindNames()
	for i, z := range e.Zones {
		zp := fmt.Sprintf("zones[%d]", i)
		if id(zp+".id", z.ID) {
			unique(zones, zp+".id", z.ID)
		}
		k, known := zonekind.Lookup(z.Kind)
		switch {
		case z.Kind == "":
			p.errf(zp+".kind", "required: one of %s", strings.Join(kinds, ", "))
		case !known:
			p.errf(zp+".kind", "unknown zone kind %q%s", clip(z.Kind), config.DidYouMean(z.Kind, kinds))
		}
		if strings.TrimSpace(z.Name) == "" {
			p.errf(zp+".name", "required: the zone's name as staff know it")
		}
		for j, r := range z.Rooms {
			if strings.TrimSpace(r) == "" {
				p.errf(fmt.Sprintf("%s.rooms[%d]", zp, j), "empty room name")
			}
		}
		switch z.Coverage {
		case "", config.CoverageRequired, config.CoverageOptional:
		default:
			p.errf(zp+".coverage", "must be required or optional (or left out for the kind's rule), got %q", clip(z.Coverage))
		}
		switch {
		case k.Private && (len(z.Cameras) > 0 || z.Coverage == config.CoverageRequired):
			p.errf(zp+".cameras", "zone %q is of private kind %s: no camera may ever cover it", z.ID, z.Kind)
		case known && z.Required() && len(z.Cameras) == 0:
			p.errf(zp+".cameras", "zone %q (kind %s) must be covered: list the ids of the cameras that may cover it", z.ID, z.Kind)
		case known && !z.Required() && len(z.Cameras) > 0:
			p.errf(zp+".cameras", "zone %q is not required to be covered: list cameras only for a required zone (or set coverage: required)", z.ID)
		}
		seenCam := map[string]string{}
		for j, c := range z.Cameras {
			cp := fmt.Sprintf("%s.cameras[%d]", zp, j)
			if id(cp, c) {
				unique(seenCam, cp, c)
			}
		}
	}
	zoneRef := func(path, ref string) {
		switch {
		case ref == "":
			p.errf(path, "required: the id of a registered zone")
		case zones[ref] == "":
			p.errf(path, "unknown zone %q%s", clip(ref), config.DidYouMean(ref, keys(zones)))
		}
	}
	// Sensors.
	sensors := map[string]string{}
	for i, s := range e.Sensors {
		sp := fmt.Sprintf("sensors[%d]", i)
		if id(sp+".id", s.ID) {
			unique(sensors, sp+".id", s.ID)
		}
		zoneRef(sp+".zone", s.Zone)
		if s.MaxInterval < Duration(time.Second) || s.MaxInterval > Duration(24*time.Hour) {
			p.errf(sp+".max_interval", "required: the longest the sensor may stay silent between readings, 1s to 24h (got %s)", s.MaxInterval)
		}
	}
	// Rounds.
	r := e.Rounds
	if len(r.Checkpoints) > 0 || r.Window != "" || r.Interval != 0 {
		if _, _, err := (config.Rounds{Window: r.Window}).WindowBounds(); err != nil {
			p.errf("rounds.window", "%v", err)
		}
		if r.Interval < Duration(time.Minute) {
			p.errf("rounds.interval", "required: how often each checkpoint is due in the window, at least 1m (got %s)", r.Interval)
		}
	}
	cps, tags := map[string]string{}, map[string]string{}
	// card checks the UID raw of a checkpoint's tag or a badge at path: hex, and
	// on no other tag or badge (dupf names raw and the first one).
	card := func(path, raw, what, example, dupf string) {
		u := config.NormalizeUID(raw)
		switch first, dup := tags[u]; {
		case !reUID.MatchString(u):
			p.errf(path, "invalid %s UID %q: write the UID in hex, e.g. %q", what, clip(raw), example)
		case dup:
			p.errf(path, dupf, clip(raw), where(p, first))
		default:
			tags[u] = path
		}
	}
	for i, c := range r.Checkpoints {
		cp := fmt.Sprintf("rounds.checkpoints[%d]", i)
		if id(cp+".id", c.ID) {
			unique(cps, cp+".id", c.ID)
		}
		zoneRef(cp+".zone", c.Zone)
		if c.Tag == "" {
			continue
		}
		card(cp+".tag", c.Tag, "tag", "04A22B1C", "tag %q is already on another checkpoint (%s)")
	}
	badges := map[string]string{}
	for i, b := range r.Badges {
		bp := fmt.Sprintf("rounds.badges[%d]", i)
		if id(bp+".id", b.ID) {
			unique(badges, bp+".id", b.ID)
		}
		if b.UID == "" {
			continue
		}
		card(bp+".uid", b.UID, "card", "04A1B2C3D4E580", "UID %q is also %s: a card is either a checkpoint's tag or a staff badge")
	}
	// Recipients.
	if len(e.Recipients) == 0 {
		p.errf("recipients", "required: the recipients the ministry requires in the centre's alerts (its duty officer)")
	}
	for i, rc := range e.Recipients {
		rp := fmt.Sprintf("recipients[%d]", i)
		if strings.TrimSpace(rc.Name) == "" {
			p.errf(rp+".name", "required: who this is, e.g. \"Ministry duty officer\"")
		}
		if rc.TelegramChat == "" && rc.Email == "" {
			p.errf(rp, "no channel: set telegram_chat, email, or both (the centre config must have a recipient with one of them)")
		}
		if rc.TelegramChat != "" && !reTelegram.MatchString(rc.TelegramChat) {
			p.errf(rp+".telegram_chat", "invalid chat %q: a numeric chat id or \"@channel_name\"", clip(rc.TelegramChat))
		}
		if rc.Email != "" && (!strings.Contains(rc.Email, "@") || strings.ContainsAny(rc.Email, " <>")) {
			p.errf(rp+".email", "invalid e-mail address %q", clip(rc.Email))
		}
		if rc.CriticalWithin < 0 {
			p.errf(rp+".critical_within", "must not be negative, got %s", rc.CriticalWithin)
		}
	}
	// Score.
	s := e.Score
	switch vs := s.WeightsVersion; {
	case vs == "":
		p.errf("score.weights_version", "required: the label of these weights, e.g. \"2025.1\"")
	case len(vs) > 64 || strings.ContainsFunc(vs, func(r rune) bool { return !unicode.IsPrint(r) || r == ',' }):
		p.errf("score.weights_version", "invalid label %q: printable, no commas, at most 64 characters", clip(vs))
	}
	sum, ok := 0.0, true
	for _, f := range []struct {
		name string
		v    float64
	}{{"temperature", s.Weights.Temperature}, {"availability", s.Weights.Availability}, {"coverage", s.Weights.Coverage}, {"rounds", s.Weights.Rounds}, {"response", s.Weights.Response}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			p.errf("score.weights."+f.name, "must be between 0 and 1, got %g", f.v)
			ok = false
		}
		sum += f.v
	}
	if ok && math.Abs(sum-1) > 1e-6 {
		p.errf("score.weights", "must sum to 1, got %g", math.Round(sum*1e9)/1e9)
	}
	if s.Caps != "on" && s.Caps != "off" {
		p.errf("score.caps", "required: on or off, got %q", clip(s.Caps))
	}
	// Gateway key.
	g := e.Gateway
	if g.PublicKey != "" {
		key, err := base64.StdEncoding.DecodeString(g.PublicKey)
		switch {
		case err != nil || len(key) != ed25519.PublicKeySize:
			p.errf("gateway.public_key", "not an Ed25519 public key: want %d bytes in standard base64", ed25519.PublicKeySize)
		case g.Fingerprint != "" && g.Fingerprint != Fingerprint(key):
			p.errf("gateway.fingerprint", "%q is not the key's fingerprint (%s): the key or the fingerprint was mistyped", clip(g.Fingerprint), Fingerprint(key))
		}
	} else if g.Fingerprint != "" {
		p.errf("gateway.public_key", "required with fingerprint")
	}
}

// where names an earlier element for "first at ..." messages.
func where(p *problems, path string) string {
	if l := config.LineOf(p.lines, path); l > 0 {
		return fmt.Sprintf("line %d, %s", l, path)
	}
	return path
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
