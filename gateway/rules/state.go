package rules

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/statefile"
)

// softSaveEvery bounds how often a change that only moves a medicine fridge's
// last reading forward is saved (a hold starting or firing, an excursion
// accounted, a device going offline are saved at the next tick).
const softSaveEvery = time.Minute

// ErrCorruptState is matched by [Check.LoadError] for a state file that could not
// be used (moved aside; the rules start empty).
var ErrCorruptState = statefile.ErrCorrupt

// stateFile is what the rules remember across a restart (version 1): the holds
// running or fired, the devices offline, and each medicine fridge's cumulative
// accounting.
type stateFile struct {
	Saved   time.Time            `json:"saved"`
	Sensors map[string]sensorRec `json:"sensors"`
}

type sensorRec struct {
	Holds        []holdRec  `json:"holds,omitempty"`
	OfflineSince time.Time  `json:"offline_since,omitzero"`
	Fridge       *fridgeRec `json:"fridge,omitempty"`
}

// holdRec is one limit beyond which the value is (Since) and whether it fired.
// Limit identifies the limit by its definition, so that a changed config does not
// apply a hold to a different threshold.
type holdRec struct {
	Limit  string    `json:"limit"`
	Since  time.Time `json:"since"`
	Active bool      `json:"active,omitempty"`
	Value  float64   `json:"value"`
}

type fridgeRec struct {
	LastTemp   float64        `json:"last_temp"`
	LastTempAt time.Time      `json:"last_temp_at"`
	Spans      [][2]time.Time `json:"spans,omitempty"`
}

// key identifies a limit by its definition.
func limitKey(l Limit) string {
	op := "<"
	if l.Above {
		op = ">"
	}
	if l.OrEqual {
		op += "="
	}
	return fmt.Sprintf("%s%s%g/%s/%s/%s", l.Metric, op, l.Value, l.Hold, l.Severity, l.ConditionKind())
}

// file describes the state file at path. A file moved aside is logged as an error
// (a test asserts it): the running holds are lost.
func file(path string, log *slog.Logger) statefile.File {
	return statefile.File{Path: path, Name: "rules state", Version: 1, Logger: log, Level: slog.LevelError,
		Fresh: "running holds and the medicine fridges' 24 h accounting start from empty"}
}

// loadState reads the state file; a missing file is an empty state (nil).
func loadState(path string) (*stateFile, error) { return loadStateFile(file(path, nil)) }

func loadStateFile(f statefile.File) (*stateFile, error) { return statefile.Load(f, validState) }

func validState(st *stateFile) error {
	if st.Saved.IsZero() {
		return errors.New("no save time")
	}
	for id, s := range st.Sensors {
		for i, h := range s.Holds {
			if h.Limit == "" || h.Since.IsZero() {
				return fmt.Errorf("sensor %s: hold %d: missing limit or since", id, i)
			}
		}
		if f := s.Fridge; f != nil {
			if f.LastTempAt.IsZero() {
				return fmt.Errorf("sensor %s: fridge reading without a time", id)
			}
			for i, sp := range f.Spans {
				if sp[0].IsZero() || sp[1].Before(sp[0]) {
					return fmt.Errorf("sensor %s: excursion %d: bad span", id, i)
				}
			}
		}
	}
	return nil
}

// restore applies a loaded state to the sensors (called from New, before the open
// conditions are taken over). Sensors and limits no longer configured are skipped.
func (c *Check) restore(st *stateFile) {
	for id, rec := range st.Sensors {
		s := c.sensors[id]
		if s == nil {
			continue
		}
		for _, h := range rec.Holds {
			for i, l := range s.Limits {
				if limitKey(l) == h.Limit {
					// A running hold goes on from when it started, but fires only once
					// a live reading after the restart says the value is still beyond.
					s.limits[i] = limitState{since: h.Since, active: h.Active, value: h.Value, restored: !h.Active}
				}
			}
		}
		s.offlineSince = rec.OfflineSince
		if f := rec.Fridge; f != nil && s.fridge {
			s.lastTemp, s.lastTempAt, s.haveTemp = f.LastTemp, f.LastTempAt, true
			for _, sp := range f.Spans {
				s.outSpans = append(s.outSpans, span{sp[0], sp[1]})
			}
		}
	}
}

// snapshot returns the state to save. c.mu held.
func (c *Check) snapshot(now time.Time) *stateFile {
	st := &stateFile{Saved: now, Sensors: map[string]sensorRec{}}
	for _, s := range c.order {
		var rec sensorRec
		for i, l := range s.Limits {
			if ls := s.limits[i]; !ls.since.IsZero() {
				rec.Holds = append(rec.Holds, holdRec{Limit: limitKey(l), Since: ls.since, Active: ls.active, Value: ls.value})
			}
		}
		rec.OfflineSince = s.offlineSince
		if s.fridge && s.haveTemp {
			f := &fridgeRec{LastTemp: s.lastTemp, LastTempAt: s.lastTempAt}
			for _, sp := range s.outSpans {
				f.Spans = append(f.Spans, [2]time.Time{sp.from, sp.to})
			}
			rec.Fridge = f
		}
		if rec.Holds != nil || !rec.OfflineSince.IsZero() || rec.Fridge != nil {
			st.Sensors[s.ID] = rec
		}
	}
	return st
}

// maybeSave writes the state when something worth keeping changed. c.mu held.
func (c *Check) maybeSave(now time.Time) {
	if c.opt.StateFile == "" || !c.dirty && !(c.soft && now.Sub(c.savedAt) >= softSaveEvery) {
		return
	}
	if err := file(c.opt.StateFile, nil).Save(c.snapshot(now)); err != nil {
		c.saveErrs++
		if c.opt.Logger != nil {
			c.opt.Logger.Error("saving the rules state: running holds start again after a restart", "file", c.opt.StateFile, "err", err)
		}
		return // tried again at the next tick
	}
	c.dirty, c.soft, c.savedAt = false, false, now
}

// LoadError returns why the state file could not be used at start (nil when it
// was used or there was none).
func (c *Check) LoadError() error { return c.loadErr }

// SaveErrors returns how many saves of the state file failed.
func (c *Check) SaveErrors() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saveErrs
}
