package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
)

// pickerZones are the zones the header's picker offers; any IANA zone name works
// through ?tz= (remembered in the tz cookie).
var pickerZones = []string{"Asia/Almaty", "Asia/Aqtobe", "Asia/Oral", "Asia/Qyzylorda", "Europe/Moscow", "UTC"}

// zoneCookie remembers the officer's chosen time zone.
const zoneCookie = "tz"

// funcs are the template functions that show times: always with the zone named.
func funcs() template.FuncMap {
	orUTC := func(loc *time.Location) *time.Location {
		if loc == nil {
			return time.UTC
		}
		return loc
	}
	return template.FuncMap{
		"date": func(t time.Time, loc *time.Location) string { return t.In(orUTC(loc)).Format("2006-01-02") },
		"hm":   func(t time.Time, loc *time.Location) string { return t.In(orUTC(loc)).Format("02.01 15:04") },
		// at is a full time with its zone: "2026-01-15 14:00 Asia/Almaty (UTC+05)".
		"at": func(t time.Time, loc *time.Location) string {
			loc = orUTC(loc)
			return t.In(loc).Format("2006-01-02 15:04") + " " + ZoneLabel(loc, t)
		},
		"zone": func(loc *time.Location, t time.Time) string {
			if t.IsZero() {
				t = time.Now()
			}
			return ZoneLabel(orUTC(loc), t)
		},
		"inZones": func(z string, zones []string) bool { return slices.Contains(zones, z) },
	}
}

// ZoneLabel names a zone with its offset at t: "Asia/Almaty (UTC+05)", "UTC".
func ZoneLabel(loc *time.Location, t time.Time) string {
	if loc == time.UTC || loc.String() == "UTC" {
		return "UTC"
	}
	_, off := t.In(loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	o := fmt.Sprintf("UTC%s%02d", sign, off/3600)
	if m := off % 3600 / 60; m != 0 {
		o += fmt.Sprintf(":%02d", m)
	}
	return loc.String() + " (" + o + ")"
}

// zone is the officer's chosen time zone: ?tz= (remembered in a cookie; "auto"
// forgets it), the cookie, the user's timezone setting; nil when none.
func (s *Server) zone(w http.ResponseWriter, r *http.Request, u *User) *time.Location {
	if q := r.URL.Query().Get("tz"); q != "" {
		if q == "auto" {
			http.SetCookie(w, &http.Cookie{Name: zoneCookie, Value: "", Path: "/", MaxAge: -1})
			return u.location()
		}
		if loc, err := time.LoadLocation(q); err == nil && q != "Local" {
			http.SetCookie(w, &http.Cookie{Name: zoneCookie, Value: q, Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode})
			return loc
		}
	}
	if c, err := r.Cookie(zoneCookie); err == nil && c.Value != "" && c.Value != "Local" {
		if loc, err := time.LoadLocation(c.Value); err == nil {
			return loc
		}
	}
	return u.location()
}

// location is the user's timezone setting, nil when none (or unknown: the config
// check refuses one).
func (u *User) location() *time.Location {
	if u == nil || u.Timezone == "" {
		return nil
	}
	loc, err := time.LoadLocation(u.Timezone)
	if err != nil {
		return nil
	}
	return loc
}

// fail answers a page whose data InfluxDB did not give: a clear message in the
// page's language (502); the raw error goes to the log only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, ss *session, what string, err error) {
	s.log.Error("page data unavailable", "page", what, "path", r.URL.Path, "err", err)
	p := s.newPage(w, r, ss, "err.title", nil)
	p.Status, p.Error = http.StatusBadGateway, tr(p.Lang, "err.influx")
	if r.URL.Path == "/overview/live" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(p.Error))
		return
	}
	s.render(w, r, "error.html", p)
}

// notFound answers a page that does not exist with a message in its language.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, ss *session, key string, args ...any) {
	p := s.newPage(w, r, ss, "not.found", nil)
	p.Status, p.Error = http.StatusNotFound, tr(p.Lang, key, args...)
	s.render(w, r, "error.html", p)
}

// ReportsData is the report list's content.
type ReportsData struct {
	Dates   []string
	CanMake bool // the user may make today's report now (the ministry)
}

func (s *Server) reportList(w http.ResponseWriter, r *http.Request, ss *session) {
	if d := r.URL.Query().Get("date"); d != "" {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			badRequest(w, "report date %q is not YYYY-MM-DD", d)
			return
		}
		http.Redirect(w, r, "/reports/"+d, http.StatusSeeOther)
		return
	}
	list, err := s.reports.List()
	if err != nil {
		s.log.Error("report list", "err", err)
		p := s.newPage(w, r, ss, "reports", nil)
		p.Status, p.Error = http.StatusInternalServerError, tr(p.Lang, "err.reports")
		s.render(w, r, "error.html", p)
		return
	}
	d := ReportsData{Dates: list, CanMake: ss.User.Role == RoleMinistry}
	s.render(w, r, "reports.html", s.newPage(w, r, ss, "reports", d))
}

