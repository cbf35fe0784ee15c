package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
)

// CentreRow is one centre on the overview.
type CentreRow struct {
	Info       CentreInfo
	Registered bool

	Live, Yesterday       Score
	HasLive, HasYesterday bool
	Month                 float64 // mean rating (the central day score) over 30 days
	HasMonth              bool
	MonthDays             int // days rated in the 30 days
	MonthWithData         int // of which with data
	Coverage              float64
	HasCoverage           bool
	Night                 Night
	HasNight              bool
	OpenCritical          int
	Gateway               GatewayState

	Reasons []Reason // why it needs attention; empty when it does not
}

// Reason is one cause of attention: a message key and its argument.
type Reason struct {
	Key string
	Arg string
}

// overviewSource is what the overview reads (Store).
type overviewSource interface {
	LiveScores(ctx context.Context) (map[string]Score, error)
	RatingDays(ctx context.Context, from, to time.Time, centres []string) (map[string][]Score, error)
	MonthRatings(ctx context.Context, from time.Time, centres []string) (map[string]Month, error)
	LiveCoverage(ctx context.Context) (map[string]float64, error)
	LastNights(ctx context.Context) (map[string]Night, error)
	OpenCritical(ctx context.Context) (map[string]int, error)
}

// startOfDay returns the start of t's local day in loc.
func StartOfDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// overviewData is what the overview joins, per centre id: read from the raw
// measurements (fetchRaw) or from the centre_latest rollup (Store.LatestOverview).
type Figures struct {
	live     map[string]Score
	days     map[string][]Score // rating days around yesterday; each centre takes its own
	month    map[string]Month
	coverage map[string]float64
	nights   map[string]Night
	open     map[string]int
}

func newFigures() *Figures {
	return &Figures{live: map[string]Score{}, days: map[string][]Score{}, month: map[string]Month{},
		coverage: map[string]float64{}, nights: map[string]Night{}, open: map[string]int{}}
}

// buildOverview reads every centre's numbers from the raw measurements and joins them
// with the registered centres and the gateway states. defaultLoc is the time zone of
// unregistered centres.
func BuildOverview(ctx context.Context, src overviewSource, centres []CentreInfo, gw map[string]GatewayState, att Attention, defaultLoc *time.Location, now time.Time) ([]CentreRow, error) {
	d, err := fetchRaw(ctx, src, centres, defaultLoc, now)
	if err != nil {
		return nil, err
	}
	return Assemble(d, centres, gw, att, defaultLoc, now), nil
}

