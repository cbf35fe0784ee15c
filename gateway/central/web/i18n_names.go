package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/zonekind"
)

// ConditionKinds are the condition kinds the pages name.
var ConditionKinds = []string{"temperature_high", "temperature_low", "temperature_freeze", "temperature_cumulative",
	"humidity_high", "humidity_low", "sensor_stale", "device_offline", "battery_low", "probe_error", "implausible",
	"gateway_spool", "gateway_uplink", "gateway_clock", "gateway_mqtt",
	"camera_offline", "camera_tampered", "coverage_gap", "round_missed", "round_state_lost", "unknown_badge"}

// nameMessages are the names of ids the pages show — condition kinds, severities,
// alert states, score caps, time units — merged into messages as "kind.<id>",
// "sev.<id>", "state.<id>", "cap.<id>" (kept apart so that they stay together; the
// gateway's status page names the same ids in gateway/status/i18n.go).
var nameMessages = map[string]map[string]string{
	"en": {
		"ago":    "%s ago",
		"unit.s": "s", "unit.m": "min", "unit.h": "h", "unit.d": "d",
		"n/a": "n/a",

		"kind.temperature_high":       "temperature too high",
		"kind.temperature_low":        "temperature too low",
		"kind.temperature_freeze":     "freezing (≤ 0 °C)",
		"kind.temperature_cumulative": "over 60 min out of range in 24 h",
		"kind.humidity_high":          "humidity too high",
		"kind.humidity_low":           "humidity too low",
		"kind.sensor_stale":           "sensor silent",
		"kind.device_offline":         "device offline",
		"kind.battery_low":            "battery low",
		"kind.probe_error":            "probe error",
		"kind.implausible":            "implausible readings",
		"kind.gateway_spool":          "the gateway's spool is filling",
		"kind.gateway_uplink":         "no uplink to the server",
		"kind.gateway_clock":          "the gateway's clock is not synchronised",
		"kind.gateway_mqtt":           "MQTT broker unreachable",
		"kind.camera_offline":         "camera down",
		"kind.camera_tampered":        "camera tampered with",
		"kind.coverage_gap":           "zone not watched by a camera",
		"kind.round_missed":           "night round missed",
		"kind.round_state_lost":       "night-round state lost",
		"kind.unknown_badge":          "unknown badge",

		"sev.warning": "warning", "sev.critical": "critical",
		"state.firing": "firing", "state.acknowledged": "acknowledged", "state.resolved": "resolved",

		"cap.scald":              "hot water above 46 °C",
		"cap.med_fridge_freeze":  "medicine fridge at or below 0 °C",
		"cap.room_below_16":      "a resident room below 16 °C",
		"cap.camera_down_24h":    "a camera down for over 24 h",
		"cap.gateway_silent_24h": "the gateway silent for over 24 h",
		"cap.scald_no_data":      "no data from a hot-water outlet for 60 min",
		"cap.med_fridge_no_data": "no data from the medicine fridge for 60 min",
		"cap.room_no_data":       "no data from a resident room for 60 min",
	},
	"ru": {
		"ago":    "%s назад",
		"unit.s": "с", "unit.m": "мин", "unit.h": "ч", "unit.d": "д",
		"n/a": "—",

		"kind.temperature_high":       "температура выше нормы",
		"kind.temperature_low":        "температура ниже нормы",
		"kind.temperature_freeze":     "заморозка (≤ 0 °C)",
		"kind.temperature_cumulative": "более 60 мин вне нормы за сутки",
		"kind.humidity_high":          "влажность выше нормы",
		"kind.humidity_low":           "влажность ниже нормы",
		"kind.sensor_stale":           "датчик молчит",
		"kind.device_offline":         "устройство не в сети",
		"kind.battery_low":            "батарея разряжена",
		"kind.probe_error":            "ошибка датчика",
		"kind.implausible":            "неправдоподобные показания",
		"kind.gateway_spool":          "очередь шлюза заполняется",
		"kind.gateway_uplink":         "нет связи с сервером",
		"kind.gateway_clock":          "часы шлюза не синхронизированы",
		"kind.gateway_mqtt":           "нет связи с MQTT-брокером",
		"kind.camera_offline":         "камера не работает",
		"kind.camera_tampered":        "камеру закрыли или сдвинули",
		"kind.coverage_gap":           "зона без видеонаблюдения",
		"kind.round_missed":           "пропущен ночной обход",
		"kind.round_state_lost":       "состояние обходов утеряно",
		"kind.unknown_badge":          "неизвестная метка",

		"sev.warning": "предупреждение", "sev.critical": "критично",
		"state.firing": "активна", "state.acknowledged": "подтверждена", "state.resolved": "устранена",

		"cap.scald":              "горячая вода выше 46 °C",
		"cap.med_fridge_freeze":  "лекарства замерзали (≤ 0 °C)",
		"cap.room_below_16":      "жилая комната ниже 16 °C",
		"cap.camera_down_24h":    "камера не работает более 24 ч",
		"cap.gateway_silent_24h": "шлюз молчал более 24 ч",
		"cap.scald_no_data":      "нет данных от точки горячей воды 60 мин",
		"cap.med_fridge_no_data": "нет данных от холодильника с лекарствами 60 мин",
		"cap.room_no_data":       "нет данных из жилой комнаты 60 мин",
	},
	"kk": {
		"ago":    "%s бұрын",
		"unit.s": "с", "unit.m": "мин", "unit.h": "сағ", "unit.d": "күн",
		"n/a": "—",

		"kind.temperature_high":       "температура нормадан жоғары",
		"kind.temperature_low":        "температура нормадан төмен",
		"kind.temperature_freeze":     "қату (≤ 0 °C)",
		"kind.temperature_cumulative": "тәулігіне 60 минуттан артық нормадан тыс",
		"kind.humidity_high":          "ылғалдылық нормадан жоғары",
		"kind.humidity_low":           "ылғалдылық нормадан төмен",
		"kind.sensor_stale":           "датчик үнсіз",
		"kind.device_offline":         "құрылғы желіден тыс",
		"kind.battery_low":            "батарея заряды аз",
		"kind.probe_error":            "датчик қатесі",
		"kind.implausible":            "күмәнді көрсеткіштер",
		"kind.gateway_spool":          "шлюз кезегі толып барады",
		"kind.gateway_uplink":         "сервермен байланыс жоқ",
		"kind.gateway_clock":          "шлюз сағаты синхрондалмаған",
		"kind.gateway_mqtt":           "MQTT брокерімен байланыс жоқ",
		"kind.camera_offline":         "камера жұмыс істемейді",
		"kind.camera_tampered":        "камераны жапқан не бұрған",
		"kind.coverage_gap":           "бейнебақылаусыз аймақ",
		"kind.round_missed":           "түнгі аралау өткізіп алынды",
		"kind.round_state_lost":       "аралаулар күйі жоғалды",
		"kind.unknown_badge":          "белгісіз белгі",

		"sev.warning": "ескерту", "sev.critical": "сыни",
		"state.firing": "белсенді", "state.acknowledged": "қабылданды", "state.resolved": "шешілді",

		"cap.scald":              "ыстық су 46 °C-тан жоғары",
		"cap.med_fridge_freeze":  "дәрілер тоңып қалды (≤ 0 °C)",
		"cap.room_below_16":      "тұрғын бөлме 16 °C-тан төмен",
		"cap.camera_down_24h":    "камера 24 сағаттан астам жұмыс істемейді",
		"cap.gateway_silent_24h": "шлюз 24 сағаттан астам үнсіз",
		"cap.scald_no_data":      "ыстық су нүктесінен 60 мин дерек жоқ",
		"cap.med_fridge_no_data": "дәрі тоңазытқышынан 60 мин дерек жоқ",
		"cap.room_no_data":       "тұрғын бөлмеден 60 мин дерек жоқ",
	},
}

