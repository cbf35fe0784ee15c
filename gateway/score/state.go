package score

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// stateFile is the JSON kept in Options.StateFile.
type stateFile struct {
	Version  int        `json:"version"`
	Centre   string     `json:"centre"`
	Timezone string     `json:"timezone"`
	Saved    time.Time  `json:"saved"`
	Days     []stateDay `json:"days"`
}

type stateDay struct {
	Date    string                 `json:"date"`
	Final   bool                   `json:"final,omitempty"`
	Dirty   bool                   `json:"dirty,omitempty"`
	Alive   string                 `json:"alive"`
	Sensors map[string]stateSensor `json:"sensors,omitempty"`
}

type stateSensor struct {
	IntervalS int64  `json:"interval_s"`
	Got       string `json:"got"`
	InBand    string `json:"in_band,omitempty"`
	Serious   string `json:"serious,omitempty"`
}

func encodeBits(b bitset) string {
	if b.count() == 0 {
		return ""
	}
	buf := make([]byte, 8*len(b))
	for i, w := range b {
		binary.LittleEndian.PutUint64(buf[8*i:], w)
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// decodeBits decodes s into a set of n bits; "" is the empty set.
func decodeBits(s string, n int) (bitset, error) {
	b := newBitset(n)
	if s == "" {
		return b, nil
	}
	buf, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(buf) != 8*len(b) {
		return nil, fmt.Errorf("%d bytes for %d bits", len(buf), n)
	}
	for i := range b {
		b[i] = binary.LittleEndian.Uint64(buf[8*i:])
	}
	if r := n % 64; r != 0 && b[len(b)-1]>>r != 0 {
		return nil, fmt.Errorf("bits set past %d", n)
	}
	return b, nil
}

// marshal encodes the ledger; c.mu is held.
func (c *Check) marshal() []byte {
	st := stateFile{Version: stateVersion, Centre: c.opt.Centre, Timezone: c.opt.Location.String(), Saved: c.lastMinute.UTC()}
	for _, d := range c.ledger.sorted() {
		sd := stateDay{Date: d.date, Final: d.final, Dirty: d.dirty, Alive: encodeBits(d.alive)}
		if d.uncommitted { // its day point may not be durable: write it again after a restart
			sd.Final, sd.Dirty = false, false
		}
		for id, s := range d.sensors {
			if sd.Sensors == nil {
				sd.Sensors = map[string]stateSensor{}
			}
			sd.Sensors[id] = stateSensor{IntervalS: int64(s.interval / time.Second),
				Got: encodeBits(s.got), InBand: encodeBits(s.inBand), Serious: encodeBits(s.serious)}
		}
		st.Days = append(st.Days, sd)
	}
	b, _ := json.Marshal(st) // plain types: cannot fail
	return b
}

// writeState writes data to the state file atomically: a temporary file in the same
// directory, fsynced, renamed over the old one, and the directory fsynced.
func (c *Check) writeState(data []byte) error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	if err := atomicfile.Write(c.opt.StateFile, data); err != nil {
		return fmt.Errorf("score state: %w", err)
	}
	return nil
}

// Save writes the state file now (a no-op without one).
func (c *Check) Save() error {
	if c.opt.StateFile == "" {
		return nil
	}
	c.mu.Lock()
	data := c.marshal()
	c.mu.Unlock()
	return c.writeState(data)
}

// load reads the state file into the ledger. A missing file is not an error. A
// file that cannot be parsed is moved aside and reported.
func (c *Check) load() error {
	path := c.opt.StateFile
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("score state %s: %w", path, err)
	}
	if err := c.parseState(data); err != nil {
		err = fmt.Errorf("score state %s: %w", path, err)
		aside := path + ".corrupt"
		if rerr := os.Rename(path, aside); rerr != nil {
			return errors.Join(err, fmt.Errorf("moving it aside: %w", rerr))
		}
		return fmt.Errorf("%w (moved to %s)", err, aside)
	}
	return nil
}

// parseState fills a fresh ledger from data, or fails without touching c.
func (c *Check) parseState(data []byte) error {
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("version %d, want %d", st.Version, stateVersion)
	}
	if st.Centre != c.opt.Centre {
		return fmt.Errorf("written for centre %q, this is %q", st.Centre, c.opt.Centre)
	}
	l := newLedger(c.opt.Location, c.ledger.sensors)
	for i, sd := range st.Days {
		t, err := time.ParseInLocation(time.DateOnly, sd.Date, c.opt.Location)
		if err != nil {
			return fmt.Errorf("days[%d].date: %w", i, err)
		}
		if _, dup := l.days[sd.Date]; dup {
			return fmt.Errorf("days[%d]: day %s twice", i, sd.Date)
		}
		d := l.day(t)
		d.final, d.dirty = sd.Final, sd.Dirty
		if d.alive, err = decodeBits(sd.Alive, d.minutes()); err != nil {
			return fmt.Errorf("days[%d].alive: %w", i, err)
		}
		for id, ss := range sd.Sensors {
			j, ok := l.byID[id]
			if !ok {
				continue // no longer configured
			}
			iv := time.Duration(ss.IntervalS) * time.Second
			if iv != l.sensors[j].Interval {
				c.log.Warn("sensor interval changed; its day restarts", "sensor", id, "date", sd.Date)
				continue
			}
			s := newSensorDay(iv, d.end.Sub(d.start))
			for _, f := range []struct {
				name string
				src  string
				dst  *bitset
			}{{"got", ss.Got, &s.got}, {"in_band", ss.InBand, &s.inBand}, {"serious", ss.Serious, &s.serious}} {
				if *f.dst, err = decodeBits(f.src, s.slots); err != nil {
					return fmt.Errorf("days[%d].sensors[%s].%s: %w", i, id, f.name, err)
				}
			}
			d.sensors[id] = s
		}
	}
	c.ledger = l
	return nil
}