// fetchRaw reads the overview's numbers with six queries run concurrently (none per
// centre).
func fetchRaw(ctx context.Context, src overviewSource, centres []CentreInfo, defaultLoc *time.Location, now time.Time) (*Figures, error) {
	d := &Figures{}
	// Yesterday differs per time zone: one range covering every zone's yesterday,
	// each centre then takes the point at its own local day start.
	var yFrom, yTo time.Time
	locs := map[*time.Location]bool{defaultLoc: true}
	for _, c := range centres {
		locs[c.Location()] = true
	}
	for loc := range locs {
		y := StartOfDay(now, loc).AddDate(0, 0, -1)
		if yFrom.IsZero() || y.Before(yFrom) {
			yFrom = y
		}
		if e := y.Add(time.Second); e.After(yTo) {
			yTo = e
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { d.live, err = src.LiveScores(gctx); return })
	g.Go(func() (err error) { d.days, err = src.RatingDays(gctx, yFrom, yTo, nil); return })
	g.Go(func() (err error) { d.month, err = src.MonthRatings(gctx, now.AddDate(0, 0, -30), nil); return })
	g.Go(func() (err error) { d.coverage, err = src.LiveCoverage(gctx); return })
	g.Go(func() (err error) { d.nights, err = src.LastNights(gctx); return })
	g.Go(func() (err error) { d.open, err = src.OpenCritical(gctx); return })
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	return d, nil
}

// assemble joins d with the registered centres and the gateway states.
func Assemble(d *Figures, centres []CentreInfo, gw map[string]GatewayState, att Attention, defaultLoc *time.Location, now time.Time) []CentreRow {
	live, days, month, coverage, nights, open := d.live, d.days, d.month, d.coverage, d.nights, d.open
	rows := map[string]*CentreRow{}
	for _, c := range centres {
		rows[c.ID] = &CentreRow{Info: c, Registered: true}
	}
	row := func(id string) *CentreRow {
		if r := rows[id]; r != nil {
			return r
		}
		if id == "" {
			return nil
		}
		r := &CentreRow{Info: CentreInfo{ID: id, Name: id, loc: defaultLoc, Timezone: defaultLoc.String()}}
		rows[id] = r
		return r
	}
	for id, s := range live {
		if r := row(id); r != nil {
			r.Live, r.HasLive = s, true
		}
	}
	for id, list := range days {
		r := row(id)
		if r == nil {
			continue
		}
		want := StartOfDay(now, r.Info.Location()).AddDate(0, 0, -1)
		for _, s := range list {
			if s.At.Equal(want) {
				r.Yesterday, r.HasYesterday = s, true
			}
		}
	}
	for id, v := range month {
		if r := row(id); r != nil {
			r.Month, r.HasMonth, r.MonthDays, r.MonthWithData = v.Mean, true, v.Days, v.WithData
		}
	}
	for id, v := range coverage {
		if r := row(id); r != nil {
			r.Coverage, r.HasCoverage = v, true
		}
	}
	for id, n := range nights {
		if r := row(id); r != nil {
			r.Night, r.HasNight = n, true
		}
	}
	for id, n := range open {
		if r := row(id); r != nil {
			r.OpenCritical = n
		}
	}
	for id, s := range gw {
		if r := row(id); r != nil {
			r.Gateway = s
		}
	}
	out := make([]CentreRow, 0, len(rows))
	for _, r := range rows {
		r.Reasons = attention(r, att)
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Info.ID < out[j].Info.ID })
	return out
}

// attention lists why a centre needs attention.
func attention(r *CentreRow, a Attention) []Reason {
	var out []Reason
	if !r.Registered {
		out = append(out, Reason{Key: "reason.unregistered"})
	}
	if r.Gateway.Silent {
		out = append(out, Reason{Key: "reason.silent", Arg: fmtSince(r.Gateway.LastSeen)})
	}
	switch g := r.Gateway.Registry; g.Problem {
	case RegistryUnrated:
		out = append(out, Reason{Key: "reason.unrated", Arg: fmt.Sprintf("v%d", g.InForce)})
	case RegistryOld, RegistryUnknown:
		out = append(out, Reason{Key: "reason.registry", Arg: fmt.Sprintf("v%d ≠ v%d", g.Version, g.InForce)})
	}
	if r.OpenCritical > 0 {
		out = append(out, Reason{Key: "reason.critical", Arg: fmt.Sprint(r.OpenCritical)})
	}
	switch {
	case !r.HasLive:
		out = append(out, Reason{Key: "reason.noscore"})
	case r.Live.Total < a.ScoreBelow:
		out = append(out, Reason{Key: "reason.score", Arg: fmt.Sprintf("%.0f", r.Live.Total)})
	}
	if r.Live.Capped {
		out = append(out, Reason{Key: "reason.capped", Arg: r.Live.Caps})
	}
	if r.HasCoverage && r.Coverage < a.CoverageBelow {
		out = append(out, Reason{Key: "reason.coverage", Arg: fmt.Sprintf("%.0f%%", 100*r.Coverage)})
	}
	if r.HasNight && r.Night.Compliance < a.RoundsBelow {
		out = append(out, Reason{Key: "reason.rounds", Arg: fmt.Sprintf("%.0f%%", 100*r.Night.Compliance)})
	}
	return out
}

func fmtSince(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