// reportMake makes today's report now (POST /reports, with the form's CSRF token):
// the ministry's officers only, as the report covers every centre and is sent.
func (s *Server) reportMake(w http.ResponseWriter, r *http.Request, ss *session) {
	if ss.User.Role != RoleMinistry {
		p := s.newPage(w, r, ss, "reports", nil)
		p.Status, p.Error = http.StatusForbidden, tr(p.Lang, "report.make.forbidden")
		s.render(w, r, "error.html", p)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	rep, err := s.reports.Make(ctx)
	if err != nil {
		s.fail(w, r, ss, "report on demand", err)
		return
	}
	s.log.Info("report made on demand", "user", ss.User.Name, "date", rep.Date)
	http.Redirect(w, r, "/reports/"+rep.Date, http.StatusSeeOther)
}

// ReportView is a report page's content: a kept report, or one rebuilt from the
// rating's days for a past date without a kept one.
type ReportView struct {
	*store.Report
	Kept bool // made and kept by the daily report (else rebuilt from the rating)
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request, ss *session) {
	date := r.PathValue("date")
	day, err := time.ParseInLocation("2006-01-02", date, s.opt.Loc)
	if err != nil {
		badRequest(w, "report date %q is not YYYY-MM-DD", date)
		return
	}
	rep, err := s.reports.Load(date)
	switch {
	case err == nil:
		rep = reportFor(rep, ss.User)
		s.render(w, r, "report.html", s.newPage(w, r, ss, "reports", &ReportView{Report: rep, Kept: true}))
		return
	case !errors.Is(err, store.ErrNoReport):
		s.log.Error("report", "date", date, "err", err)
		p := s.newPage(w, r, ss, "reports", nil)
		p.Status, p.Error = http.StatusInternalServerError, tr(p.Lang, "err.reports")
		s.render(w, r, "error.html", p)
		return
	}
	today := store.StartOfDay(s.now(), s.opt.Loc)
	if !day.Before(today) {
		s.notFound(w, r, ss, "report.not.yet", date)
		return
	}
	rep, err = s.pastReport(r.Context(), day, ss.User)
	if err != nil {
		s.fail(w, r, ss, "report "+date, err)
		return
	}
	if rep == nil {
		s.notFound(w, r, ss, "report.no.data", date)
		return
	}
	s.render(w, r, "report.html", s.newPage(w, r, ss, "reports", &ReportView{Report: rep}))
}

// pastReport rebuilds the report of a past local date from the rating's days: the
// centres whose day had no verified data, was capped or scored below the
// threshold. nil when no centre has a rating for that date.
func (s *Server) pastReport(ctx context.Context, day time.Time, u *User) (*store.Report, error) {
	var centres []store.CentreInfo
	var ids []string
	for _, c := range s.opt.Centres {
		if u.allowed(c, true) {
			centres = append(centres, c)
			ids = append(ids, c.ID)
		}
	}
	if u.Role == RoleMinistry {
		ids = nil
	}
	date := day.Format("2006-01-02")
	days, err := s.store.RatingDays(ctx, day.Add(-14*time.Hour), day.AddDate(0, 0, 1).Add(14*time.Hour), ids)
	if err != nil {
		return nil, err
	}
	rep := &store.Report{Date: date, Generated: s.now().UTC(), Centres: len(centres)}
	byRegion := map[string]*store.ReportRegion{}
	any := false
	for _, c := range centres {
		g := byRegion[c.Region]
		if g == nil {
			g = &store.ReportRegion{Region: c.Region, Items: []store.ReportCentre{}}
			byRegion[c.Region] = g
		}
		g.Centres++
		var sc *store.Score
		for i := range days[c.ID] {
			if days[c.ID][i].At.In(c.Location()).Format("2006-01-02") == date {
				sc = &days[c.ID][i]
			}
		}
		item := store.ReportCentre{ID: c.ID, Name: c.Name}
		if sc == nil {
			item.Reasons = []store.Reason{{Key: "reason.norating"}}
			g.Items = append(g.Items, item)
			continue
		}
		any = true
		v := sc.Total
		item.Score = &v
		if !sc.HasData {
			item.Reasons = append(item.Reasons, store.Reason{Key: "reason.nodata"})
		}
		if s.opt.Attention.ScoreBelow > 0 && sc.Total < s.opt.Attention.ScoreBelow {
			item.Reasons = append(item.Reasons, store.Reason{Key: "reason.score", Arg: fmt.Sprintf("%.0f", sc.Total)})
		}
		if sc.Capped && sc.Caps != "" {
			item.Reasons = append(item.Reasons, store.Reason{Key: "reason.capped", Arg: sc.Caps})
		}
		if len(item.Reasons) > 0 {
			g.Items = append(g.Items, item)
		}
	}
	if !any {
		return nil, nil
	}
	for _, g := range byRegion {
		rep.Regions = append(rep.Regions, *g)
	}
	sort.Slice(rep.Regions, func(i, j int) bool { return rep.Regions[i].Region < rep.Regions[j].Region })
	return rep, nil
}

// lastRatedMonth is the last month (YYYY-MM, in loc) with a rating day that had
// verified data, "" when there is none in the last 400 days.
func (s *Server) lastRatedMonth(ctx context.Context, loc *time.Location) (string, error) {
	rows, err := s.store.Query(ctx, `from(bucket: `+store.FluxString(s.store.Bucket())+`)
  |> range(start: -400d)
  |> filter(fn: (r) => r._measurement == "rating" and r.period == "day" and r._field == "has_data" and r._value == true)
  |> last()
  |> keep(columns: ["_time", "_value", "_field", "centre"])
  |> group()
  |> sort(columns: ["_time"], desc: true)
  |> limit(n: 1)`)
	if err != nil {
		return "", fmt.Errorf("last rated month: %w", err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0].Time.In(loc).Format("2006-01"), nil
}
