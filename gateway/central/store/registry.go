package store

import (
	"context"
	"fmt"
	"time"
)

// The ministry registry as the monitor sees it (docs/RATING.md): the shared
// vocabulary of the registry service (gateway/central/regsvc), the registry watch
// (jobs) and the pages (web).

// The heartbeat's registry fields (measurement gateway): the version of the
// registry bundle the gateway runs (integer, 0: unrated) and the hex SHA-256 of its
// effective config (registry.EffectiveHash).
const (
	FieldRegistryVersion = "registry_version"
	FieldConfigHash      = "config_hash"
)

// SignedBundle is a signed bundle found in the monitor's bundles directory (its
// signature verified against the ministry key).
type SignedBundle struct {
	Centre    string
	Version   int64
	NotBefore time.Time // zero: at once
	Published time.Time // when the file was placed (its modification time)
	KeyID     string
	File      string // base name in the bundles directory
}

// InEffect is when a gateway is expected to run the bundle: its not-before
// time or its publication, whichever is later.
func (b SignedBundle) InEffect() time.Time {
	if b.NotBefore.After(b.Published) {
		return b.NotBefore
	}
	return b.Published
}

// RegistryChange is one edit of a centre's registry entry in the monitor's
// change log.
type RegistryChange struct {
	At     time.Time `json:"at"`
	User   string    `json:"user"`
	Region string    `json:"region,omitempty"` // the user's region; empty for the ministry
	Centre string    `json:"centre"`
	From   int64     `json:"from_version"` // 0: the entry was created
	To     int64     `json:"to_version"`
	Diff   string    `json:"diff"` // unified diff of the YAML
}

// RegistryReport is the registry part of a gateway's latest heartbeat.
type RegistryReport struct {
	At         time.Time // the heartbeat carrying registry_version
	HasVersion bool      // the heartbeat carries registry_version at all
	Version    int64     // 0: unrated
	ConfigHash string
}

// Registry problems of a centre's gateway (RegistryState.Problem).
const (
	RegistryUnrated = "unrated" // a signed bundle is in force, the gateway runs none
	RegistryOld     = "old"     // runs an older version than the one in force
	RegistryUnknown = "unknown" // runs a version the monitor has no signed bundle of
)

// RegistryState is what the overview shows of a centre's registry: the version its
// gateway reports and the signed versions.
type RegistryState struct {
	Reported   bool // a heartbeat with registry_version was seen
	Version    int64
	ConfigHash string
	InForce    int64 // the latest signed version in effect (0: none)
	Latest     int64 // the latest signed version (may not be in effect yet)
	Problem    string
	Since      time.Time // when the problem was found
}

// GatewayRegistry returns, per centre, the registry fields of its gateway's latest
// heartbeat since from (centres whose heartbeats carry none are absent).
func (s *Store) GatewayRegistry(ctx context.Context, from time.Time) (map[string]RegistryReport, error) {
	rows, err := s.Query(ctx, s.from()+` |> range(start: `+fluxTime(from)+`)
  |> filter(fn: (r) => r._measurement == "gateway" and (r._field == "`+FieldRegistryVersion+`" or r._field == "`+FieldConfigHash+`"))
  |> last()`, "centre")
	if err != nil {
		return nil, fmt.Errorf("gateway registry versions: %w", err)
	}
	out := map[string]RegistryReport{}
	for _, r := range rows {
		c := r.Centre()
		if c == "" {
			continue
		}
		rep := out[c]
		switch r.Field {
		case FieldRegistryVersion:
			v, ok := r.Float()
			if !ok {
				continue
			}
			rep.HasVersion, rep.Version, rep.At = true, int64(v), r.Time
		case FieldConfigHash:
			rep.ConfigHash = r.Str()
		}
		out[c] = rep
	}
	return out, nil
}
