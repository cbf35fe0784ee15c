package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/zonekind"
)

// RoundOverride sets the interval of the checkpoints in one zone or of one zone
// kind. Exactly one of Zone and ZoneKind is set.
type RoundOverride struct {
	Zone     string   `yaml:"zone"`
	ZoneKind string   `yaml:"zone_kind"`
	Interval Duration `yaml:"interval"`
}

// RoundReader is a shared (hand-held) reader: staff carry it, and the UID it reads
// is the tag of the checkpoint they stand at.
type RoundReader struct {
	// ID is unique among readers and checkpoints' readers.
	ID string `yaml:"id"`
	// Source is "tasmota" (the only one so far).
	Source string `yaml:"source"`
	// Topic is the reader's tele/<t>/SENSOR topic.
	Topic string `yaml:"topic"`
}

// Badge is a staff card. Scans name it by its ID (the native "badge") or by the
// card's UID (read by a reader fixed at a checkpoint).
type Badge struct {
	ID   string `yaml:"id"`
	UID  string `yaml:"uid"`
	Name string `yaml:"name"`
	Role string `yaml:"role"`
}

// Distance is the walking distance between two checkpoints, in metres.
type Distance struct {
	From   string  `yaml:"from"`
	To     string  `yaml:"to"`
	Metres float64 `yaml:"metres"`
}

// Checkpoint sources.
const (
	RoundSaqshy      = "saqshy"
	RoundZigbee2MQTT = "zigbee2mqtt"
	RoundTasmota     = "tasmota"
)

var roundSources = []string{RoundSaqshy, RoundTasmota, RoundZigbee2MQTT}

// Rounds defaults.
const (
	DefaultRoundsGrace           = Duration(15 * time.Minute)
	DefaultRoundsMinWalk         = Duration(20 * time.Second)
	DefaultRoundsPace            = Duration(500 * time.Millisecond)
	DefaultRoundsBurstCount      = 5
	DefaultRoundsBurstWindow     = Duration(30 * time.Second)
	DefaultRoundsDuplicateWindow = Duration(time.Minute)
	DefaultRoundsMaxSkew         = Duration(2 * time.Minute)
	DefaultRoundsCriticalAfter   = 2
)

// NormalizeUID writes a tag or card UID as readers disagree on it: upper-case hex
// without ':', '-' or spaces ("04:a2:2b:1c" -> "04A22B1C").
func NormalizeUID(s string) string {
	s = strings.NewReplacer(":", "", "-", "", " ", "").Replace(strings.TrimSpace(s))
	return strings.ToUpper(s)
}

// RoundsTopic is the native scan topic of a checkpoint.
func RoundsTopic(centre, checkpoint string) string {
	return "saqshy/" + centre + "/round/" + checkpoint + "/scan"
}

func (c *Config) roundsDefaults(absent func(string) bool) {
	r := &c.Rounds
	setD := func(p *Duration, path string, v Duration) {
		if *p == 0 && absent(path) {
			*p = v
		}
	}
	setD(&r.Grace, "rounds.grace", DefaultRoundsGrace)
	setD(&r.MinWalk, "rounds.min_walk", DefaultRoundsMinWalk)
	setD(&r.Pace, "rounds.pace", DefaultRoundsPace)
	setD(&r.BurstWindow, "rounds.burst_window", DefaultRoundsBurstWindow)
	setD(&r.DuplicateWindow, "rounds.duplicate_window", DefaultRoundsDuplicateWindow)
	setD(&r.MaxSkew, "rounds.max_skew", DefaultRoundsMaxSkew)
	if r.BurstCount == 0 && absent("rounds.burst_count") {
		r.BurstCount = DefaultRoundsBurstCount
	}
	if r.CriticalAfter == 0 && absent("rounds.critical_after") {
		r.CriticalAfter = DefaultRoundsCriticalAfter
	}
	for i := range r.Checkpoints {
		if r.Checkpoints[i].Source == "" && absent(fmt.Sprintf("rounds.checkpoints[%d].source", i)) {
			r.Checkpoints[i].Source = RoundSaqshy
		}
	}
	for i := range r.Readers {
		if r.Readers[i].Source == "" && absent(fmt.Sprintf("rounds.readers[%d].source", i)) {
			r.Readers[i].Source = RoundTasmota
		}
	}
}

