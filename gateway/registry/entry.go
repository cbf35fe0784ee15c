// Package registry is the ministry's registry of every centre: what each centre
// must have (zones and their kinds, the cameras that may cover each required zone,
// sensors and their longest reporting interval, night-round checkpoints, window
// and interval, the staff badges issued, the recipients the ministry requires, the
// score's weights and caps) written as one YAML entry per centre, signed by the
// ministry (Ed25519) into a bundle that the centre's gateway installs, and checked
// against the centre's local config: a local setting may be stricter than the
// registry, never weaker. See docs/RATING.md.
//
// The package is shared by the gateway (Store, Fetch, Check, Apply) and the
// ministry's side (Parse, Sign, the saqshy-registry command).
package registry

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/zonekind"
	"go.yaml.in/yaml/v3"
)

// Entry is what the ministry has registered for one centre. Field order is the
// order of the canonical encoding ([Entry.Canonical]); do not reorder.
type Entry struct {
	// Version increases with every change the ministry signs (1, 2, …). A
	// gateway never installs a version older than the one it has.
	Version int64 `yaml:"version" json:"version"`
	// NotBefore: the entry takes effect at this time (RFC 3339); a gateway
	// refuses it until then. Zero: at once.
	NotBefore  time.Time   `yaml:"not_before" json:"not_before"`
	Centre     Centre      `yaml:"centre" json:"centre"`
	Zones      []Zone      `yaml:"zones" json:"zones"`
	Sensors    []Sensor    `yaml:"sensors" json:"sensors"`
	Rounds     Rounds      `yaml:"rounds" json:"rounds"`
	Recipients []Recipient `yaml:"recipients" json:"recipients"`
	Score      Score       `yaml:"score" json:"score"`
	Gateway    Gateway     `yaml:"gateway" json:"gateway"`
}

// Centre identifies the centre; ID is the centre config's centre.id.
type Centre struct {
	ID       string `yaml:"id" json:"id"`
	Name     string `yaml:"name" json:"name"`
	Region   string `yaml:"region" json:"region"`
	Timezone string `yaml:"timezone" json:"timezone"`
}

// Zone is a registered place: its kind decides its temperature band and whether
// a camera must cover it.
type Zone struct {
	ID   string `yaml:"id" json:"id"`
	Kind string `yaml:"kind" json:"kind"`
	Name string `yaml:"name" json:"name"`
	// Rooms are the room numbers or names on the floor plan the zone is.
	Rooms []string `yaml:"rooms,omitempty" json:"rooms,omitempty"`
	// Coverage is "required" or "optional"; empty takes the kind's rule (living,
	// medical, dining, play, corridor, entrance, outdoor are required).
	Coverage string `yaml:"coverage,omitempty" json:"coverage,omitempty"`
	// Cameras are the ids of the cameras that may cover a required zone (at
	// least one). A camera the registry does not list covers nothing there.
	Cameras []string `yaml:"cameras,omitempty" json:"cameras,omitempty"`
}

// Required reports whether the zone must be covered by a camera.
func (z Zone) Required() bool {
	if z.Coverage != "" {
		return z.Coverage == config.CoverageRequired
	}
	k, _ := zonekind.Lookup(z.Kind)
	return k.Coverage == zonekind.Required
}

// Sensor is a registered sensor and the longest it may stay silent between
// readings (its interval in the centre config may be shorter, never longer).
type Sensor struct {
	ID          string   `yaml:"id" json:"id"`
	Zone        string   `yaml:"zone" json:"zone"`
	MaxInterval Duration `yaml:"max_interval" json:"max_interval"`
}

// Rounds are the night rounds set by regulation.
type Rounds struct {
	// Window is "HH:MM-HH:MM" in the centre's time zone.
	Window string `yaml:"window" json:"window"`
	// Interval: every checkpoint is due this often within the window (at most).
	Interval    Duration     `yaml:"interval" json:"interval"`
	Checkpoints []Checkpoint `yaml:"checkpoints" json:"checkpoints"`
	// Badges are the staff cards issued: a scan with any other badge is not a
	// round.
	Badges []Badge `yaml:"badges" json:"badges"`
}