// named returns the message prefix+id in lang, or id itself when none names it
// (an id from a newer gateway).
func named(lang, prefix, id string) string {
	if _, ok := messages["en"][prefix+id]; !ok {
		return id
	}
	return tr(lang, prefix+id)
}

// Kind names a condition kind in the page's language.
func (p page) Kind(id string) string { return named(p.Lang, "kind.", id) }

// Sev names a severity in the page's language.
func (p page) Sev(id string) string { return named(p.Lang, "sev.", id) }

// State names an alert state in the page's language.
func (p page) State(id string) string { return named(p.Lang, "state.", id) }

// ZoneKind names a zone kind in the page's language (zonekind.Names).
func (p page) ZoneKind(id string) string { return zoneKindName(p.Lang, id) }

func zoneKindName(lang, id string) string {
	if k, ok := zonekind.Lookup(id); ok {
		return k.Names.In(lang)
	}
	return id
}

// Caps names a score's caps (as written: ids joined by commas) in the page's language.
func (p page) Caps(ids string) string {
	var out []string
	for _, id := range strings.Split(ids, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, named(p.Lang, "cap.", id))
		}
	}
	return strings.Join(out, ", ")
}

// Reason says why a centre needs attention in the page's language.
func (p page) Reason(r store.Reason) string {
	arg := r.Arg
	switch r.Key {
	case "reason.capped":
		arg = p.Caps(arg)
	case "reason.silent":
		// Written in UTC (kept reports too): shown in the page's zone, named.
		if t, err := time.Parse("2006-01-02 15:04 UTC", arg); err == nil {
			loc := p.Loc(nil)
			arg = t.In(loc).Format("2006-01-02 15:04") + " " + ZoneLabel(loc, t)
		}
	}
	return tr(p.Lang, r.Key, arg)
}

// Dur says d the short way in the page's language: "45 с", "13 мин", "3 ч 05 мин", "4 д".
func (p page) Dur(d time.Duration) string { return fmtDurIn(p.Lang, d) }

// Ago says how long before now t was, in the page's language: "13 мин назад".
func (p page) Ago(now, t time.Time) string { return tr(p.Lang, "ago", fmtDurIn(p.Lang, now.Sub(t))) }

func fmtDurIn(lang string, d time.Duration) string {
	u := func(k string) string { return tr(lang, "unit."+k) }
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d %s", max(int(d.Seconds()), 0), u("s"))
	case d < time.Hour:
		return fmt.Sprintf("%d %s", int(d.Minutes()), u("m"))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d %s %02d %s", int(d.Hours()), u("h"), int(d.Minutes())%60, u("m"))
	}
	return fmt.Sprintf("%d %s", int(d.Hours()/24), u("d"))
}
