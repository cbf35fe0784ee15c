package web

import (
	"github.com/saqshy/saqshy/gateway/internal/atomicfile"

	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
)

// ExportDay is one centre-day of the rating export.
type ExportDay struct {
	Date           string             `json:"date"` // the centre's local date
	Total          float64            `json:"total"`
	Components     map[string]float64 `json:"components"` // a not-applicable component is absent
	WeightsVersion string             `json:"weights_version"`
	Capped         bool               `json:"capped"`
	Caps           string             `json:"caps,omitempty"`
	// HasData is false for a day without verified data (rated 0, capped).
	HasData bool `json:"has_data"`
	// GatewayTotal is the gateway's own score for the day, absent when it wrote
	// none; Differs when it differs from Total beyond rounding.
	GatewayTotal *float64 `json:"gateway_total,omitempty"`
	Differs      bool     `json:"differs"`
	DiffersIn    string   `json:"differs_in,omitempty"`
}

// ExportCentre is one centre of the rating export.
type ExportCentre struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Region   string `json:"region"`
	Timezone string `json:"timezone"`
	// DaysWithData of the days rated in the month ("27/30 days with data").
	DaysWithData int         `json:"days_with_data"`
	Days         []ExportDay `json:"days"`
}

// Export is the monthly rating file.
type Export struct {
	Month          string         `json:"month"`
	Generated      time.Time      `json:"generated"`
	GeneratedBy    string         `json:"generated_by"`
	WeightsVersion []string       `json:"weights_versions"` // every version the month's scores used
	Centres        []ExportCentre `json:"centres"`
}

// ExportData is the export page's content.
type ExportData struct {
	Month   string // the month offered: the last with rating data
	Last    string // the last month with rating data, "" when none
	Centres []store.CentreInfo
	Empty   string // the month just asked for, which has no rating data
}

func (s *Server) exportPage(w http.ResponseWriter, r *http.Request, ss *session) {
	s.showExport(w, r, ss, "", 0)
}

// showExport renders the export page offering the last month with rating data
// (not simply the previous month, which may have none), saying so when empty
// (a month asked for) has no data.
func (s *Server) showExport(w http.ResponseWriter, r *http.Request, ss *session, empty string, status int) {
	last, err := s.lastRatedMonth(r.Context(), s.opt.Loc)
	if err != nil {
		s.fail(w, r, ss, "export", err)
		return
	}
	d := ExportData{Month: last, Last: last, Empty: empty}
	if d.Month == "" {
		d.Month = s.now().In(s.opt.Loc).AddDate(0, -1, 0).Format("2006-01")
	}
	for _, c := range s.opt.Centres {
		if ss.User.allowed(c, true) {
			d.Centres = append(d.Centres, c)
		}
	}
	p := s.newPage(w, r, ss, "export", d)
	p.Status = status
	s.render(w, r, "export.html", p)
}

// exportDownload serves GET /export/download?month=YYYY-MM&format=csv|json[&centre=ID].
func (s *Server) exportDownload(w http.ResponseWriter, r *http.Request, ss *session) {
	q := r.URL.Query()
	month, err := time.Parse("2006-01", q.Get("month"))
	if err != nil {
		badRequest(w, "month %q is not YYYY-MM", q.Get("month"))
		return
	}
	format := q.Get("format")
	if format != "csv" && format != "json" {
		badRequest(w, "format must be csv or json, not %q", format)
		return
	}
	var centres []store.CentreInfo
	if id := q.Get("centre"); id != "" {
		c, ok := s.byID[id]
		if !ok || !ss.User.allowed(c, true) {
			http.Error(w, "no such centre: "+id, http.StatusNotFound)
			return
		}
		centres = []store.CentreInfo{c}
	} else {
		for _, c := range s.opt.Centres {
			if ss.User.allowed(c, true) {
				centres = append(centres, c)
			}
		}
	}
	exp, err := s.buildExport(r, month, centres, ss.User)
	if err != nil {
		s.fail(w, r, ss, "export", err)
		return
	}
	rows := 0
	for _, c := range exp.Centres {
		rows += len(c.Days)
	}
	if rows == 0 {
		// Not a header-only file: the page says the month has no rating.
		s.showExport(w, r, ss, exp.Month, http.StatusNotFound)
		return
	}
	var body []byte
	switch format {
	case "json":
		body, err = json.MarshalIndent(exp, "", "  ")
		w.Header().Set("Content-Type", "application/json")
	default:
		body, err = exportCSV(exp)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := s.logExport(ss.User, exp.Month, format, q.Get("centre"), len(exp.Centres), rows, r.RemoteAddr); err != nil {
		// An export that cannot be logged is not served.
		s.log.Error("export log", "err", err)
		http.Error(w, "export log not writable: "+err.Error(), http.StatusInternalServerError)
		return
	}
	name := "saqshy-rating-" + exp.Month
	if id := q.Get("centre"); id != "" {
		name += "-" + id
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, format))
	_, _ = w.Write(body)
}