// Checkpoint is a registered checkpoint and the tag fixed at it.
type Checkpoint struct {
	ID   string `yaml:"id" json:"id"`
	Zone string `yaml:"zone" json:"zone"`
	// Tag is the NFC tag UID (hex); empty for a button.
	Tag string `yaml:"tag,omitempty" json:"tag,omitempty"`
}

// Badge is an issued staff card.
type Badge struct {
	ID   string `yaml:"id" json:"id"`
	UID  string `yaml:"uid,omitempty" json:"uid,omitempty"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	Role string `yaml:"role,omitempty" json:"role,omitempty"`
}

// Recipient is someone the ministry requires in the centre's alerts (its duty
// officer): the centre config must have a recipient with one of these channels,
// told of a critical alert no later than CriticalWithin.
type Recipient struct {
	Name         string `yaml:"name" json:"name"`
	TelegramChat string `yaml:"telegram_chat,omitempty" json:"telegram_chat,omitempty"`
	Email        string `yaml:"email,omitempty" json:"email,omitempty"`
	// CriticalWithin is the latest escalation step (time unacknowledged) at
	// which the recipient must be told of a critical alert; 0s: at once.
	CriticalWithin Duration `yaml:"critical_within" json:"critical_within"`
}

// Score is the score formula in force: its weights under a version label, and
// whether serious events cap the score.
type Score struct {
	WeightsVersion string  `yaml:"weights_version" json:"weights_version"`
	Weights        Weights `yaml:"weights" json:"weights"`
	// Caps is "on" or "off".
	Caps string `yaml:"caps" json:"caps"`
}

// Weights are the components' weights; they sum to 1.
type Weights struct {
	Temperature  float64 `yaml:"temperature" json:"temperature"`
	Availability float64 `yaml:"availability" json:"availability"`
	Coverage     float64 `yaml:"coverage" json:"coverage"`
	Rounds       float64 `yaml:"rounds" json:"rounds"`
	Response     float64 `yaml:"response" json:"response"`
}

// Config returns w as the centre config's weights.
func (w Weights) Config() config.ScoreWeights {
	return config.ScoreWeights{Temperature: w.Temperature, Availability: w.Availability, Coverage: w.Coverage, Rounds: w.Rounds, Response: w.Response}
}

// Gateway is the centre gateway's own signing key (Ed25519), registered at
// enrolment: the ingest service accepts the centre's data signed by it only.
type Gateway struct {
	// PublicKey is the 32-byte Ed25519 public key, standard base64.
	PublicKey string `yaml:"public_key,omitempty" json:"public_key,omitempty"`
	// Fingerprint is [Fingerprint] of the key, written to be read aloud at
	// enrolment; checked against the key when both are set.
	Fingerprint string `yaml:"fingerprint,omitempty" json:"fingerprint,omitempty"`
	// Installed is when the gateway was installed at the centre, written by the
	// region officer at enrolment with the key: the central rating scores the
	// centre from then on, and a day that ended before it is not rated (it is no
	// silence of the centre). Zero: every registered day is rated.
	Installed time.Time `yaml:"installed,omitempty" json:"installed,omitzero"`
}

// Duration is a config duration ("30s", "2h") that is also written so in JSON.
type Duration config.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns d as the centre config writes it ("2h", "1h30m").
func (d Duration) String() string { return config.Duration(d).String() }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	return (*config.Duration)(d).UnmarshalYAML(n)
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("expected a duration such as \"30s\" or \"2h\", got %s", b)
	}
	v, err := config.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Canonical returns the entry's canonical bytes, the bytes the ministry signs:
// compact JSON in the field order of the types above, durations written as in
// the YAML, times in UTC. The same entry always gives the same bytes.
func (e *Entry) Canonical() ([]byte, error) {
	c := *e
	c.NotBefore = c.NotBefore.UTC()
	c.Gateway.Installed = c.Gateway.Installed.UTC()
	return json.Marshal(&c)
}

// zone returns the registered zone with id.
func (e *Entry) zone(id string) (Zone, bool) {
	for _, z := range e.Zones {
		if z.ID == id {
			return z, true
		}
	}
	return Zone{}, false
}
