package rounds

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// state is what the check must remember across a restart: tonight's slots, the
// recent scans the plausibility checks compare with, the messages already seen
// (redeliveries), and the night summaries not yet published. It is small: a few
// hundred slots and scans.
type state struct {
	Version int `json:"version"`
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

// errCorrupt marks a state file that cannot be read back.
var errCorrupt = errors.New("state file corrupt")

// loadState reads the state file; a missing file is a fresh state. A file that is
// truncated, corrupt or of another version returns a fresh state and an error
// wrapping errCorrupt.
func loadState(path string) (*state, error) {
	fresh := &state{Version: stateVersion, Seen: map[string]seenRec{}, Last: map[string]scanRec{}, Raised: map[string]telemetry.Condition{}}
	if path == "" {
		return fresh, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fresh, nil
	}
	if err != nil {
		return fresh, fmt.Errorf("rounds: read %s: %w", path, err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fresh, fmt.Errorf("rounds: %w: %s (%d bytes): %v", errCorrupt, path, len(data), err)
	}
	if st.Version != stateVersion {
		return fresh, fmt.Errorf("rounds: %w: %s has version %d, want %d", errCorrupt, path, st.Version, stateVersion)
	}
	if n := st.Night; n != nil && (n.Start.IsZero() || !n.End.After(n.Start) || n.Slots == nil) {
		return fresh, fmt.Errorf("rounds: %w: %s: night %q has no valid window", errCorrupt, path, n.Date)
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
	return &st, nil
}

// saveState writes the state atomically: a temporary file in the same directory,
// fsync, rename over the old file, fsync of the directory. A power cut leaves the
// old file or the new one, never a mix.
func saveState(path string, st *state) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("rounds: encode state: %w", err)
	}
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("rounds: save state: %w", err)
	}
	return nil
}
