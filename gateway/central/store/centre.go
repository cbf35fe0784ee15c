package store

import (
	"fmt"
	"time"
)

// CentreInfo is a registered centre.
type CentreInfo struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"`
	Region   string `yaml:"region"`
	Timezone string `yaml:"timezone"`
	loc      *time.Location
}

// NewCentre is a centre in time zone loc (e.g. an unregistered one, shown in the
// report's zone).
func NewCentre(id, name, region string, loc *time.Location) CentreInfo {
	return CentreInfo{ID: id, Name: name, Region: region, Timezone: loc.String(), loc: loc}
}

// Location is the centre's time zone.
func (c CentreInfo) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// LoadLocation reads the centre's Timezone; Location returns it afterwards.
func (c *CentreInfo) LoadLocation() error {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return fmt.Errorf("unknown time zone %q", c.Timezone)
	}
	c.loc = loc
	return nil
}

// Attention holds the thresholds below which a centre "needs attention".
type Attention struct {
	ScoreBelow    float64 `yaml:"score_below"`    // live score; default 70
	CoverageBelow float64 `yaml:"coverage_below"` // ratio; default 0.9
	RoundsBelow   float64 `yaml:"rounds_below"`   // last night's compliance; default 0.8
}

// GatewayState is what the overview shows of a centre's gateway.
type GatewayState struct {
	LastSeen    time.Time
	Silent      bool
	SilentSince time.Time
	// Registry is the registry version the gateway runs against the signed ones
	// (zero without a registry service).
	Registry RegistryState
}

// ValidID reports whether s is a usable centre id: letters, digits, '-', '_' and '.'.
func ValidID(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return s != ""
}
