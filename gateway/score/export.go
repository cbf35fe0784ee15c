package score

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api"
)

// FluxQuerier runs a Flux query; influxdb-client-go's api.QueryAPI satisfies it.
type FluxQuerier interface {
	Query(ctx context.Context, query string) (*api.QueryTableResult, error)
}

// DayRow is one day's score as read back from InfluxDB.
type DayRow struct {
	Date           string              `json:"date"` // local date, 2006-01-02
	Total          float64             `json:"total"`
	Components     map[string]*float64 `json:"components"` // nil: not applicable
	Caps           []string            `json:"caps"`
	Capped         bool                `json:"capped"`
	WeightsVersion string              `json:"weights_version"`
}

// ReadDays reads the centre's safety_score day points for the local days from..to
// (inclusive, in loc) from bucket, oldest first.
func ReadDays(ctx context.Context, q FluxQuerier, bucket, centre string, loc *time.Location, from, to time.Time) ([]DayRow, error) {
	y, m, d := from.In(loc).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, loc)
	y, m, d = to.In(loc).Date()
	stop := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	flux := fmt.Sprintf(`from(bucket: %s)
  |> range(start: %s, stop: %s)
  |> filter(fn: (r) => r._measurement == "safety_score" and r.centre == %s and r.period == "day")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`,
		strconv.Quote(bucket), start.UTC().Format(time.RFC3339), stop.UTC().Format(time.RFC3339), strconv.Quote(centre))
	res, err := q.Query(ctx, flux)
	if err != nil {
		return nil, fmt.Errorf("score: query %s: %w", bucket, err)
	}
	defer res.Close()
	byDate := map[string]*DayRow{}
	var order []string
	for res.Next() {
		rec := res.Record()
		if rec.Time().Before(start) || !rec.Time().Before(stop) {
			continue // InfluxDB 1.8 includes the range's stop
		}
		date := rec.Time().In(loc).Format(time.DateOnly)
		row := byDate[date]
		if row == nil {
			row = &DayRow{Date: date, Components: map[string]*float64{}, Caps: []string{}}
			for i := range NumComponents {
				row.Components[i.String()] = nil
			}
			byDate[date] = row
			order = append(order, date)
		}
		for k, v := range rec.Values() {
			switch k {
			case "total":
				row.Total, _ = v.(float64)
			case "caps":
				if s, _ := v.(string); s != "" {
					row.Caps = strings.Split(s, ",")
				}
			case "capped":
				row.Capped, _ = v.(bool)
			case "weights_version":
				row.WeightsVersion, _ = v.(string)
			default:
				if f, ok := v.(float64); ok {
					if _, known := row.Components[k]; known {
						row.Components[k] = &f
					}
				}
			}
		}
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("score: reading the answer: %w", err)
	}
	rows := make([]DayRow, 0, len(order))
	for _, d := range order {
		rows = append(rows, *byDate[d])
	}
	sortRows(rows)
	return rows, nil
}

func sortRows(rows []DayRow) {
	for i := 1; i < len(rows); i++ { // few rows; dates sort as strings
		for j := i; j > 0 && rows[j].Date < rows[j-1].Date; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// WriteCSV writes rows as CSV with a header; a component that is not applicable
// is an empty cell.
func WriteCSV(w io.Writer, rows []DayRow) error {
	cw := csv.NewWriter(w)
	head := []string{"date", "total"}
	for i := range NumComponents {
		head = append(head, i.String())
	}
	head = append(head, "caps", "capped", "weights_version")
	cw.Write(head)
	for _, r := range rows {
		rec := []string{r.Date, formatNum(r.Total)}
		for i := range NumComponents {
			cell := ""
			if v := r.Components[i.String()]; v != nil {
				cell = formatNum(*v)
			}
			rec = append(rec, cell)
		}
		rec = append(rec, strings.Join(r.Caps, ","), strconv.FormatBool(r.Capped), r.WeightsVersion)
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// formatNum prints v to 9 decimals without trailing zeros (65.50000000000001 is
// 65.5).
func formatNum(v float64) string { return strconv.FormatFloat(math.Round(v*1e9)/1e9, 'f', -1, 64) }

// WriteJSON writes rows as an indented JSON array.
func WriteJSON(w io.Writer, rows []DayRow) error {
	if rows == nil {
		rows = []DayRow{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}
