package score

import "math"

// Band is the temperature range a zone kind is scored against, with the zone kind's
// weight in the temperature component and the cap a serious reading there triggers.
type Band struct {
	Min, Max float64 // °C, inclusive; ±Inf when open
	// Weight is the zone kind's criticality: a zone's share of the temperature
	// component is proportional to it.
	Weight float64
	// Cap is the cap a serious reading in the zone triggers ("" for none); Serious
	// says which reading is serious.
	Cap     string
	Serious func(c float64) bool
}

// In reports whether c is inside the band.
func (b Band) In(c float64) bool { return c >= b.Min && c <= b.Max }

var inf = math.Inf(1)

// Bands is the table of zone kinds that the temperature component scores, from
// DOMAIN.md §6.1. The band is the range with no warning in either season (a resident
// room is 20–22 °C in the cold season and 23–25 °C in the warm one, so 20–25 °C
// scores). Kinds not listed (bathroom — its band applies only while in use —,
// kitchen, laundry, entrance, outdoor, technical, water-outlet, other) are not
// scored for temperature; their sensors still count for availability.
//
// It is the one table to share with the alert rules.
var Bands = map[string]Band{
	"med-fridge":       {Min: 2, Max: 8, Weight: 3, Cap: CapFreeze, Serious: func(c float64) bool { return c <= 0 }},
	"hot-water":        {Min: -inf, Max: 44, Weight: 3, Cap: CapScald, Serious: func(c float64) bool { return c > 46 }},
	"living":           {Min: 20, Max: 25, Weight: 2, Cap: CapRoomCold, Serious: func(c float64) bool { return c < 16 }},
	"children-bedroom": {Min: 19, Max: 25, Weight: 2, Cap: CapRoomCold, Serious: func(c float64) bool { return c < 16 }},
	"medical":          {Min: 20, Max: 26, Weight: 2},
	"cool-room":        {Min: -inf, Max: 26, Weight: 2},
	"boiler":           {Min: 60, Max: inf, Weight: 2},
	"food-fridge":      {Min: 0, Max: 5, Weight: 2},
	"freezer":          {Min: -inf, Max: -18, Weight: 2},
	"corridor":         {Min: 18, Max: inf, Weight: 1},
	"stairs":           {Min: 16, Max: inf, Weight: 1},
	"activity":         {Min: 18, Max: inf, Weight: 1},
	"dining":           {Min: 18, Max: inf, Weight: 1},
	"play":             {Min: 18, Max: inf, Weight: 1},
	"reception":        {Min: 18, Max: inf, Weight: 1},
	"office":           {Min: 18, Max: inf, Weight: 1},
}
