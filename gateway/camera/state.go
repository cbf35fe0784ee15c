package camera

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/statefile"
)

// savedState is today's accounting as written to the state file (version 1), so
// that a restart does not rewrite the day's `coverage` point from a fresh start.
type savedState struct {
	DayStart time.Time                   `json:"day_start"`
	Last     time.Time                   `json:"last"`  // accounted up to here
	Zones    map[string][2]time.Duration `json:"zones"` // zone id -> [required, covered]
	// The last closed day per zone kind -> [required, covered], and the last
	// keepDays closed days' overall totals, so that CoverageRatio still answers
	// for them after a restart (the safety score closes a day at 01:00).
	YesterdayStart time.Time                   `json:"yesterday_start,omitzero"`
	Yesterday      map[string][2]time.Duration `json:"yesterday,omitempty"`
	Days           []savedDay                  `json:"days,omitempty"`
	// Live is the per-minute accounting of the 24 hours up to Last, so that the
	// rolling 24 hours (the live coverage, the live score) do not restart empty.
	Live *savedRing `json:"live,omitempty"`
}

// savedRing is the ring in the state file: Kinds are the zone kinds it was kept
// for (a ring of other kinds is not restored); Minutes, base64 of little-endian
// uint32s, per run of consecutive minutes with the same accounting its first Unix
// minute, its length in minutes and, per kind then "all", the time required and
// covered in ms in each of its minutes. Runs keep the file small (a day of steady
// coverage is one run), since it is saved every minute.
type savedRing struct {
	Kinds   []string `json:"kinds"`
	Minutes string   `json:"minutes"`
}

// ringWords is the number of uint32s per run in a savedRing of kinds.
func ringWords(kinds int) int { return 2 + 2*(kinds+1) }

func (c *Check) saveRing() *savedRing {
	last := c.last.Unix() / 60
	var held []int
	for i, m := range c.ring.minute {
		if c.ring.spans[i] != nil && m > last-minutesPerDay && m <= last {
			held = append(held, i)
		}
	}
	if held == nil {
		return nil
	}
	slices.SortFunc(held, func(a, b int) int { return cmp.Compare(c.ring.minute[a], c.ring.minute[b]) })
	var ws []uint32
	n := ringWords(len(c.kinds))
	for j, i := range held {
		m, spans := c.ring.minute[i], c.ring.spans[i]
		if j > 0 {
			p := held[j-1]
			if c.ring.minute[p] == m-1 && slices.Equal(c.ring.spans[p], spans) {
				ws[len(ws)-n+1]++ // one more minute of the run
				continue
			}
		}
		ws = append(ws, uint32(m), 1)
		for _, s := range spans {
			ws = append(ws, uint32(s.Required.Milliseconds()), uint32(s.Covered.Milliseconds()))
		}
	}
	buf := make([]byte, 4*len(ws))
	for i, w := range ws {
		binary.LittleEndian.PutUint32(buf[4*i:], w)
	}
	return &savedRing{Kinds: slices.Clone(c.kinds), Minutes: base64.StdEncoding.EncodeToString(buf)}
}

// decode returns the ring's words, checked for whole runs.
func (r *savedRing) decode() ([]uint32, error) {
	buf, err := base64.StdEncoding.DecodeString(r.Minutes)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	if len(buf)%(4*ringWords(len(r.Kinds))) != 0 {
		return nil, fmt.Errorf("live: %d bytes, not whole runs of %d kinds", len(buf), len(r.Kinds))
	}
	ws := make([]uint32, len(buf)/4)
	for i := range ws {
		ws[i] = binary.LittleEndian.Uint32(buf[4*i:])
	}
	return ws, nil
}

// restoreRing fills the ring with the saved minutes of the 24 hours up to now,
// when they were kept for the same zone kinds.
func (c *Check) restoreRing(r *savedRing, now time.Time) {
	if r == nil || !slices.Equal(r.Kinds, c.kinds) {
		return
	}
	ws, err := r.decode() // checked by validSaved
	if err != nil {
		return
	}
	cur, n := now.Unix()/60, ringWords(len(c.kinds))
	for ; len(ws) >= n; ws = ws[n:] {
		first, count := int64(ws[0]), int64(min(ws[1], minutesPerDay))
		for m := max(first, cur-minutesPerDay+1); m < first+count && m <= cur; m++ {
			b := c.ring.bucket(m, len(c.kinds)+1)
			for k := range b {
				b[k] = Span{Required: time.Duration(ws[2+2*k]) * time.Millisecond, Covered: time.Duration(ws[3+2*k]) * time.Millisecond}
			}
		}
	}
}

// savedDay is a closedDay in the state file.
type savedDay struct {
	Start    time.Time     `json:"start"`
	Required time.Duration `json:"required"`
	Covered  time.Duration `json:"covered"`
}

// file describes the state file at path: version 1; a file written before the
// format had a version is read as version 1.
func (c *Check) file(path string) statefile.File {
	return statefile.File{Path: path, Name: "camera state", Version: 1, ReadUnversioned: true,
		Fresh: "today's coverage restarts from now", Logger: c.log}
}

