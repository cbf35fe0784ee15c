package status

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/zonekind"
)

// Band is a zone's temperature band for colouring the page: inside [Low, High] is
// normal (green); outside it is a warning (amber); below CritLow or above CritHigh
// is critical (red). Open ends are ±Inf. It is drawn from the zone's effective alert
// limits ([ZoneBand]), so a colour says which alert a reading leads to.
type Band struct {
	Low, High, CritLow, CritHigh float64
}

// MarshalJSON writes an open end (±Inf, which JSON has no number for) as null.
func (b Band) MarshalJSON() ([]byte, error) {
	end := func(v float64) *float64 {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct{ Low, High, CritLow, CritHigh *float64 }{end(b.Low), end(b.High), end(b.CritLow), end(b.CritHigh)})
}

// ZoneBand is the band of a zone as its effective limits draw it
// (zonekind.Zone.Bands); nil for a zone without temperature limits.
func ZoneBand(z zonekind.Zone) *Band {
	warn, crit, ok := z.Bands()
	if !ok {
		return nil
	}
	return &Band{Low: warn.Low, High: warn.High, CritLow: crit.Low, CritHigh: crit.High}
}

// Level classifies a temperature: "ok", "warn" or "crit".
func (b Band) Level(t float64) string {
	switch {
	case t < b.CritLow || t > b.CritHigh:
		return "crit"
	case t < b.Low || t > b.High:
		return "warn"
	}
	return "ok"
}

// String is the normal band in words: "20–25 °C", "≥ 60 °C", "≤ -18 °C".
func (b Band) String() string {
	switch {
	case math.IsInf(b.Low, -1):
		return fmt.Sprintf("≤ %g °C", b.High)
	case math.IsInf(b.High, 1):
		return fmt.Sprintf("≥ %g °C", b.Low)
	}
	return fmt.Sprintf("%g…%g °C", b.Low, b.High)
}

var levelRank = map[string]int{"": 0, "none": 0, "ok": 1, "warn": 2, "crit": 3}

// view is what the templates render: the snapshot in the reader's language.
type view struct {
	T           tr
	Lang        string
	Langs       []langLink
	Snap        Snapshot
	Open        bool   // no password: the page says so
	LoggedIn    bool   // a sign-out button
	CSRF        string // for the forms
	CanAck      bool
	Updated     string
	Uptime      string
	Cards       []card
	Zones       []zoneView
	Conditions  []condView
	Alerts      []alertView
	Cameras     []cameraView
	Implausible []implausibleView
	Coverage    []coverageView
	Rounds      *roundsView
	Score       *scoreView
	Error       string // on the login page
}

type langLink struct {
	Code, Name string
	Current    bool
}

type card struct {
	Label, Value, Detail, Class string
}

type zoneView struct {
	ID, Name, Kind, Band string
	KindName             string // Kind in the page's language
	band                 *Band
	Temp, Level          string // the headline: the worst fresh temperature
	Sensors              []sensorView
	Spark                template.HTML // the last 24 h as an inline SVG; "" without readings
	History              string        // the last 24 h in words
	HistoryFrom          string        // the chart's left edge ("24 h ago")
	series               [][]Bucket
}

type sensorView struct {
	ID, Source, Temp, Level, Extra, Age string
	Stale                               bool
	Raw                                 *rawView
}

// rawView is a sensor's last raw message, shown on click.
type rawView struct {
	Topic, Payload, Info string
}

type condView struct {
	Since, Severity, SeverityClass, Kind, Subject, Zone, Reason string
	KindCode                                                    string // the kind's id, as in the logs
	Value                                                       string // the measured value with its unit, or ""
	SubjectID, ZoneID                                           string // the raw ids, for technicians (title, data-)
	ReasonRaw                                                   string // the check's own words (English), for technicians
}

type alertView struct {
	ID, Severity, SeverityClass, State, Text, Zone, Since, AckedBy string
	Ackable                                                        bool
}

type cameraView struct {
	ID, Zones, State, StateClass, Reason string
	ZoneIDs, ReasonRaw                   string // for technicians (title)
	View, ViewReason                     string // a tampered camera's verdict and why
}

type implausibleView struct {
	Sensor, Zone, Code, Reason, Since string
}

type coverageView struct {
	Kind, Now, Today, Covered, Class string
}

type scoreView struct {
	Live, Today, Class, Caps, Version string
	Parts                             []card
}

type roundsView struct {
	Window, Next         string
	Due, Done, Missed    int
	DoneClass, MissClass string
}

