package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// overviewer builds the overview of every centre (Server.Overview with a ministry user).
type overviewer func(ctx context.Context) ([]store.CentreRow, error)

// Reporter makes the daily report at a local time, keeps it (JSON for the pages, an
// HTML page for the record) and sends a summary through the notifier.
type Reporter struct {
	dir    string
	at     int // minutes after local midnight
	loc    *time.Location
	build  overviewer
	notify Notifier
	render RenderFunc
	log    *slog.Logger
	now    func() time.Time
}

// RenderFunc writes a report's HTML page, kept beside its JSON for the record
// (the web app's report page: web.ReportRenderer).
type RenderFunc func(w io.Writer, rep *store.Report) error

// NewReporter keeps reports under dir.
func NewReporter(dir string, atMinutes int, loc *time.Location, build overviewer, render RenderFunc, n Notifier, log *slog.Logger, now func() time.Time) (*Reporter, error) {
	if now == nil {
		now = time.Now
	}
	if render == nil {
		return nil, errors.New("reports: no HTML renderer")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	return &Reporter{dir: dir, at: atMinutes, loc: loc, build: build, notify: n, render: render, log: log, now: now}, nil
}

// Make builds, keeps and sends the report of now's local date.
func (rp *Reporter) Make(ctx context.Context) (*store.Report, error) {
	now := rp.now()
	rows, err := rp.build(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	rep := &store.Report{Date: now.In(rp.loc).Format("2006-01-02"), Generated: now.UTC(), Centres: len(rows)}
	byRegion := map[string]*store.ReportRegion{}
	for _, c := range rows {
		g := byRegion[c.Info.Region]
		if g == nil {
			g = &store.ReportRegion{Region: c.Info.Region, Items: []store.ReportCentre{}}
			byRegion[c.Info.Region] = g
		}
		g.Centres++
		if len(c.Reasons) == 0 {
			continue
		}
		item := store.ReportCentre{ID: c.Info.ID, Name: c.Info.Name, Reasons: c.Reasons}
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
	if err := rp.render(&html, rep); err != nil {
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
func (rp *Reporter) Load(date string) (*store.Report, error) {
	b, err := os.ReadFile(filepath.Join(rp.dir, date+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, store.ErrNoReport
	}
	if err != nil {
		return nil, err
	}
	var r store.Report
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
	d := store.StartOfDay(t, rp.loc).Add(time.Duration(rp.at) * time.Minute)
	if !d.After(t) {
		d = store.StartOfDay(t, rp.loc).AddDate(0, 0, 1).Add(time.Duration(rp.at) * time.Minute)
	}
	return d
}

// Run makes the report at the configured local time every day; when started after
// that time on a day without a report it makes it at once.
func (rp *Reporter) Run(ctx context.Context) {
	now := rp.now()
	today := now.In(rp.loc).Format("2006-01-02")
	if _, err := rp.Load(today); errors.Is(err, store.ErrNoReport) && now.After(store.StartOfDay(now, rp.loc).Add(time.Duration(rp.at)*time.Minute)) {
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