// buildExport reads the rating's days of the month (the ministry's computation, not
// the gateway's safety_score): each centre's points stamped in its own local days of
// that month.
func (s *Server) buildExport(r *http.Request, month time.Time, centres []store.CentreInfo, u *User) (*Export, error) {
	exp := &Export{Month: month.Format("2006-01"), Generated: s.now().UTC(), GeneratedBy: u.Name, WeightsVersion: []string{}, Centres: []ExportCentre{}}
	if len(centres) == 0 {
		return exp, nil
	}
	// A range wide enough for every time zone: 14 h either side of the UTC month.
	from := month.Add(-14 * time.Hour)
	to := month.AddDate(0, 1, 0).Add(14 * time.Hour)
	var ids []string
	if u.Role != RoleMinistry || len(centres) == 1 {
		for _, c := range centres {
			ids = append(ids, c.ID)
		}
	}
	days, err := s.store.RatingDays(r.Context(), from, to, ids)
	if err != nil {
		return nil, err
	}
	versions := map[string]bool{}
	for _, c := range centres {
		ec := ExportCentre{ID: c.ID, Name: c.Name, Region: c.Region, Timezone: c.Timezone, Days: []ExportDay{}}
		for _, sc := range days[c.ID] {
			local := sc.At.In(c.Location())
			if local.Year() != month.Year() || local.Month() != month.Month() {
				continue
			}
			ed := ExportDay{Date: local.Format("2006-01-02"), Total: sc.Total, Components: sc.Components,
				WeightsVersion: sc.WeightsVersion, Capped: sc.Capped, Caps: sc.Caps, HasData: sc.HasData,
				Differs: sc.Differs, DiffersIn: sc.DiffersIn}
			if sc.HasGateway {
				g := sc.GatewayTotal
				ed.GatewayTotal = &g
			}
			if sc.HasData {
				ec.DaysWithData++
			}
			ec.Days = append(ec.Days, ed)
			if sc.WeightsVersion != "" {
				versions[sc.WeightsVersion] = true
			}
		}
		exp.Centres = append(exp.Centres, ec)
	}
	for v := range versions {
		exp.WeightsVersion = append(exp.WeightsVersion, v)
	}
	sort.Strings(exp.WeightsVersion)
	return exp, nil
}

// ExportCSVHeader is the CSV export's header row.
var ExportCSVHeader = append(append([]string{"centre_id", "centre_name", "region", "date", "total"}, store.ComponentNames...), "weights_version", "capped", "caps",
	"has_data", "gateway_total", "differs", "days_with_data")

func exportCSV(exp *Export) ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write(ExportCSVHeader)
	for _, c := range exp.Centres {
		for _, d := range c.Days {
			rec := []string{c.ID, c.Name, c.Region, d.Date, strconv.FormatFloat(d.Total, 'f', -1, 64)}
			for _, k := range store.ComponentNames {
				if v, ok := d.Components[k]; ok {
					rec = append(rec, strconv.FormatFloat(v, 'f', -1, 64))
				} else {
					rec = append(rec, "") // not applicable that day
				}
			}
			gw := ""
			if d.GatewayTotal != nil {
				gw = strconv.FormatFloat(*d.GatewayTotal, 'f', -1, 64)
			}
			rec = append(rec, d.WeightsVersion, strconv.FormatBool(d.Capped), d.Caps,
				strconv.FormatBool(d.HasData), gw, strconv.FormatBool(d.Differs), fmt.Sprintf("%d/%d", c.DaysWithData, len(c.Days)))
			_ = cw.Write(rec)
		}
	}
	cw.Flush()
	return b.Bytes(), cw.Error()
}

// ExportLogEntry is one line of state_dir/exports.log (JSON lines).
type ExportLogEntry struct {
	At      time.Time `json:"at"`
	User    string    `json:"user"`
	Role    Role      `json:"role"`
	Region  string    `json:"region,omitempty"`
	Month   string    `json:"month"`
	Format  string    `json:"format"`
	Centre  string    `json:"centre,omitempty"`
	Centres int       `json:"centres"`
	Rows    int       `json:"rows"`
	Remote  string    `json:"remote"`
}

func (s *Server) logExport(u *User, month, format, centre string, centres, rows int, remote string) error {
	e := ExportLogEntry{At: s.now().UTC(), User: u.Name, Role: u.Role, Region: u.Region, Month: month, Format: format,
		Centre: centre, Centres: centres, Rows: rows, Remote: remote}
	s.exportMu.Lock()
	defer s.exportMu.Unlock()
	err := atomicfile.AppendJSONLine(filepath.Join(s.opt.StateDir, "exports.log"), e)
	s.log.Info("export", "user", u.Name, "month", month, "format", format, "centres", centres, "rows", rows)
	return err
}
