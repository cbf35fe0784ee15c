package config

import "slices"

// ZoneKind is a kind of place in a centre. The kind decides a zone's defaults
// (temperature band, whether a camera must cover it) in the packages that judge
// zones; this package only knows the names and which kinds are private.
type ZoneKind struct {
	// Name is the value written in a zone's kind, e.g. "med-fridge".
	Name string
	// Description is one line for a technician.
	Description string
	// Private kinds may never be covered by a camera: bathrooms, toilets and
	// changing rooms.
	Private bool
}

// zoneKinds is sorted by Name.
var zoneKinds = []ZoneKind{
	{Name: "activity", Description: "day room, workshop or therapy room used by residents"},
	{Name: "bathroom", Description: "bath or shower room (private: no cameras; air >= 25 °C while in use)", Private: true},
	{Name: "boiler", Description: "boiler or calorifier: hot-water storage, >= 60 °C at the outlet"},
	{Name: "changing", Description: "changing room (private: no cameras)", Private: true},
	{Name: "children-bedroom", Description: "bedroom of children with disabilities, 20–22 °C (19–21 °C at night)"},
	{Name: "cool-room", Description: "designated cool room for heat-alert days, <= 26 °C"},
	{Name: "corridor", Description: "corridor or hall, >= 18 °C; night-round patrol route"},
	{Name: "dining", Description: "dining room; camera coverage required"},
	{Name: "entrance", Description: "main or emergency entrance; camera coverage required"},
	{Name: "food-fridge", Description: "food chiller, 0…+5 °C"},
	{Name: "freezer", Description: "food freezer, <= -18 °C"},
	{Name: "hot-water", Description: "mixed hot-water outlet after the thermostatic valve, <= 44 °C at a bath"},
	{Name: "kitchen", Description: "kitchen or food preparation room"},
	{Name: "laundry", Description: "laundry room"},
	{Name: "living", Description: "residents' bedroom or living room, 20–22 °C in the cold season; camera coverage required"},
	{Name: "med-fridge", Description: "medicine or vaccine refrigerator, +2…+8 °C"},
	{Name: "medical", Description: "medical or treatment room, 20–26 °C; camera coverage required"},
	{Name: "office", Description: "staff office or duty room"},
	{Name: "other", Description: "anything else; no defaults"},
	{Name: "outdoor", Description: "yard, playground or perimeter outside the building"},
	{Name: "play", Description: "playroom or indoor playground; camera coverage required"},
	{Name: "reception", Description: "reception or visitors' hall"},
	{Name: "stairs", Description: "staircase, >= 16 °C"},
	{Name: "technical", Description: "technical or server room, electrical cabinet"},
	{Name: "toilet", Description: "toilet (private: no cameras)", Private: true},
	{Name: "water-outlet", Description: "hot- or cold-water sentinel outlet (Legionella checks)"},
}

// ZoneKinds returns the known zone kinds, sorted by name. The slice is a copy.
func ZoneKinds() []ZoneKind { return slices.Clone(zoneKinds) }

// LookupZoneKind returns the zone kind called name.
func LookupZoneKind(name string) (ZoneKind, bool) {
	i, ok := slices.BinarySearchFunc(zoneKinds, name, func(k ZoneKind, n string) int {
		switch {
		case k.Name < n:
			return -1
		case k.Name > n:
			return 1
		}
		return 0
	})
	if !ok {
		return ZoneKind{}, false
	}
	return zoneKinds[i], true
}

func zoneKindNames() []string {
	names := make([]string, len(zoneKinds))
	for i, k := range zoneKinds {
		names[i] = k.Name
	}
	return names
}
