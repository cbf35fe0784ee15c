package rounds

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/statefile"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// state is what the check must remember across a restart: tonight's slots, the
// recent scans the plausibility checks compare with, the messages already seen
// (redeliveries), and the night summaries not yet published. It is small: a few
// hundred slots and scans. Its file is at version 1.
type state struct {
	// Night is the night being judged, or the last one judged (Final).
	Night *night `json:"night,omitempty"`
	// Recent scans, oldest first, for the plausibility checks.
	Recent []scanRec `json:"recent,omitempty"`
	// Raised holds the round_missed conditions open, by checkpoint, to raise them
	// again after a restart.
	Raised map[string]telemetry.Condition `json:"raised,omitempty"`
	// Last is each checkpoint's latest scan, for the status page.
	Last map[string]scanRec `json:"last,omitempty"`
	// Seen maps a message's hash to the scan it became, for redeliveries.
	Seen map[string]seenRec `json:"seen,omitempty"`
	// Pending summaries to publish on MQTT, oldest first.
	Pending []pendingSummary `json:"pending,omitempty"`
	// Unsynced: the clock was seen unsynchronised and no night has absorbed it yet.
	Unsynced bool `json:"unsynced,omitempty"`
	// History holds the slots of the nights judged in the last historyDays, for the
	// safety score's compliance over any period.
	History []slotOutcome `json:"history,omitempty"`
}

// slotOutcome is one judged slot: when it ended and whether it was checked on time
// (false for late, missed and every slot of an unknown night).
type slotOutcome struct {
	End    time.Time `json:"end"`
	OnTime bool      `json:"on_time,omitempty"`
}

// historyDays is how long judged slots are kept for Compliance.
const historyDays = 8

type night struct {
	Date          string               `json:"date"` // local date of the window's start
	Start         time.Time            `json:"start"`
	End           time.Time            `json:"end"`
	Unknown       bool                 `json:"unknown,omitempty"`
	UnknownReason string               `json:"unknown_reason,omitempty"`
	Slots         map[string][]slotRec `json:"slots"` // by checkpoint id
	Flagged       int                  `json:"flagged,omitempty"`
	Final         bool                 `json:"final,omitempty"`
}

// Slot statuses.
const (
	statusOpen    = ""
	statusOnTime  = "on_time"
	statusLate    = "late"
	statusMissed  = "missed"
	statusUnknown = "unknown" // ended before the gateway began judging the night
)

type slotRec struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Status string    `json:"status,omitempty"`
	ScanAt time.Time `json:"scan_at,omitzero"`
	LateS  int64     `json:"late_s,omitempty"`
}

// scanRec is one scan as judged.
type scanRec struct {
	At      time.Time `json:"at"`
	CP      string    `json:"cp"`
	Walker  string    `json:"walker,omitempty"` // who scanned: badge, card UID or hand-held reader; "" unknown
	Group   string    `json:"group,omitempty"`  // burst group: the reader, else the walker, else ""
	Reader  string    `json:"reader,omitempty"`
	Staff   string    `json:"staff,omitempty"` // badge id when known
	Tag     string    `json:"tag,omitempty"`
	Source  string    `json:"source"`
	Reason  string    `json:"reason,omitempty"` // why flagged; "" when plausible
	OnTime  bool      `json:"on_time,omitempty"`
	LateS   int64     `json:"late_s,omitempty"`
	Counted bool      `json:"counted,omitempty"`
}

type seenRec struct {
	Until time.Time `json:"until"`
	Scan  scanRec   `json:"scan"`
}

type pendingSummary struct {
	Night   string          `json:"night"`
	Payload json.RawMessage `json:"payload"`
}

// errCorrupt is matched by the error of a state file that could not be used
// (moved aside).
var errCorrupt = statefile.ErrCorrupt

// file describes the state file at path.
func file(path string, log *slog.Logger) statefile.File {
	return statefile.File{Path: path, Name: "rounds state", Version: 1, Fresh: "tonight's rounds are not judged", Logger: log}
}

func validState(st *state) error {
	if n := st.Night; n != nil && (n.Start.IsZero() || !n.End.After(n.Start) || n.Slots == nil) {
		return fmt.Errorf("night %q has no valid window", n.Date)
	}
	return nil
}

// loadState reads the state file; see loadStateFile.
func loadState(path string) (*state, error) { return loadStateFile(file(path, nil)) }

// loadStateFile reads the state file; a missing file (or none) is a fresh state. A
// file that cannot be used returns a fresh state and the error (errCorrupt when the
// file was moved aside).
func loadStateFile(f statefile.File) (*state, error) {
	fresh := &state{Seen: map[string]seenRec{}, Last: map[string]scanRec{}, Raised: map[string]telemetry.Condition{}}
	if f.Path == "" {
		return fresh, nil
	}
	st, err := statefile.Load(f, validState)
	if err != nil {
		return fresh, fmt.Errorf("rounds: %w", err)
	}
	if st == nil {
		return fresh, nil
	}
	if st.Seen == nil {
		st.Seen = map[string]seenRec{}
	}
	if st.Raised == nil {
		st.Raised = map[string]telemetry.Condition{}
	}
	if st.Last == nil {
		st.Last = map[string]scanRec{}
	}
	return st, nil
}

// saveState writes the state atomically: a power cut leaves the old file or the
// new one, never a mix.
func saveState(path string, st *state) error { return file(path, nil).Save(st) }