// age says a duration the short way in t's language: "45 с", "12 мин", "3 ч 05 мин".
func (t tr) age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s, m, h := t.T("unit_s"), t.T("unit_m"), t.T("unit_h")
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d %s", int(d.Seconds()), s)
	case d < time.Hour:
		return fmt.Sprintf("%d %s", int(d.Minutes()), m)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d %s %02d %s", int(d.Hours()), h, int(d.Minutes())%60, m)
	}
	return fmt.Sprintf("%d %s", int(d.Hours()/24), t.T("unit_d"))
}

func temp(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f °C", *p)
}

func pct(x float64) string { return fmt.Sprintf("%.0f %%", x*100) }

func ratioClass(x float64) string {
	switch {
	case x >= 0.999:
		return "ok"
	case x >= 0.9:
		return "warn"
	}
	return "crit"
}

// buildView turns a snapshot into the page's view in lang.
func buildView(s Snapshot, lang string) *view {
	t := tr{lang}
	now := s.Now
	if now.IsZero() {
		now = time.Now()
	}
	v := &view{T: t, Lang: lang, Snap: s, Updated: t.T("updated", now.Format("15:04:05")), Uptime: t.age(s.Uptime)}
	for _, l := range languages {
		v.Langs = append(v.Langs, langLink{Code: l, Name: langNames[l], Current: l == lang})
	}

	// Status cards.
	mq := card{Label: t.T("mqtt"), Value: t.T("connected"), Class: "ok"}
	if !s.MQTTConnected {
		mq.Value, mq.Class = t.T("disconnected"), "crit"
	}
	in := card{Label: t.T("influx"), Value: t.T("ok"), Class: "ok"}
	switch {
	case s.InfluxError != "":
		in.Value, in.Class, in.Detail = t.T("failing"), "crit", s.InfluxError
	case s.InfluxURL == "":
		in.Value, in.Class = t.T("spool_only"), "none"
	}
	ck := card{Label: t.T("clock"), Value: t.T("synced"), Class: "ok"}
	if !s.ClockSynced {
		ck.Value, ck.Class = t.T("not_synced"), "crit"
	}
	bl := card{Label: t.T("backlog"), Value: fmt.Sprintf("%d %s", s.Backlog, t.T("readings")),
		Detail: fmt.Sprintf("%.1f MiB", float64(s.SpoolBytes)/(1<<20)), Class: "ok"}
	if !s.SpoolOldest.IsZero() && s.Backlog > 0 {
		age := now.Sub(s.SpoolOldest)
		bl.Detail += " · " + t.T("oldest", t.age(age))
		if age > 15*time.Minute {
			bl.Class = "warn"
		}
	}
	v.Cards = []card{mq, in, ck, bl,
		{Label: t.T("received"), Value: fmt.Sprint(s.Received), Class: "none"},
		{Label: t.T("written"), Value: fmt.Sprint(s.Written), Class: "none"},
	}
	v.Cards = append(v.Cards, registryCard(t, s.Registry))
	if s.Rejected > 0 {
		v.Cards = append(v.Cards, card{Label: t.T("rejected"), Value: fmt.Sprint(s.Rejected), Class: "warn"})
	}
	if n := s.SpoolCorrupt + s.SpoolLost; n > 0 {
		v.Cards = append(v.Cards, card{Label: t.T("lost"), Value: fmt.Sprint(n), Class: "crit"})
	}
	if s.MQTTProblem != "" {
		v.Cards = append(v.Cards, card{Label: t.T("mqtt_problem"), Value: s.MQTTProblem, Class: "crit"})
	}
	if s.SpoolError != "" {
		v.Cards = append(v.Cards, card{Label: t.T("spool_failing"), Value: s.SpoolError, Class: "crit"})
	}
	if s.SpoolDropped > 0 {
		v.Cards = append(v.Cards, card{Label: t.T("dropped"), Value: fmt.Sprint(s.SpoolDropped), Class: "crit"})
	}

	// Zones, in configuration order; zones only sensors name come last.
	byZone := map[string]*zoneView{}
	var order []string
	addZone := func(id, name, kind string, band *Band) *zoneView {
		if z := byZone[id]; z != nil {
			return z
		}
		kindName := t.name(kind)
		if name == "" {
			// no configured name: its kind's (the id stays in data-zone)
			name = cmp.Or(kindName, id)
		}
		z := &zoneView{ID: id, Name: name, Kind: kind, KindName: kindName, Temp: "–", Level: "none", band: band}
		if kindName == name {
			z.KindName = ""
		}
		if band != nil {
			z.Band = t.T("temperature_band", band.String())
		}
		byZone[id] = z
		order = append(order, id)
		return z
	}
	for _, z := range s.Zones {
		addZone(z.ID, z.Name, z.Kind, z.Band)
	}
	sensors := append([]Sensor(nil), s.Sensors...)
	sort.SliceStable(sensors, func(i, j int) bool { return sensors[i].ID < sensors[j].ID })
	for _, sn := range sensors {
		z := addZone(sn.Zone, sn.ZoneName, sn.ZoneKind, nil)
		sv := sensorView{ID: sn.ID, Source: sn.Source, Temp: temp(sn.TemperatureC), Level: "none", Stale: sn.Stale(now)}
		if a := sn.Age(now); a < 0 {
			sv.Age = t.T("never")
		} else {
			sv.Age = t.T("ago", t.age(a))
		}
		var extra []string
		if sn.HumidityPct != nil {
			extra = append(extra, fmt.Sprintf("%s %.0f %%", t.T("humidity"), *sn.HumidityPct))
		}
		if sn.BatteryPct != nil {
			extra = append(extra, fmt.Sprintf("%s %.0f %%", t.T("battery"), *sn.BatteryPct))
		}
		if sn.Online != nil && !*sn.Online {
			extra = append(extra, t.T("device_offline"))
		}
		if sv.Stale && !sn.LastSeen.IsZero() {
			extra = append(extra, t.T("silent"))
		}
		sv.Extra = strings.Join(extra, " · ")
		if z.band != nil && sn.TemperatureC != nil {
			sv.Level = z.band.Level(*sn.TemperatureC)
		} else if sn.TemperatureC != nil {
			sv.Level = "ok"
		}
		if sv.Stale {
			sv.Level = "none"
		}
		if sn.TemperatureC != nil && !sv.Stale && (z.Temp == "–" || levelRank[sv.Level] > levelRank[z.Level]) {
			z.Temp, z.Level = sv.Temp, sv.Level
		}
		if r := sn.Raw; r != nil {
			sv.Raw = &rawView{Topic: r.Topic, Payload: r.Payload,
				Info: t.T("raw_bytes", r.Bytes, r.Received.In(now.Location()).Format("02.01 15:04:05"))}
		}
		z.series = append(z.series, sn.History)
		z.Sensors = append(z.Sensors, sv)
	}
	for _, id := range order {
		z := byZone[id]
		if len(z.Sensors) > 0 {
			z.Spark, z.History = sparkline(t, mergeSeries(z.series...), z.band, now)
			z.HistoryFrom = t.T("history_ago")
		}
		v.Zones = append(v.Zones, *z)
	}

	zoneName := func(id string) string {
		if z := byZone[id]; z != nil {
			return z.Name
		}
		return id
	}
	for _, c := range s.Conditions {
		cv := condView{
			Since: t.T("since", c.Since.In(now.Location()).Format("02.01 15:04")), Severity: t.T(c.Severity),
			SeverityClass: sevClass(c.Severity), Kind: t.name(c.Kind), KindCode: c.Kind, SubjectID: c.Subject, ZoneID: c.Zone,
			ReasonRaw: c.Reason, Reason: t.reason(c.Kind, c.Reason),
		}
		if c.HasValue {
			cv.Value = t.value(c.Kind, c.Value)
		}
		if c.Zone != "" {
			cv.Zone = zoneName(c.Zone)
		}
		switch {
		case c.Subject == c.Zone:
			// a zone's own condition (coverage_gap): the zone says it
		case names[c.Subject] != [3]string{}:
			cv.Subject = t.name(c.Subject) // gateway, rounds
		default:
			cv.Subject = c.Subject // a sensor, camera or checkpoint id people configured
		}
		v.Conditions = append(v.Conditions, cv)
	}
	for _, a := range s.Alerts {
		text := a.Text
		if x := a.Texts[lang]; x != "" {
			text = x
		}
		av := alertView{ID: a.ID, Severity: t.T(a.Severity), SeverityClass: sevClass(a.Severity), State: t.T(a.State),
			Text: text, Zone: zoneName(a.Zone), Since: t.T("since", a.Since.In(now.Location()).Format("02.01 15:04")),
			Ackable: a.State == AlertFiring}
		if a.AckedBy != "" {
			av.AckedBy = t.T("acked_by", a.AckedBy)
		}
		v.Alerts = append(v.Alerts, av)
	}
	for _, c := range s.Cameras {
		st := c.State
		if st == "" {
			st = CameraUnknown
		}
		cls := map[string]string{CameraHealthy: "ok", CameraDegraded: "warn", CameraOffline: "crit"}[st]
		if cls == "" {
			cls = "none"
		}
		zs := make([]string, len(c.Zones))
		for i, z := range c.Zones {
			zs[i] = zoneName(z)
		}
		cv := cameraView{ID: c.ID, Zones: strings.Join(zs, ", "), ZoneIDs: strings.Join(c.Zones, ", "),
			State: t.T(st), StateClass: cls, Reason: t.reason("", c.Reason), ReasonRaw: c.Reason}
		if c.View != "" && c.View != "ok" && c.View != "learning" {
			cv.View, cv.ViewReason, cv.StateClass = t.T("camera_blind", t.name("view_"+c.View)), c.ViewReason, "crit"
		}
		v.Cameras = append(v.Cameras, cv)
	}
	for _, p := range s.Implausible {
		v.Implausible = append(v.Implausible, implausibleView{Sensor: p.Sensor, Zone: zoneName(p.Zone), Code: t.name(p.Code), Reason: p.Reason,
			Since: t.T("since", p.Since.In(now.Location()).Format("02.01 15:04"))})
	}
	for _, c := range s.Coverage {
		v.Coverage = append(v.Coverage, coverageView{Kind: t.name(c.ZoneKind), Now: pct(c.Now), Today: pct(c.Today),
			Covered: t.T("covered_of", c.Covered, c.Required), Class: ratioClass(c.Now)})
	}
	if r := s.Rounds; r != nil {
		rv := &roundsView{Window: r.Window, Due: r.Due, Done: r.Done, Missed: r.Missed, DoneClass: "ok", MissClass: "ok"}
		if r.Missed > 0 {
			rv.MissClass = "crit"
		}
		if !r.Next.IsZero() {
			rv.Next = t.T("next_at", r.Next.In(now.Location()).Format("15:04"))
		}
		v.Rounds = rv
	}
	if sc := s.Score; sc != nil {
		sv := &scoreView{Live: fmt.Sprintf("%.1f", sc.Live), Class: scoreClass(sc.Live), Version: sc.Version}
		if sc.Today != nil {
			sv.Today = fmt.Sprintf("%.1f", *sc.Today)
		}
		if len(sc.Caps) > 0 {
			caps := make([]string, len(sc.Caps))
			for i, c := range sc.Caps {
				caps[i] = t.name(c)
			}
			sv.Caps = t.T("score_caps", strings.Join(caps, ", "))
			sv.Class = "crit"
		}
		for _, p := range sc.Components {
			label := p.Name
			if k, ok := scoreLabels[p.Name]; ok {
				label = t.T(k)
			}
			c := card{Label: label, Value: pct(p.Ratio), Class: ratioClass(p.Ratio)}
			if !p.Known {
				c.Value, c.Class, c.Detail = t.T("unknown"), "crit", t.T("score_unknown")
			}
			sv.Parts = append(sv.Parts, c)
		}
		v.Score = sv
	}
	return v
}