// IntervalFor returns the interval of the checkpoints in zone (of kind kind): the
// zone's override, else the kind's, else Interval.
func (r Rounds) IntervalFor(zone, kind string) time.Duration {
	var byKind Duration
	for _, o := range r.Overrides {
		if o.Zone != "" && o.Zone == zone {
			return o.Interval.Std()
		}
		if o.ZoneKind != "" && o.ZoneKind == kind && byKind == 0 {
			byKind = o.Interval
		}
	}
	if byKind != 0 {
		return byKind.Std()
	}
	return r.Interval.Std()
}

var (
	reUID          = regexp.MustCompile(`^[0-9A-F]{4,32}$`)
	reTasmotaTopic = regexp.MustCompile(`^tele/[^/+#\s]+/SENSOR$`)
)

// roundsExtra checks the rounds fields beyond window, interval and the checkpoints'
// ids, zones and tags (validate.go).
func (v *checker) roundsExtra(zones map[string]Zone) {
	r := &v.c.Rounds
	if r.Grace < 0 {
		v.errf("rounds.grace", "must not be negative, got %s", r.Grace)
	}
	cps := map[string]bool{}
	tags := map[string]string{}
	readers := map[string]string{}
	topics := map[string]string{}
	shortest := r.Interval
	for i, cp := range r.Checkpoints {
		p := fmt.Sprintf("rounds.checkpoints[%d]", i)
		cps[cp.ID] = true
		if cp.Tag != "" {
			if t := NormalizeUID(cp.Tag); !reUID.MatchString(t) {
				v.errf(p+".tag", "invalid tag UID %q: write the UID in hex, e.g. \"04A22B1C\"", clip(cp.Tag))
			} else {
				tags[t] = p
			}
		}
		if z, ok := zones[cp.Zone]; ok {
			if iv := Duration(r.IntervalFor(z.ID, z.Kind)); iv > 0 && iv < shortest {
				shortest = iv
			}
		}
		if cp.Reader != "" {
			if first, dup := readers[cp.Reader]; dup {
				v.errf(p+".reader", "reader %q is already at another checkpoint (%s): a fixed reader marks one place", clip(cp.Reader), v.where(first))
			} else {
				readers[cp.Reader] = p
			}
		}
		switch cp.Source {
		case RoundSaqshy:
			if cp.Topic != "" {
				v.errf(p+".topic", "a saqshy checkpoint's topic is fixed (%s): remove topic", RoundsTopic(v.c.Centre.ID, cp.ID))
			}
		case RoundZigbee2MQTT, RoundTasmota:
			v.roundTopic(p+".topic", cp.Source, cp.Topic, topics)
		case "":
			v.errf(p+".source", "empty: leave the key out for %q, or write one of %s", RoundSaqshy, quoteList(roundSources))
		default:
			v.errf(p+".source", "unknown checkpoint source %q%s; known: %s", clip(cp.Source), DidYouMean(cp.Source, roundSources), quoteList(roundSources))
		}
	}
	if r.Grace > 0 && shortest > 0 && r.Grace > shortest {
		v.errf("rounds.grace", "%s is longer than the shortest interval (%s): a late scan would reach past the next slot", r.Grace, shortest)
	}
	v.roundOverrides(zones)
	for i, rd := range r.Readers {
		p := fmt.Sprintf("rounds.readers[%d]", i)
		if v.id(p+".id", rd.ID) {
			if first, dup := readers[rd.ID]; dup {
				v.errf(p+".id", "duplicate reader id %q (first at %s)", rd.ID, v.where(first))
			} else {
				readers[rd.ID] = p
			}
		}
		if rd.Source != RoundTasmota {
			v.errf(p+".source", "unknown reader source %q: a shared reader is %q", clip(rd.Source), RoundTasmota)
			continue
		}
		v.roundTopic(p+".topic", rd.Source, rd.Topic, topics)
	}
	seen := ids{}
	for i, b := range r.Badges {
		p := fmt.Sprintf("rounds.badges[%d]", i)
		if v.id(p+".id", b.ID) {
			v.unique(seen, p+".id", b.ID)
		}
		if b.UID == "" {
			continue
		}
		u := NormalizeUID(b.UID)
		if !reUID.MatchString(u) {
			v.errf(p+".uid", "invalid card UID %q: write the UID in hex, e.g. \"04A1B2C3D4E580\"", clip(b.UID))
		} else if first, dup := tags[u]; dup {
			v.errf(p+".uid", "UID %q is also %s: a card is either a checkpoint's tag or a staff badge", clip(b.UID), v.where(first))
		} else {
			tags[u] = p
		}
	}
	if r.MinWalk < 0 {
		v.errf("rounds.min_walk", "must not be negative, got %s", r.MinWalk)
	}
	if r.Pace < 0 || r.Pace > Duration(time.Minute) {
		v.errf("rounds.pace", "time per metre between 0s and 1m, got %s", r.Pace)
	}
	pairs := map[[2]string]string{}
	for i, d := range r.Distances {
		p := fmt.Sprintf("rounds.distances[%d]", i)
		for _, f := range []struct{ path, id string }{{p + ".from", d.From}, {p + ".to", d.To}} {
			if f.id == "" {
				v.errf(f.path, "required: a checkpoint id")
			} else if !cps[f.id] {
				v.errf(f.path, "unknown checkpoint %q%s", clip(f.id), DidYouMean(f.id, checkpointIDs(r.Checkpoints)))
			}
		}
		if d.From != "" && d.From == d.To {
			v.errf(p+".to", "same checkpoint as from")
		}
		if d.Metres <= 0 || d.Metres > 10000 {
			v.errf(p+".metres", "between 0 and 10000 metres, got %g", d.Metres)
		}
		k := [2]string{min(d.From, d.To), max(d.From, d.To)}
		if first, dup := pairs[k]; dup {
			v.errf(p, "distance between %q and %q given twice (first at %s)", d.From, d.To, v.where(first))
		}
		pairs[k] = p
	}
	if r.BurstCount != 0 && (r.BurstCount < 2 || r.BurstCount > 1000) {
		v.errf("rounds.burst_count", "between 2 and 1000 (0 disables), got %d", r.BurstCount)
	}
	if r.BurstCount != 0 {
		v.positive("rounds.burst_window", r.BurstWindow)
	}
	if r.DuplicateWindow < 0 {
		v.errf("rounds.duplicate_window", "must not be negative, got %s", r.DuplicateWindow)
	}
	v.positive("rounds.max_skew", r.MaxSkew)
	if r.CriticalAfter < 1 {
		v.errf("rounds.critical_after", "at least 1 (missed slots in a row), got %d", r.CriticalAfter)
	}
}

