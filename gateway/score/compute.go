package score

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Component is one part of the score.
type Component int

// The components, in the order they are written.
const (
	CompTemperature Component = iota
	CompAvailability
	CompCoverage
	CompRounds
	CompResponse
	NumComponents
)

var componentNames = [NumComponents]string{"temperature", "availability", "coverage", "rounds", "response"}

// String returns the component's InfluxDB field name.
func (c Component) String() string {
	if c < 0 || c >= NumComponents {
		return fmt.Sprintf("component(%d)", int(c))
	}
	return componentNames[c]
}

// Weights are the components' weights, indexed by Component; they sum to 1.
type Weights [NumComponents]float64

// DefaultWeights and DefaultWeightsVersion are the documented defaults
// (docs/SAFETY_SCORE.md).
var DefaultWeights = Weights{CompTemperature: 0.35, CompAvailability: 0.15, CompCoverage: 0.20, CompRounds: 0.20, CompResponse: 0.10}

// DefaultWeightsVersion names DefaultWeights in every point.
const DefaultWeightsVersion = "2025.1"

// Part is one component's value over a period.
type Part struct {
	// Applicable is false when the centre has nothing configured for the component
	// (no cameras, no checkpoints): it is left out and the other weights are scaled
	// up to sum to 1.
	Applicable bool
	// Known is false when the component is configured but its source has no data
	// (a camera check that is not running, a gateway that was off): it counts as 0.
	Known bool
	Ratio float64 // 0–1; used only when Known
}

// Value is the part's value as it enters the score: Ratio clamped to 0–1, or 0
// when unknown.
func (p Part) Value() float64 {
	if !p.Known || math.IsNaN(p.Ratio) {
		return 0
	}
	return min(max(p.Ratio, 0), 1)
}

// Caps.
const (
	CapScald         = "scald"              // mixed hot water above 46 °C at an outlet
	CapFreeze        = "med_fridge_freeze"  // a medicine fridge at or below 0 °C
	CapRoomCold      = "room_below_16"      // a resident room below 16 °C for 30 min
	CapCameraDown    = "camera_down_24h"    // a required camera down for more than 24 h
	CapGatewaySilent = "gateway_silent_24h" // the gateway silent for more than 24 h

	// The no-data caps: a sensor of a capped zone silent for its hold (SilentFor or
	// more) caps as its zone's event would (missing data counts as the worst case),
	// but under its own id, so that it is never described as an event that did not
	// happen.
	CapScaldNoData  = "scald_no_data"      // no data from a hot-water outlet
	CapFreezeNoData = "med_fridge_no_data" // no data from a medicine fridge
	CapRoomNoData   = "room_no_data"       // no data from a resident room
)

// noDataCaps maps an event cap to the cap its zone's silence triggers.
var noDataCaps = map[string]string{CapScald: CapScaldNoData, CapFreeze: CapFreezeNoData, CapRoomCold: CapRoomNoData}

// NoDataCap returns the cap that a silence of a sensor in a zone capped by
// eventCap triggers: the no-data cap with eventCap's rule.
func NoDataCap(eventCap string) string {
	if id, ok := noDataCaps[eventCap]; ok {
		return id
	}
	return eventCap
}

// capRule is what a cap does: the total is at most Total, and Component (if any)
// at most ComponentMax.
type capRule struct {
	Total        float64
	Component    Component // NumComponents for none
	ComponentMax float64
}

// capRules follow DOMAIN.md §6.4: a serious event caps its domain at 60 % and the
// total at 70; a gateway silent for more than 24 h caps the total at 50.
var capRules = map[string]capRule{
	CapScald:         {Total: 70, Component: CompTemperature, ComponentMax: 0.6},
	CapFreeze:        {Total: 70, Component: CompTemperature, ComponentMax: 0.6},
	CapRoomCold:      {Total: 70, Component: CompTemperature, ComponentMax: 0.6},
	CapCameraDown:    {Total: 70, Component: CompCoverage, ComponentMax: 0.6},
	CapGatewaySilent: {Total: 50, Component: NumComponents},
	CapScaldNoData:   {Total: 70, Component: CompTemperature, ComponentMax: 0.6},
	CapFreezeNoData:  {Total: 70, Component: CompTemperature, ComponentMax: 0.6},
	CapRoomNoData:    {Total: 70, Component: CompTemperature, ComponentMax: 0.6},
}

// Result is a computed score.
type Result struct {
	Total float64 // 0–100
	// Parts are the components as measured: Ratio is clamped to 0–1 and 0 when
	// unknown; a cap lowers a component only inside the total, not here, so that
	// the written component stays what the data show.
	Parts [NumComponents]Part
	// Caps are the ids of the caps that apply, sorted; empty when none.
	Caps []string
}

// Capped reports whether a cap applies.
func (r Result) Capped() bool { return len(r.Caps) > 0 }

// Compute assembles the score from the parts:
//
//	total = 100 × Σ wᵢ·cᵢ / Σ wᵢ   over the applicable components i
//
// where cᵢ is the part's value (0 when unknown), lowered to the component maximum
// of any cap that applies (0.6), and the total is lowered to the lowest total cap. Caps not known to the
// package are ignored; with applyCaps false no cap applies and none is listed.
// With no applicable component the total is 0.
func Compute(w Weights, parts [NumComponents]Part, caps []string, applyCaps bool) Result {
	r := Result{}
	for _, id := range caps {
		if _, ok := capRules[id]; ok && !slices.Contains(r.Caps, id) {
			r.Caps = append(r.Caps, id)
		}
	}
	slices.Sort(r.Caps)
	limit := 100.0
	compMax := [NumComponents]float64{1, 1, 1, 1, 1}
	if applyCaps {
		for _, id := range r.Caps {
			rule := capRules[id]
			limit = min(limit, rule.Total)
			if rule.Component < NumComponents {
				compMax[rule.Component] = min(compMax[rule.Component], rule.ComponentMax)
			}
		}
	}
	var sum, wsum float64
	for i, p := range parts {
		r.Parts[i] = Part{Applicable: p.Applicable, Known: p.Known, Ratio: p.Value()}
		if !p.Applicable {
			r.Parts[i].Ratio = 0
			continue
		}
		sum += w[i] * min(p.Value(), compMax[i])
		wsum += w[i]
	}
	if wsum > 0 {
		r.Total = min(100*sum/wsum, limit)
	}
	if !applyCaps {
		r.Caps = nil
	}
	return r
}

// Point returns r as a safety_score point for period ("live" or "day") at t. A
// component that is not applicable is left out; an unknown one is written as 0.
func (r Result) Point(t time.Time, period, weightsVersion string) telemetry.Event {
	fields := []telemetry.Field{telemetry.Float("total", r.Total)}
	for i, p := range r.Parts {
		if p.Applicable {
			fields = append(fields, telemetry.Float(Component(i).String(), p.Ratio))
		}
	}
	fields = append(fields,
		telemetry.String("weights_version", weightsVersion),
		telemetry.String("caps", strings.Join(r.Caps, ",")),
		telemetry.Bool("capped", r.Capped()))
	return telemetry.NewPoint(t, "safety_score", []telemetry.Tag{{Key: "period", Value: period}}, fields...)
}
