package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// Report is one daily report: per region, the centres needing attention and why.
type Report struct {
	Date      string         `json:"date"` // local date in the report's time zone
	Generated time.Time      `json:"generated"`
	Centres   int            `json:"centres"` // centres considered
	Regions   []ReportRegion `json:"regions"`
}

// ReportRegion lists a region's centres needing attention.
type ReportRegion struct {
	Region  string         `json:"region"` // "" for unregistered centres
	Centres int            `json:"centres"`
	Items   []ReportCentre `json:"items"`
}

// ReportCentre is a centre needing attention.
type ReportCentre struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Score   *float64 `json:"score,omitempty"`
	Reasons []Reason `json:"reasons"`
}

// forUser keeps the regions a user may see.
func (r *Report) forUser(u *User) *Report {
	if u.Role == RoleMinistry {
		return r
	}
	out := *r
	out.Regions = nil
	out.Centres = 0
	for _, g := range r.Regions {
		if g.Region == u.Region {
			out.Regions = append(out.Regions, g)
			out.Centres = g.Centres
		}
	}
	return &out
}

var errNoReport = errors.New("no such report")

// overviewer builds the overview of every centre (Server.Overview with a ministry user).
type overviewer func(ctx context.Context) ([]CentreRow, error)

// Reporter makes the daily report at a local time, keeps it (JSON for the pages, an
// HTML page for the record) and sends a summary through the notifier.
type Reporter struct {
	dir    string
	at     int // minutes after local midnight
	loc    *time.Location
	build  overviewer
	notify Notifier
	tmpl   *template.Template
	log    *slog.Logger
	now    func() time.Time
}

// NewReporter keeps reports under dir.
func NewReporter(dir string, atMinutes int, loc *time.Location, build overviewer, n Notifier, log *slog.Logger, now func() time.Time) (*Reporter, error) {
	if now == nil {
		now = time.Now
	}
	t, err := template.New("").Funcs(template.FuncMap{"f0": func(v float64) string { return fmt.Sprintf("%.0f", v) }}).ParseFS(assets, "templates/report.html", "templates/layout.html")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	return &Reporter{dir: dir, at: atMinutes, loc: loc, build: build, notify: n, tmpl: t, log: log, now: now}, nil
}

// Make builds, keeps and sends the report of now's local date.
func (rp *Reporter) Make(ctx context.Context) (*Report, error) {
	now := rp.now()
	rows, err := rp.build(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	rep := &Report{Date: now.In(rp.loc).Format("2006-01-02"), Generated: now.UTC(), Centres: len(rows)}
	byRegion := map[string]*ReportRegion{}
	for _, c := range rows {
		g := byRegion[c.Info.Region]
		if g == nil {
			g = &ReportRegion{Region: c.Info.Region, Items: []ReportCentre{}}
			byRegion[c.Info.Region] = g
		}
		g.Centres++
		if len(c.Reasons) == 0 {
			continue
		}
		item := ReportCentre{ID: c.Info.ID, Name: c.Info.Name, Reasons: c.Reasons}
		if c.HasLive {
			v := c.Live.Total
			item.Score = &v
		}
		g.Items = append(g.Items, item)
	}
	for _, g := range byRegion {
		sort.Slice(g.Items, func(i, j int) bool { return g.Items[i].ID < g.Items[j].ID })
		rep.Regions = append(rep.Regions, *g)
	}
	sort.Slice(rep.Regions, func(i, j int) bool { return rep.Regions[i].Region < rep.Regions[j].Region })
	b, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(rp.dir, rep.Date+".json"), b); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var html strings.Builder
	if err := rp.tmpl.ExecuteTemplate(&html, "report.html", page{Lang: "ru", Data: rep, Langs: Languages, Title: "reports", Path: "/reports/" + rep.Date}); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(rp.dir, rep.Date+".html"), []byte(html.String())); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	n := 0
	var sum strings.Builder
	for _, g := range rep.Regions {
		if len(g.Items) == 0 {
			continue
		}
		n += len(g.Items)
		fmt.Fprintf(&sum, "%s: %d of %d centres need attention\n", regionName(g.Region), len(g.Items), g.Centres)
	}
	text := fmt.Sprintf("Saqshy daily report %s: %d of %d centres need attention\n%s", rep.Date, n, rep.Centres, sum.String())
	if err := rp.notify.Notify(ctx, Message{Type: "daily_report", ID: "report-" + rep.Date, At: now.UTC(), Text: text, URL: "/reports/" + rep.Date}); err != nil {
		rp.log.Error("daily report not delivered (kept as a page)", "date", rep.Date, "err", err)
	}
	rp.log.Info("daily report", "date", rep.Date, "attention", n, "centres", rep.Centres)
	return rep, nil
}

func regionName(r string) string {
	if r == "" {
		return "(unregistered)"
	}
	return r
}

// Load returns a kept report.
func (rp *Reporter) Load(date string) (*Report, error) {
	b, err := os.ReadFile(filepath.Join(rp.dir, date+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoReport
	}
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report %s: %w", date, err)
	}
	return &r, nil
}

// List returns the kept reports' dates, newest first.
func (rp *Reporter) List() ([]string, error) {
	ents, err := os.ReadDir(rp.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if d, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			out = append(out, d)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out, nil
}

// due returns when the next report is due after t.
func (rp *Reporter) due(t time.Time) time.Time {
	d := startOfDay(t, rp.loc).Add(time.Duration(rp.at) * time.Minute)
	if !d.After(t) {
		d = startOfDay(t, rp.loc).AddDate(0, 0, 1).Add(time.Duration(rp.at) * time.Minute)
	}
	return d
}

// Run makes the report at the configured local time every day; when started after
// that time on a day without a report it makes it at once.
func (rp *Reporter) Run(ctx context.Context) {
	now := rp.now()
	today := now.In(rp.loc).Format("2006-01-02")
	if _, err := rp.Load(today); errors.Is(err, errNoReport) && now.After(startOfDay(now, rp.loc).Add(time.Duration(rp.at)*time.Minute)) {
		if _, err := rp.Make(ctx); err != nil {
			rp.log.Error("daily report", "err", err)
		}
	}
	for {
		wait := rp.due(rp.now()).Sub(rp.now())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		for attempt := 0; ; attempt++ {
			if _, err := rp.Make(ctx); err == nil {
				break
			} else {
				rp.log.Error("daily report", "err", err, "attempt", attempt)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Minute):
			}
			if attempt >= 30 {
				break
			}
		}
	}
}
