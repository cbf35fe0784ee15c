package alert

import (
	"fmt"
	"slices"
	"strings"

	"github.com/saqshy/saqshy/gateway/internal/statefile"
)

// stateFile is the JSON kept in Options.StateFile (version 1).
type stateFile struct {
	Seq            uint64   `json:"seq"`
	TelegramOffset int64    `json:"telegram_offset,omitempty"`
	Open           []*Alert `json:"open"`
	Recent         []*Alert `json:"recent,omitempty"`
}

// ErrCorruptState is matched by the error of New for a state file that could not
// be used (moved aside; the engine starts with no open alerts).
var ErrCorruptState = statefile.ErrCorrupt

// file describes the state file.
func (e *Engine) file() statefile.File {
	return statefile.File{Path: e.opt.StateFile, Name: "alert state", Version: 1,
		Fresh: "starting with no open alerts", Logger: e.log, Now: e.opt.Now}
}

// load restores the state; e.mu not needed (called from New).
func (e *Engine) load() error {
	st, err := statefile.Load(e.file(), validState)
	if err != nil || st == nil {
		return err
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

// save writes the state atomically. A failure is logged and counted: the state in
// memory stays right and the next change tries again. e.mu held.
func (e *Engine) save() {
	err := e.file().Save(stateFile{Seq: e.seq, TelegramOffset: e.offset, Open: e.sorted(), Recent: e.recent})
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