func (v *checker) roundTopic(path, source, topic string, topics map[string]string) {
	switch {
	case topic == "":
		ex := "zigbee2mqtt/cp-101-button"
		if source == RoundTasmota {
			ex = "tele/cp-101-reader/SENSOR"
		}
		v.errf(path, "required for a %s checkpoint or reader, e.g. %q", source, ex)
		return
	case strings.ContainsAny(topic, "+#") || strings.HasPrefix(topic, "/") || strings.HasSuffix(topic, "/") || strings.Contains(topic, "//"):
		v.errf(path, "invalid topic %q: a device's own topic, without wildcards or empty levels", clip(topic))
		return
	case source == RoundTasmota && !reTasmotaTopic.MatchString(topic):
		v.errf(path, "a Tasmota reader reports on tele/<topic>/SENSOR, got %q", clip(topic))
		return
	}
	if first, dup := topics[topic]; dup {
		v.errf(path, "topic %q is already used by %s: one device marks one place", clip(topic), v.where(first))
		return
	}
	topics[topic] = path
}

func (v *checker) roundOverrides(zones map[string]Zone) {
	seen := map[string]string{}
	for i, o := range v.c.Rounds.Overrides {
		p := fmt.Sprintf("rounds.overrides[%d]", i)
		key := ""
		switch {
		case o.Zone != "" && o.ZoneKind != "":
			v.errf(p, "set zone or zone_kind, not both")
		case o.Zone != "":
			key = "zone " + o.Zone
			v.zoneRef(p+".zone", o.Zone, zones)
		case o.ZoneKind != "":
			key = "zone_kind " + o.ZoneKind
			if _, ok := zonekind.Lookup(o.ZoneKind); !ok {
				v.errf(p+".zone_kind", "unknown zone kind %q%s", clip(o.ZoneKind), DidYouMean(o.ZoneKind, zonekind.KindNames()))
			}
		default:
			v.errf(p, "set zone or zone_kind")
		}
		if key != "" {
			if first, dup := seen[key]; dup {
				v.errf(p, "%s has an override already (%s)", key, v.where(first))
			}
			seen[key] = p
		}
		if o.Interval < Duration(time.Minute) {
			v.errf(p+".interval", "at least 1m, got %s", o.Interval)
		}
	}
}

func checkpointIDs(cps []Checkpoint) []string {
	out := make([]string, len(cps))
	for i, c := range cps {
		out[i] = c.ID
	}
	return out
}
