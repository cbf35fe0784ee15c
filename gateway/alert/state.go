package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

type stateFile struct {
	Version        int      `json:"version"`
	Seq            uint64   `json:"seq"`
	TelegramOffset int64    `json:"telegram_offset,omitempty"`
	Open           []*Alert `json:"open"`
	Recent         []*Alert `json:"recent,omitempty"`
}

// ErrCorruptState wraps the reason a state file could not be used.
var ErrCorruptState = errors.New("alert state file unusable")

// load restores the state; e.mu not needed (called from New).
func (e *Engine) load() error {
	path := e.opt.StateFile
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("alert state %s: %w", path, err)
	}
	var st stateFile
	err = json.Unmarshal(data, &st)
	if err == nil {
		err = validState(&st)
	}
	if err != nil {
		aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().UnixNano())
		if rerr := os.Rename(path, aside); rerr != nil {
			aside = "(could not move it aside: " + rerr.Error() + ")"
		}
		return fmt.Errorf("%w: %s (%d bytes): %w; moved to %s, starting with no open alerts", ErrCorruptState, path, len(data), err, aside)
	}
	e.seq, e.offset, e.recent = st.Seq, st.TelegramOffset, st.Recent
	for _, a := range st.Open {
		if a.Sent == nil {
			a.Sent = map[string]bool{}
		}
		migrateAckKeys(a)
		e.open[a.ID] = a
		if a.State != Resolved {
			e.byCond[[2]string{a.Kind, a.Subject}] = a.ID
		}
	}
	return nil
}

func validState(st *stateFile) error {
	if st.Version != stateVersion {
		return fmt.Errorf("version %d, want %d", st.Version, stateVersion)
	}
	seen := map[string]bool{}
	for i, a := range st.Open {
		switch {
		case a == nil:
			return fmt.Errorf("open[%d]: null", i)
		case a.ID == "" || a.Kind == "" || a.Subject == "":
			return fmt.Errorf("open[%d]: missing id, kind or subject", i)
		case seen[a.ID]:
			return fmt.Errorf("open[%d]: duplicate id %q", i, a.ID)
		case a.State != Firing && a.State != Acknowledged && a.State != Resolved:
			return fmt.Errorf("open[%d]: unknown state %q", i, a.State)
		case a.Severity < 1 || a.Severity > 2:
			return fmt.Errorf("open[%d]: unknown severity %d", i, a.Severity)
		}
		seen[a.ID] = true
	}
	for i, a := range st.Recent {
		if a == nil {
			return fmt.Errorf("recent[%d]: null", i)
		}
	}
	return nil
}

// save writes the state atomically (temp file, fsync, rename, fsync of the
// directory). A failure is logged and counted: the state in memory stays right and
// the next change tries again. e.mu held.
func (e *Engine) save() {
	st := stateFile{Version: stateVersion, Seq: e.seq, TelegramOffset: e.offset, Open: e.sorted(), Recent: e.recent}
	data, err := json.Marshal(st)
	if err == nil {
		err = atomicfile.Write(e.opt.StateFile, data)
	}
	if err != nil {
		e.errs++
		e.log.Error("saving the alert state", "file", e.opt.StateFile, "err", err)
	}
}

// migrateAckKeys renames the acknowledgement keys of a state file written before
// they carried the severity (wh/acknowledged, mq/acknowledged, r/ack/<name>). An
// acknowledgement is cleared when the severity rises, so while a is acknowledged
// (or resolved after one) they belong to its current severity; otherwise they
// belong to an earlier, lower one and are forgotten.
func migrateAckKeys(a *Alert) {
	sev := a.Severity.String()
	renamed := map[string]bool{}
	for k, v := range a.Sent {
		var nk string
		switch name, ok := strings.CutPrefix(k, "r/ack/"); {
		case k == "wh/acknowledged" || k == "mq/acknowledged":
			nk = k + "/" + sev
		case ok && slices.Contains(a.Told, name):
			nk = "r/ack/" + sev + "/" + name
		default:
			continue
		}
		delete(a.Sent, k)
		if a.AckedBy != "" {
			renamed[nk] = v
		}
	}
	for k, v := range renamed {
		a.Sent[k] = v
	}
}
