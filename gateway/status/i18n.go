package status

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/zonekind"
)

// Languages the page speaks, in the order of the switch.
var languages = []string{"ru", "kk", "en"}

// DefaultLang is the language when neither the cookie nor the browser names one
// the page speaks.
const DefaultLang = "ru"

// langNames are each language's name in itself, for the switch.
var langNames = map[string]string{"ru": "Русский", "kk": "Қазақша", "en": "English"}

// messages is every UI string: key -> ru, kk, en. Values with %s or %d are
// formats. TestTranslationsComplete checks that every key has all three.
var messages = map[string][3]string{
	"title":                   {"Состояние", "Күйі", "Status"},
	"open_warning":            {"Пароль не задан: эту страницу может открыть любой в этой сети. Укажите status.password_file в конфигурации.", "Құпиясөз орнатылмаған: бұл бетті осы желідегі кез келген адам аша алады. Конфигурацияда status.password_file көрсетіңіз.", "No password is set: anyone on this network can open this page. Set status.password_file in the config."},
	"login_title":             {"Вход", "Кіру", "Sign in"},
	"password":                {"Пароль", "Құпиясөз", "Password"},
	"sign_in":                 {"Войти", "Кіру", "Sign in"},
	"sign_out":                {"Выйти", "Шығу", "Sign out"},
	"wrong_password":          {"Неверный пароль.", "Құпиясөз қате.", "Wrong password."},
	"too_many":                {"Слишком много попыток. Подождите минуту.", "Тым көп әрекет. Бір минут күтіңіз.", "Too many attempts. Wait a minute."},
	"bad_csrf":                {"Форма устарела. Обновите страницу и повторите.", "Форманың мерзімі өтті. Бетті жаңартып, қайталаңыз.", "The form has expired. Reload the page and try again."},
	"unknown_alert":           {"Такой тревоги нет (возможно, она уже снята).", "Мұндай дабыл жоқ (мүмкін, ол шешілген).", "No such alert (it may have been resolved)."},
	"no_acker":                {"Оповещения на этом шлюзе не включены.", "Бұл шлюзде хабарландырулар қосылмаған.", "Alerting is not enabled on this gateway."},
	"ack_failed":              {"Не удалось подтвердить тревогу: %s", "Дабылды растау мүмкін болмады: %s", "Could not acknowledge the alert: %s"},
	"back":                    {"Назад", "Артқа", "Back"},
	"mqtt":                    {"MQTT", "MQTT", "MQTT"},
	"influx":                  {"InfluxDB", "InfluxDB", "InfluxDB"},
	"clock":                   {"Часы", "Сағат", "Clock"},
	"connected":               {"подключено", "қосылған", "connected"},
	"disconnected":            {"нет связи", "байланыс жоқ", "disconnected"},
	"ok":                      {"в норме", "қалыпты", "OK"},
	"failing":                 {"ошибка записи", "жазу қатесі", "failing"},
	"spool_only":              {"только на диске", "тек дискіде", "spool only"},
	"synced":                  {"сверены", "дәл", "synchronised"},
	"not_synced":              {"не сверены", "дәл емес", "not synchronised"},
	"backlog":                 {"Ждут отправки", "Жіберуді күтуде", "Waiting to send"},
	"readings":                {"показаний", "көрсеткіш", "readings"},
	"oldest":                  {"самое старое %s", "ең ескісі %s", "oldest %s"},
	"dropped":                 {"Потеряно (буфер полон)", "Жоғалды (буфер толы)", "Dropped (spool full)"},
	"lost":                    {"Потеряно (файлы буфера повреждены или удалены)", "Жоғалды (буфер файлдары бүлінген немесе жоқ)", "Lost (spool files damaged or missing)"},
	"mqtt_problem":            {"MQTT: данные не поступают", "MQTT: деректер келмейді", "MQTT: readings are not arriving"},
	"spool_failing":           {"Буфер не может записывать", "Буфер жаза алмайды", "Spool cannot store readings"},
	"uptime":                  {"Работает", "Жұмыс уақыты", "Up"},
	"received":                {"Получено", "Қабылданды", "Received"},
	"rejected":                {"Отклонено", "Қабылданбады", "Rejected"},
	"written":                 {"Записано", "Жазылды", "Written"},
	"zones":                   {"Зоны", "Аймақтар", "Zones"},
	"no_zones":                {"Датчики не настроены.", "Датчиктер бапталмаған.", "No sensors configured."},
	"no_sensor":               {"нет датчика", "датчик жоқ", "no sensor"},
	"never":                   {"данных не было", "дерек болмады", "never reported"},
	"ago":                     {"%s назад", "%s бұрын", "%s ago"},
	"silent":                  {"молчит", "үнсіз", "silent"},
	"humidity":                {"влажность", "ылғалдылық", "humidity"},
	"battery":                 {"батарея", "батарея", "battery"},
	"device_offline":          {"устройство не в сети", "құрылғы желіден тыс", "device offline"},
	"conditions":              {"Открытые нарушения", "Ашық бұзушылықтар", "Open conditions"},
	"since":                   {"с %s", "%s бастап", "since %s"},
	"alerts":                  {"Тревоги", "Дабылдар", "Alerts"},
	"ack":                     {"Подтвердить", "Растау", "Acknowledge"},
	"acked_by":                {"подтвердил(а) %s", "растаған: %s", "acknowledged by %s"},
	"warning":                 {"предупреждение", "ескерту", "warning"},
	"critical":                {"критично", "сыни", "critical"},
	"firing":                  {"активна", "белсенді", "firing"},
	"acknowledged":            {"подтверждена", "расталды", "acknowledged"},
	"resolved":                {"снята", "шешілді", "resolved"},
	"cameras":                 {"Камеры", "Камералар", "Cameras"},
	"healthy":                 {"работает", "жұмыс істейді", "working"},
	"degraded":                {"с перебоями", "іркіліспен", "degraded"},
	"offline":                 {"не в сети", "желіден тыс", "offline"},
	"unknown":                 {"неизвестно", "белгісіз", "unknown"},
	"coverage":                {"Покрытие камерами", "Камерамен қамту", "Camera coverage"},
	"now":                     {"сейчас", "қазір", "now"},
	"today":                   {"сегодня", "бүгін", "today"},
	"covered_of":              {"%d из %d зон", "%d/%d аймақ", "%d of %d zones"},
	"rounds":                  {"Ночные обходы сегодня", "Бүгінгі түнгі аралаулар", "Night rounds tonight"},
	"due":                     {"положено", "тиіс", "due"},
	"done":                    {"выполнено", "орындалды", "done"},
	"missed":                  {"пропущено", "орындалмады", "missed"},
	"next_at":                 {"следующий в %s", "келесісі %s", "next at %s"},
	"score":                   {"Индекс безопасности", "Қауіпсіздік индексі", "Safety score"},
	"score_live":              {"за 24 ч", "соңғы 24 сағ", "last 24 h"},
	"score_today":             {"сегодня %s", "бүгін %s", "today %s"},
	"score_caps":              {"ограничен: %s", "шектелген: %s", "capped: %s"},
	"score_unknown":           {"нет данных — считается как 0", "дерек жоқ — 0 ретінде саналады", "no data — counts as 0"},
	"score_temperature":       {"температура", "температура", "temperature"},
	"score_availability":      {"данные", "деректер", "data received"},
	"score_coverage":          {"видеопокрытие", "бейнеқамту", "camera coverage"},
	"score_rounds":            {"обходы", "аралаулар", "night rounds"},
	"score_response":          {"реакция на тревоги", "дабылға жауап", "alert response"},
	"updated":                 {"Обновлено %s", "Жаңартылды %s", "Updated %s"},
	"language":                {"Язык", "Тіл", "Language"},
	"machine":                 {"Для машин", "Машиналар үшін", "For machines"},
	"unauthorized":            {"Нужно войти.", "Кіру қажет.", "Sign-in required."},
	"login_required":          {"Войдите, чтобы увидеть состояние центра.", "Орталықтың күйін көру үшін кіріңіз.", "Sign in to see the centre's status."},
	"unit_s":                  {"с", "с", "s"},
	"unit_m":                  {"мин", "мин", "m"},
	"unit_h":                  {"ч", "сағ", "h"},
	"unit_d":                  {"д", "күн", "d"},
	"temperature_band":        {"норма %s", "норма %s", "normal %s"},
	"registry":                {"Реестр министерства", "Министрлік тізілімі", "Ministry registry"},
	"registry_version":        {"реестр v%d", "тізілім v%d", "registry v%d"},
	"registry_unrated":        {"без рейтинга", "рейтингсіз", "unrated"},
	"registry_unrated_detail": {"индекс этого центра не входит в рейтинг (нет пакета реестра)", "бұл орталықтың индексі рейтингке кірмейді (тізілім пакеті жоқ)", "this centre's score is not rated (no registry bundle)"},
	"registry_overridden":     {"%d местных настроек ослабляют реестр: действуют значения реестра", "%d жергілікті баптау тізілімді әлсіретеді: тізілім мәндері қолданылады", "%d local setting(s) weaken the registry: its values apply"},
	"registry_pending":        {"v%d установлен, действует после перезапуска", "v%d орнатылды, қайта іске қосқаннан кейін күшіне енеді", "v%d installed, takes effect at the next restart"},
	"camera_blind":            {"не видит зону: %s", "аймақты көрмейді: %s", "does not see its zone: %s"},
	"history_title":           {"Температура за 24 часа", "24 сағаттағы температура", "Temperature over 24 h"},
	"history_none":            {"за 24 ч данных нет", "24 сағатта дерек жоқ", "no readings in 24 h"},
	"history_range":           {"24 ч: %.1f…%.1f °C", "24 сағ: %.1f…%.1f °C", "24 h: %.1f…%.1f °C"},
	"history_out":             {"вне нормы %s, последний раз в %s (%s)", "нормадан тыс %s, соңғы рет %s (%s)", "out of band %s, last at %s (%s)"},
	"history_ago":             {"24 ч назад", "24 сағ бұрын", "24 h ago"},
	"raw_last":                {"последнее сообщение", "соңғы хабарлама", "last message"},
	"raw_bytes":               {"%d байт, получено %s", "%d байт, алынды %s", "%d bytes, received %s"},
	"implausible_title":       {"Недостоверные датчики", "Сенімсіз датчиктер", "Implausible sensors"},
	"implausible_note":        {"Показания этих датчиков не меняются так, как в зоне такого типа; они не повышают оценку безопасности.", "Бұл датчиктердің көрсеткіштері осы түрдегі аймақтағыдай өзгермейді; олар қауіпсіздік бағасын көтермейді.", "These sensors' readings do not vary the way their zone kind's do; they do not raise the safety score."},
}