// scoreLabels are the translation keys of the score's components.
var scoreLabels = map[string]string{
	"temperature": "score_temperature", "availability": "score_availability", "coverage": "score_coverage",
	"rounds": "score_rounds", "response": "score_response",
}

// scoreClass colours a score: below 60 is bad, below 85 needs attention.
func scoreClass(total float64) string {
	switch {
	case total < 60:
		return "crit"
	case total < 85:
		return "warn"
	}
	return "ok"
}

func sevClass(sev string) string {
	if sev == SeverityCritical {
		return "crit"
	}
	return "warn"
}

// registryCard says which ministry registry the centre runs under, or that its
// score is not rated.
func registryCard(t tr, r Registry) card {
	c := card{Label: t.T("registry")}
	if r.Version == 0 {
		c.Value, c.Detail, c.Class = t.T("registry_unrated"), t.T("registry_unrated_detail"), "warn"
	} else {
		c.Value, c.Class = t.T("registry_version", r.Version), "ok"
		var d []string
		if r.Overridden > 0 {
			d = append(d, t.T("registry_overridden", r.Overridden))
			c.Class = "warn"
		}
		if r.Pending > r.Version {
			d = append(d, t.T("registry_pending", r.Pending))
		}
		c.Detail = strings.Join(d, " · ")
	}
	if r.Problem != "" {
		c.Detail = strings.TrimPrefix(c.Detail+" · "+r.Problem, " · ")
		c.Class = "warn"
	}
	return c
}
