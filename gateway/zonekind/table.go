package zonekind

import (
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// table is the one table of zone kinds, sorted by name. Sources: DOMAIN.md §6.1
// (temperature), §6.3 (cameras) and §6.4 (score caps). Decisions:
//
//   - The alert limits are the validated values and the only thresholds written
//     here. The band the score counts as in band, the status page colours and the
//     monitor's chart shades are all drawn from them ([Zone.Bands]); no consumer
//     keeps a band of its own.
//   - Resident rooms (living): the cold-season (20–22 °C) and warm-season
//     (23–25 °C) rows of §6.1 are merged into one set of limits: the lower limits
//     of the cold season, the upper limits of both. So the warning band, 20–25 °C,
//     holds the normal band of either season and the limits need no calendar.
//   - Score weights: 3 for the kinds whose failure injures at once (medicine
//     fridge, mixed hot water), 2 for resident and medical rooms and the cold and
//     hot stores, 1 for circulation and day rooms. A kind is scored for
//     temperature only when it has a weight and temperature limits: the bathroom
//     has a limit but no weight (its band applies only while in use, which a
//     sensor cannot tell); dining, play, reception and office have no alert
//     limits and so are not scored (the score's old private table scored them at
//     ≥ 18 °C, which no alert backed). The food chiller scores ≤ 5 °C, its warning
//     limit (the old table said 0…5 °C, but no alert fires below 0 °C).
//   - Caps: the serious reading of a cap is the critical limit it mirrors (scald
//     above 46 °C, freeze at or below 0 °C) or the §6.4 rule (a resident room
//     below 16 °C for 30 min, cumulative). A zone's own limits do not move a cap.
//   - Stairs warn below 16 °C (GB 50340), not 18 °C like corridors.
//   - Coverage: the required kinds are the ministry's 100 % recommendation (living
//     rooms, medical care, dining, playgrounds) plus the corridors, entrances and
//     perimeter (outdoor: yard, playground, perimeter) of the 2018 rules; private
//     kinds are prohibited and no config can change that; the rest are optional.
var table = []Kind{
	{
		Name: "activity", Description: "day room, workshop or therapy room used by residents",
		Names:    Names{"досуг", "демалыс", "activity"},
		Coverage: Optional,
		Normal:   allYear(18, inf),
		Limits:   resident(tl(below, 18, 60*mn, W), tl(below, 16, 60*mn, C)),
		Weight:   1,
	},
	{
		Name: "bathroom", Description: "bath or shower room (private: no cameras; air >= 25 °C while in use)",
		Names:   Names{"ванная", "жуынатын бөлме", "bathroom"},
		Private: true, Coverage: Prohibited,
		Normal: allYear(25, inf),
		Limits: []Limit{tl(below, 23, 30*mn, W)},
	},
	{
		Name: "boiler", Description: "boiler or calorifier: hot-water storage, >= 60 °C at the outlet",
		Names:    Names{"бойлер", "бойлер", "boiler"},
		Coverage: Optional,
		Normal:   allYear(60, inf),
		Limits:   []Limit{tl(below, 60, 60*mn, W), tl(below, 55, 120*mn, C)},
		Weight:   2,
	},
	{
		Name: "changing", Description: "changing room (private: no cameras)",
		Names:   Names{"раздевалка", "киім ауыстыратын бөлме", "changing room"},
		Private: true, Coverage: Prohibited,
	},
	{
		Name: "children-bedroom", Description: "bedroom of children with disabilities, 20–22 °C (19–21 °C at night)",
		Names:    Names{"детская спальня", "балалар жатын бөлмесі", "children's bedroom"},
		Coverage: Optional,
		Normal:   allYear(20, 22),
		Limits: resident(
			tl(below, 19, 60*mn, W), tl(above, 25, 60*mn, W),
			tl(below, 18, 30*mn, C), tl(above, 26, 120*mn, C),
		),
		Weight: 2,
		Cap:    roomCold,
	},
	{
		Name: "cool-room", Description: "designated cool room for heat-alert days, <= 26 °C",
		Names:    Names{"прохладная комната", "салқын бөлме", "cool room"},
		Coverage: Optional,
		Normal:   allYear(-inf, 26),
		Limits:   []Limit{tl(above, 26, 30*mn, W), tl(above, 26, 120*mn, C)},
		Weight:   2,
	},
	{
		Name: "corridor", Description: "corridor or hall, >= 18 °C; night-round patrol route",
		Names:    Names{"коридор", "дәліз", "corridor"},
		Coverage: Required,
		Normal:   allYear(18, inf),
		Limits:   []Limit{tl(below, 18, 60*mn, W), tl(below, 16, 60*mn, C)},
		Weight:   1,
	},
	{
		Name: "dining", Description: "dining room; camera coverage required",
		Names:    Names{"столовая", "асхана", "dining"},
		Coverage: Required,
	},
	{
		Name: "entrance", Description: "main or emergency entrance; camera coverage required",
		Names:    Names{"вход", "кіреберіс", "entrance"},
		Coverage: Required,
	},
	{
		Name: "food-fridge", Description: "food chiller, 0…+5 °C",
		Names:    Names{"холодильник для продуктов", "азық-түлік тоңазытқышы", "food fridge"},
		Coverage: Optional,
		Normal:   allYear(0, 5),
		Limits:   []Limit{tl(above, 5, 30*mn, W), tl(above, 8, 60*mn, C)},
		Weight:   2,
	},
	{
		Name: "freezer", Description: "food freezer, <= -18 °C",
		Names:    Names{"морозильник", "мұздатқыш", "freezer"},
		Coverage: Optional,
		Normal:   allYear(-inf, -18),
		Limits:   []Limit{tl(above, -18, 60*mn, W), tl(above, -12, 120*mn, C)},
		Weight:   2,
	},
	{
		Name: "hot-water", Description: "mixed hot-water outlet after the thermostatic valve, <= 44 °C at a bath",
		Names:    Names{"горячая вода", "ыстық су", "hot water"},
		Coverage: Optional,
		Normal:   allYear(-inf, 44),
		Limits:   []Limit{tl(above, 44, 30*time.Second, W), tl(above, 46, 0, C)},
		Weight:   3,
		Cap:      Cap{ID: "scald", Serious: tl(above, 46, 0, C)},
	},
	{
		Name: "kitchen", Description: "kitchen or food preparation room",
		Names:    Names{"кухня", "ас үй", "kitchen"},
		Coverage: Optional,
	},
	{
		Name: "laundry", Description: "laundry room",
		Names:    Names{"прачечная", "кір жуатын орын", "laundry"},
		Coverage: Optional,
	},
	{
		Name: "living", Description: "residents' bedroom or living room, 20–22 °C in the cold season; camera coverage required",
		Names:    Names{"жилая комната", "тұрғын бөлме", "living room"},
		Coverage: Required,
		Normal:   []SeasonBand{{Cold, Band{20, 22}}, {Warm, Band{23, 25}}},
		Limits: resident(
			tl(below, 20, 60*mn, W), tl(above, 25, 60*mn, W),
			tl(below, 18, 30*mn, C), tl(above, 26, 120*mn, C), tl(above, 28, 30*mn, C),
		),
		Weight: 2,
		Cap:    roomCold,
	},
	{
		Name: "med-fridge", Description: "medicine or vaccine refrigerator, +2…+8 °C",
		Names:    Names{"холодильник для лекарств", "дәрі тоңазытқышы", "medicine fridge"},
		Coverage: Optional,
		Normal:   allYear(2, 8),
		Limits: []Limit{
			tl(above, 8, 15*mn, W), tl(below, 2, 5*mn, W),
			tl(above, 8, 60*mn, C), tl(above, 12, 0, C),
			freeze,
		},
		Weight: 3,
		Cap:    Cap{ID: "med_fridge_freeze", Serious: freeze},
	},
	{
		Name: "medical", Description: "medical or treatment room, 20–26 °C; camera coverage required",
		Names:    Names{"медицинский кабинет", "медициналық кабинет", "medical room"},
		Coverage: Required,
		Normal:   allYear(20, 26),
		Limits: resident(
			tl(below, 20, 60*mn, W), tl(above, 26, 60*mn, W),
			tl(below, 18, 60*mn, C), tl(above, 28, 60*mn, C),
		),
		Weight: 2,
	},
	{
		Name: "office", Description: "staff office or duty room",
		Names:    Names{"кабинет", "кеңсе", "office"},
		Coverage: Optional,
	},
	{
		Name: "other", Description: "anything else; no defaults",
		Names:    Names{"другое", "басқа", "other"},
		Coverage: Optional,
	},
	{
		Name: "outdoor", Description: "yard, playground or perimeter outside the building",
		Names:    Names{"территория", "аумақ", "outdoors"},
		Coverage: Required,
	},
	{
		Name: "play", Description: "playroom or indoor playground; camera coverage required",
		Names:    Names{"игровая", "ойын бөлмесі", "play room"},
		Coverage: Required,
	},
	{
		Name: "reception", Description: "reception or visitors' hall",
		Names:    Names{"приёмная", "қабылдау бөлмесі", "reception"},
		Coverage: Optional,
	},
	{
		Name: "stairs", Description: "staircase, >= 16 °C",
		Names:    Names{"лестница", "баспалдақ", "stairs"},
		Coverage: Optional,
		Normal:   allYear(16, inf),
		Limits:   []Limit{tl(below, 16, 60*mn, W)},
		Weight:   1,
	},
	{
		Name: "technical", Description: "technical or server room, electrical cabinet",
		Names:    Names{"техническое помещение", "техникалық бөлме", "technical room"},
		Coverage: Optional,
	},
	{
		Name: "toilet", Description: "toilet (private: no cameras)",
		Names:   Names{"туалет", "дәретхана", "toilet"},
		Private: true, Coverage: Prohibited,
	},
	{
		Name: "water-outlet", Description: "hot- or cold-water sentinel outlet (Legionella checks)",
		Names:    Names{"водоразбор", "су шүмегі", "water outlet"},
		Coverage: Optional,
	},
}

// Shorthands for the table.
const (
	above = true
	below = false
	W     = telemetry.Warning
	C     = telemetry.Critical
	mn    = time.Minute
)

func tl(above bool, v float64, hold time.Duration, sev telemetry.Severity) Limit {
	return Limit{Metric: telemetry.Temperature, Above: above, Value: v, Hold: hold, Severity: sev}
}

func hl(above bool, v float64, hold time.Duration) Limit {
	return Limit{Metric: telemetry.Humidity, Above: above, Value: v, Hold: hold, Severity: telemetry.Warning}
}

func allYear(lo, hi float64) []SeasonBand { return []SeasonBand{{AllYear, Band{lo, hi}}} }

// resident adds the advisory humidity band of zones where people live to the
// temperature limits: a warning only, after a day outside 25–65 %.
func resident(temp ...Limit) []Limit {
	return append(temp, hl(below, 25, 24*time.Hour), hl(above, 65, 24*time.Hour))
}

// freeze is a medicine fridge at or below 0 °C: critical at once.
var freeze = Limit{Metric: telemetry.Temperature, OrEqual: true, Value: 0, Severity: C, Kind: KindFreeze}

// roomCold is the cap of a resident room below 16 °C for 30 min in the period.
var roomCold = Cap{ID: "room_below_16", Serious: tl(below, 16, 30*mn, C)}