// tr is one language's translator.
type tr struct{ lang string }

func (t tr) idx() int {
	for i, l := range languages {
		if l == t.lang {
			return i
		}
	}
	return 0
}

// T returns the string for key, formatted with args when given. An unknown key
// comes back as itself (and fails the tests).
func (t tr) T(key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m[t.idx()]
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// supported reports whether the page speaks lang.
func supported(lang string) bool {
	for _, l := range languages {
		if l == lang {
			return true
		}
	}
	return false
}

const langCookie = "saqshy_lang"

// pickLang chooses the language: the cookie set by the switch, else the best of
// the browser's Accept-Language, else DefaultLang.
func pickLang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && supported(c.Value) {
		return c.Value
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// fromAcceptLanguage returns the supported language the header prefers most
// ("kk-KZ,kk;q=0.9,ru;q=0.8" -> kk), or DefaultLang.
func fromAcceptLanguage(h string) string {
	type cand struct {
		lang string
		q    float64
		pos  int
	}
	var cs []cand
	for i, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if supported(base) && q > 0 {
			cs = append(cs, cand{base, q, i})
		}
	}
	if len(cs) == 0 {
		return DefaultLang
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	return cs[0].lang
}

// names are the safety score's caps and other ids as people call them, in the order
// of languages; an id not listed is shown as it is. Zone kinds are named by the
// zone-kind table (zonekind.Names).
var names = map[string][3]string{
	"all": {"все зоны", "барлық аймақтар", "all zones"},

	// Condition kinds.
	"probe_error":            {"ошибка датчика", "датчик қатесі", "probe error"},
	"temperature_high":       {"температура выше нормы", "температура нормадан жоғары", "temperature too high"},
	"temperature_low":        {"температура ниже нормы", "температура нормадан төмен", "temperature too low"},
	"temperature_freeze":     {"заморозка (≤ 0 °C)", "қату (≤ 0 °C)", "freezing (≤ 0 °C)"},
	"temperature_cumulative": {"более 60 мин вне нормы за сутки", "тәулігіне 60 минуттан артық нормадан тыс", "over 60 min out of range in 24 h"},
	"humidity_high":          {"влажность выше нормы", "ылғалдылық нормадан жоғары", "humidity too high"},
	"humidity_low":           {"влажность ниже нормы", "ылғалдылық нормадан төмен", "humidity too low"},
	"sensor_stale":           {"датчик молчит", "датчик үнсіз", "sensor silent"},
	"device_offline":         {"устройство не в сети", "құрылғы желіден тыс", "device offline"},
	"battery_low":            {"батарея разряжена", "батарея заряды аз", "battery low"},
	"gateway_spool":          {"очередь шлюза заполняется", "шлюз кезегі толып барады", "the gateway's spool is filling"},
	"gateway_uplink":         {"нет связи с сервером", "сервермен байланыс жоқ", "no uplink to the server"},
	"gateway_clock":          {"часы шлюза не синхронизированы", "шлюз сағаты синхрондалмаған", "the gateway's clock is not synchronised"},
	"gateway_mqtt":           {"нет связи с MQTT-брокером", "MQTT брокерімен байланыс жоқ", "MQTT broker unreachable"},
	"coverage_gap":           {"зона без видеонаблюдения", "бейнебақылаусыз аймақ", "zone not watched by a camera"},
	"camera_offline":         {"камера не работает", "камера жұмыс істемейді", "camera down"},
	"round_missed":           {"пропущен ночной обход", "түнгі аралау өткізіп алынды", "night round missed"},
	"round_state_lost":       {"состояние обходов утеряно", "аралаулар күйі жоғалды", "night-round state lost"},
	"implausible":            {"неправдоподобные показания", "күмәнді көрсеткіштер", "implausible readings"},
	"camera_tampered":        {"камеру закрыли или сдвинули", "камераны жапқан не бұрған", "camera tampered with"},
	"camera_down":            {"камера не работает", "камера жұмыс істемейді", "camera down"},
	"unknown_badge":          {"неизвестная метка", "белгісіз белгі", "unknown badge"},
	// Subjects that are not ids people configured.
	"gateway": {"шлюз", "шлюз", "gateway"},
	"rounds":  {"ночные обходы", "түнгі аралаулар", "night rounds"},
	// Failed reads of a wired probe (localsensor.Reason).
	"crc":                  {"ошибка контрольной суммы", "бақылау сомасының қатесі", "checksum mismatch"},
	"power_on_value":       {"датчик перезапустился (85 °C)", "датчик қайта қосылды (85 °C)", "probe restarted (85 °C)"},
	"disconnected":         {"датчик не отвечает", "датчик жауап бермейді", "probe not answering"},
	"wrong_chip":           {"не тот датчик", "басқа датчик", "unexpected chip"},
	"bus_error":            {"ошибка шины", "шина қатесі", "bus error"},
	"bad_data":             {"неверные данные", "қате деректер", "invalid data"},
	"read_error":           {"ошибка чтения", "оқу қатесі", "read error"},
	"no_compressor_cycles": {"нет циклов компрессора", "компрессор циклдары жоқ", "no compressor cycles"},
	"flat":                 {"показания неподвижны весь день", "көрсеткіштер күні бойы өзгермейді", "flat all day"},
	"tracks_other_sensor":  {"повторяет другой датчик", "басқа датчикті қайталайды", "tracks another sensor"},
	// Camera reasons.
	"no_report":           {"нет данных", "дерек жоқ", "no report yet"},
	"stale":               {"данные устарели", "деректер ескірген", "reports stopped"},
	"nvr_silent":          {"видеорегистратор молчит", "бейнетіркегіш үнсіз", "the NVR stopped reporting"},
	"nvr_offline":         {"видеорегистратор не в сети", "бейнетіркегіш желіден тыс", "the NVR is offline"},
	"not_in_stats":        {"нет в отчёте регистратора", "тіркегіш есебінде жоқ", "missing from the NVR's report"},
	"no_frames":           {"нет кадров", "кадр жоқ", "no frames"},
	"disabled":            {"отключена", "өшірілген", "disabled"},
	"detect_offline":      {"детекция не работает", "анықтау жұмыс істемейді", "detection offline"},
	"connection_unusable": {"связь с камерой потеряна", "камерамен байланыс үзілді", "connection unusable"},
	"recording_off":       {"запись выключена", "жазба өшірулі", "recording off"},
	"recording_failing":   {"запись не идёт", "жазба жүрмей тұр", "recording failing"},
	"low_fps":             {"мало кадров в секунду", "секундына кадр аз", "low frame rate"},
	"connection_poor":     {"плохая связь", "байланыс нашар", "poor connection"},
	"storage_low":         {"мало места для записи", "жазбаға орын аз", "recording storage low"},
	"reported":            {"по данным источника", "дереккөз бойынша", "as reported"},
	"view_dark":           {"затемнена", "қараңғыланған", "blacked out"},
	"view_covered":        {"закрыта", "жабылған", "covered"},
	"view_frozen":         {"изображение застыло", "сурет қатып қалған", "frozen picture"},
	"view_turned_away":    {"отвёрнута", "бұрылған", "turned away"},

	"scald":              {"горячая вода выше 46 °C", "ыстық су 46 °C-тан жоғары", "hot water above 46 °C"},
	"med_fridge_freeze":  {"лекарства замерзали (≤ 0 °C)", "дәрілер тоңып қалды (≤ 0 °C)", "medicine fridge at or below 0 °C"},
	"room_below_16":      {"жилая комната ниже 16 °C", "тұрғын бөлме 16 °C-тан төмен", "a resident room below 16 °C"},
	"camera_down_24h":    {"камера не работает более 24 ч", "камера 24 сағаттан астам жұмыс істемейді", "a camera down for over 24 h"},
	"gateway_silent_24h": {"шлюз молчал более 24 ч", "шлюз 24 сағаттан астам үнсіз", "the gateway silent for over 24 h"},
	"scald_no_data":      {"нет данных от точки горячей воды 60 мин", "ыстық су нүктесінен 60 мин дерек жоқ", "no data from a hot-water outlet for 60 min"},
	"med_fridge_no_data": {"нет данных от холодильника с лекарствами 60 мин", "дәрі тоңазытқышынан 60 мин дерек жоқ", "no data from the medicine fridge for 60 min"},
	"room_no_data":       {"нет данных из жилой комнаты 60 мин", "тұрғын бөлмеден 60 мин дерек жоқ", "no data from a resident room for 60 min"},
}

// name returns the name of a zone kind or a cap in t's language.
func (t tr) name(id string) string {
	if k, ok := zonekind.Lookup(id); ok {
		return k.Names.In(languages[t.idx()])
	}
	if n, ok := names[id]; ok {
		return n[t.idx()]
	}
	return id
}

// isReasonCode reports whether s is one of the reasons that are short stable codes (camera health, a wired
// probe's failed read, a night-round scan): names translates them.
func isReasonCode(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	_, ok := names[s]
	return ok
}

// reason returns a check's reason as the page shows it in t's language: a known
// code translated; a sentence whose first word (before ":") or last word is a known
// code, that code translated ("camera offline no_frames", "crc: checksum
// mismatch"); any other sentence as it is on an English page and not at all on the
// others (the page's title attribute keeps it for the technician).
// A reason that only repeats kind ("temperature_high: 9.8 °C": the page shows the
// kind and the value) says nothing more.
func (t tr) reason(kind, s string) string {
	s = strings.TrimSpace(s)
	head, _, colon := strings.Cut(s, ":")
	if s == kind || (colon && head == kind && kind != "") {
		return ""
	}
	if isReasonCode(s) {
		return t.name(s)
	}
	if colon && isReasonCode(head) {
		return t.name(head)
	}
	if f := strings.Fields(s); len(f) > 1 && isReasonCode(f[len(f)-1]) {
		return t.name(f[len(f)-1])
	}
	if t.lang == "en" {
		return s
	}
	return ""
}

// minuteKinds and percentKinds are the condition kinds whose value is in minutes
// or percent; the others' is a temperature.
var (
	minuteKinds  = map[string]bool{"sensor_stale": true, "device_offline": true, "temperature_cumulative": true, "gateway_uplink": true, "gateway_clock": true, "gateway_mqtt": true}
	percentKinds = map[string]bool{"humidity_high": true, "humidity_low": true, "gateway_spool": true, "battery_low": true}
)

// value is a condition's value with its unit in t's language: "9.8 °C", "75 мин", "92 %".
func (t tr) value(kind string, v float64) string {
	switch {
	case minuteKinds[kind]:
		return t.age(time.Duration(v * float64(time.Minute)))
	case percentKinds[kind]:
		return fmt.Sprintf("%.0f %%", v)
	}
	return fmt.Sprintf("%.1f °C", v)
}
