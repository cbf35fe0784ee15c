package store

import (
	"errors"
	"time"
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

// ErrNoReport means no report was kept for that date.
var ErrNoReport = errors.New("no such report")
