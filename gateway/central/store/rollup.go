package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// Rollup writes climate_1h: per centre, zone and hour, the mean, min and max of the
// zone's temperature readings (tags centre, zone, zone_kind; fields mean, min, max,
// n), stamped at the start of the hour. The centre page's 7-day charts read it (168
// points per zone instead of thousands of raw readings). On InfluxDB 2.x the same
// rollup can run as a task instead (deploy/central/influx-setup.sh); then leave the
// monitor's rollup off. Its cursor (the first hour not yet rolled up) is kept in
// state_dir/rollup.json.
type Rollup struct {
	store    *Store
	path     string
	backfill time.Duration
	log      *slog.Logger
	now      func() time.Time
	// centres, when set, are rolled up RollupChunk at a time (a query over every
	// centre's climate series at once exceeds the client's timeout at 2,000 centres on
	// InfluxDB 1.8); centres not listed are not rolled up. Nil: every centre in one
	// query per function.
	centres []string
}

// RollupChunk is the number of centres per rollup query.
const RollupChunk = 100

// NewRollup returns a rollup that starts at most backfillDays back.
func NewRollup(store *Store, dir string, backfillDays int, log *slog.Logger, now func() time.Time) *Rollup {
	if now == nil {
		now = time.Now
	}
	return &Rollup{store: store, path: filepath.Join(dir, "rollup.json"), backfill: time.Duration(backfillDays) * 24 * time.Hour, log: log, now: now}
}

// Centres returns the centres rolled up RollupChunk at a time (nil: all at once).
func (r *Rollup) Centres() []string { return r.centres }

// SetCentres has the rollup query these centres RollupChunk at a time, and no
// others; nil: every centre in one query (Centres).
func (r *Rollup) SetCentres(ids []string) { r.centres = ids }

type rollupState struct {
	Next time.Time `json:"next"` // the first hour not rolled up
}

func (r *Rollup) cursor() (time.Time, error) {
	b, err := os.ReadFile(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	var st rollupState
	if err := json.Unmarshal(b, &st); err != nil {
		return time.Time{}, fmt.Errorf("rollup state %s: %w", r.path, err)
	}
	return st.Next, nil
}

// Step rolls up every complete hour since the cursor (a day per query) and returns
// how many hours it did. A late point (a gateway's spool draining after an outage)
// lands in an hour already rolled up only if it is re-rolled: the last lateHours are
// always redone.
func (r *Rollup) Step(ctx context.Context) (int, error) {
	const lateHours = 3
	now := r.now()
	end := now.Truncate(time.Hour)
	next, err := r.cursor()
	if err != nil {
		return 0, err
	}
	start := end.Add(-r.backfill)
	if !next.IsZero() {
		if redo := next.Add(-lateHours * time.Hour); redo.After(start) {
			start = redo
		}
	}
	done := 0
	for from := start; from.Before(end); {
		to := from.Add(24 * time.Hour)
		if to.After(end) {
			to = end
		}
		if err := r.rollRange(ctx, from, to); err != nil {
			return done, err
		}
		done += int(to.Sub(from) / time.Hour)
		from = to
		b, _ := json.Marshal(rollupState{Next: to})
		if err := atomicfile.Write(r.path, b); err != nil {
			return done, err
		}
	}
	return done, nil
}

// rollRange rolls up the hours in [from, to) of every centre, a chunk at a time.
func (r *Rollup) rollRange(ctx context.Context, from, to time.Time) error {
	if r.centres == nil {
		return r.rollChunk(ctx, from, to, nil)
	}
	for i := 0; i < len(r.centres); i += RollupChunk {
		if err := r.rollChunk(ctx, from, to, r.centres[i:min(i+RollupChunk, len(r.centres))]); err != nil {
			return err
		}
	}
	return nil
}

// rollChunk rolls up the hours in [from, to) of the given centres (nil: all).
func (r *Rollup) rollChunk(ctx context.Context, from, to time.Time, centres []string) error {
	type key struct {
		centre, zone, kind string
		t                  int64
	}
	type agg struct{ mean, min, max, n float64 }
	aggs := map[key]*agg{}
	var order []key
	for _, fn := range []string{"mean", "min", "max", "count"} {
		rows, err := r.store.Query(ctx, r.store.from()+` |> range(start: `+fluxTime(from)+`, stop: `+fluxTime(to)+`)
  |> filter(fn: (r) => r._measurement == "climate" and r._field == "temperature_c"`+centreFilter(centres)+`)
  |> group(columns: ["centre", "zone", "zone_kind"])
  |> aggregateWindow(every: 1h, fn: `+fn+`, createEmpty: false, timeSrc: "_start")`, "centre", "zone", "zone_kind")
		if err != nil {
			return fmt.Errorf("rollup %s..%s: %w", fluxTime(from), fluxTime(to), err)
		}
		for _, row := range rows {
			k := key{row.Centre(), row.Tags["zone"], row.Tags["zone_kind"], row.Time.UnixNano()}
			a := aggs[k]
			if a == nil {
				a = &agg{}
				aggs[k] = a
				order = append(order, k)
			}
			v, _ := row.Float()
			switch fn {
			case "mean":
				a.mean = v
			case "min":
				a.min = v
			case "max":
				a.max = v
			case "count":
				a.n = v
			}
		}
	}
	lines := make([]string, 0, len(order))
	for _, k := range order {
		a := aggs[k]
		if k.centre == "" || a.n == 0 {
			continue
		}
		var b strings.Builder
		b.WriteString("climate_1h,centre=" + escTag(k.centre))
		if k.zone != "" {
			b.WriteString(",zone=" + escTag(k.zone))
		}
		if k.kind != "" {
			b.WriteString(",zone_kind=" + escTag(k.kind))
		}
		fmt.Fprintf(&b, " mean=%s,min=%s,max=%s,n=%di %d", ff(a.mean), ff(a.min), ff(a.max), int64(a.n), k.t)
		lines = append(lines, b.String())
	}
	for i := 0; i < len(lines); i += 5000 {
		j := min(i+5000, len(lines))
		if err := r.store.Write(ctx, strings.Join(lines[i:j], "\n")); err != nil {
			return err
		}
	}
	r.log.Debug("rollup", "from", from, "to", to, "points", len(lines))
	return nil
}

func ff(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func escTag(s string) string {
	return strings.NewReplacer(",", `\,`, "=", `\=`, " ", `\ `).Replace(s)
}

// Run rolls up every few minutes until ctx ends.
func (r *Rollup) Run(ctx context.Context, every time.Duration) {
	for {
		if n, err := r.Step(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("rollup", "err", err, "hours_done", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