// snapshotState returns today's accounting, or nil before anything was accounted.
func (c *Check) snapshotState() *savedState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dayStart.IsZero() {
		return nil
	}
	st := &savedState{DayStart: c.dayStart, Last: c.last, Zones: make(map[string][2]time.Duration, len(c.zones))}
	for _, z := range c.zones {
		st.Zones[z.cfg.ID] = [2]time.Duration{z.day.Required, z.day.Covered}
	}
	if c.yesterday != nil {
		st.YesterdayStart = c.yesterdayStart
		st.Yesterday = make(map[string][2]time.Duration, len(c.kinds))
		for i, k := range c.kinds {
			st.Yesterday[k] = [2]time.Duration{c.yesterday[i].Required, c.yesterday[i].Covered}
		}
	}
	for _, d := range c.days {
		st.Days = append(st.Days, savedDay{Start: d.Start, Required: d.Required, Covered: d.Covered})
	}
	st.Live = c.saveRing()
	return st
}

// SaveState writes today's accounting to w, as in the state file; nothing before
// anything was accounted.
func (c *Check) SaveState(w io.Writer) error {
	st := c.snapshotState()
	if st == nil {
		return nil
	}
	data, err := c.file("").Marshal(st)
	if err == nil {
		_, err = w.Write(data)
	}
	return err
}

func validSaved(st *savedState) error {
	if st.DayStart.IsZero() || st.Last.Before(st.DayStart) {
		return errors.New("inconsistent times")
	}
	if st.Live != nil {
		if _, err := st.Live.decode(); err != nil {
			return err
		}
	}
	return nil
}

// LoadState reads what SaveState wrote, before the check's first advance. If the
// first synchronised advance falls on the same local day, the zones' day totals
// continue from it and the time between the save and that advance counts as
// unknown (the gateway was not watching); if it falls on the next day, the saved
// day is closed as yesterday with the rest of it unknown; otherwise the saved day
// is dropped. The closed days' totals are kept in every case.
func (c *Check) LoadState(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("camera state: %w", err)
	}
	if len(data) == 0 {
		return nil // saved before anything was accounted
	}
	st, err := statefile.Decode(c.file(""), data, validSaved)
	if err != nil {
		return fmt.Errorf("camera state: %w", err)
	}
	return c.setRestored(st)
}

// setRestored keeps st for the first advance.
func (c *Check) setRestored(st *savedState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dayStart.IsZero() {
		return errors.New("camera state: the check has already started")
	}
	c.restored = st
	return nil
}

// restore applies the loaded state at the first synchronised advance, now; it
// reports whether it did.
func (c *Check) restore(now time.Time) bool {
	st := c.restored
	c.restored = nil
	if st == nil {
		return false
	}
	today := midnight(now, c.loc)
	for _, d := range st.Days {
		if d.Start.Before(today) && (len(c.days) == 0 || d.Start.After(c.days[len(c.days)-1].Start)) {
			c.days = append(c.days, closedDay{Start: d.Start, Span: Span{Required: d.Required, Covered: d.Covered}})
		}
	}
	if n := len(c.days); n > keepDays {
		c.days = slices.Delete(c.days, 0, n-keepDays)
	}
	if now.Before(st.Last) {
		return false
	}
	c.restoreRing(st.Live, now)
	same := today.Equal(st.DayStart)
	next := today.Equal(midnight(st.DayStart.In(c.loc).Add(36*time.Hour), c.loc))
	if !same && !next {
		return false
	}
	if st.Yesterday != nil && st.YesterdayStart.Before(st.DayStart) {
		c.yesterdayStart = st.YesterdayStart
		c.yesterday = make([]Span, len(c.kinds)+1)
		for i, k := range c.kinds {
			v := st.Yesterday[k]
			c.yesterday[i] = Span{Required: v[0], Covered: v[1]}
		}
		if d := c.closedDay(st.YesterdayStart, st.DayStart); d != nil {
			c.yesterday[len(c.kinds)] = d.Span
		} else {
			for _, v := range st.Yesterday {
				c.yesterday[len(c.kinds)].add(Span{Required: v[0], Covered: v[1]})
			}
		}
	}
	c.dayStart = st.DayStart
	for _, z := range c.zones {
		if v, ok := st.Zones[z.cfg.ID]; ok {
			z.day = Span{Required: v[0], Covered: v[1]}
		} else { // a zone added since: unknown for the day so far
			z.day = Span{Required: st.Last.Sub(st.DayStart)}
		}
	}
	c.integrate(st.Last, now, beforeStart) // closes the saved day at its midnight if next
	return true
}

// PersistTo makes Run keep the state in the file at path: it is loaded now if it
// exists, and saved every minute and at shutdown. A file that cannot be used is
// moved aside and logged (statefile's policy) and its error returned.
func (c *Check) PersistTo(path string) error {
	c.mu.Lock()
	c.stateFile = path
	c.mu.Unlock()
	st, err := statefile.Load(c.file(path), validSaved)
	if err != nil || st == nil {
		return err
	}
	return c.setRestored(st)
}

// Run saves the state every minute and when ctx ends, when PersistTo was called;
// otherwise it just waits for ctx. It returns nil.
func (c *Check) Run(ctx context.Context) error {
	c.mu.Lock()
	path := c.stateFile
	c.mu.Unlock()
	if path == "" {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(pointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := c.SaveTo(path); err != nil {
				c.log.Error("saving the coverage state", "err", err)
			}
			return nil
		case <-t.C:
			if err := c.SaveTo(path); err != nil {
				c.log.Warn("saving the coverage state", "err", err)
			}
		}
	}
}

// SaveTo writes the state file at path atomically; before anything was accounted
// the file (with a state not yet restored) stays as it is. Run calls it; a replay
// of the past hands its coverage with it to the gateway that goes on from it.
func (c *Check) SaveTo(path string) error {
	st := c.snapshotState()
	if st == nil {
		return nil
	}
	return c.file(path).Save(st)
}
