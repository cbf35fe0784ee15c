package score

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/statefile"
)

// stateFile is the JSON kept in Options.StateFile (version 2: temperature
// readings instead of version 1's in-band slots; a version 1 file is set aside).
type stateFile struct {
	Centre   string    `json:"centre"`
	Timezone string    `json:"timezone"`
	Saved    time.Time `json:"saved"`
	// Installed is when the gateway first ran (see ledger.installed); a file
	// without it (written before it was kept) takes its oldest day's start.
	Installed time.Time  `json:"installed,omitzero"`
	Days      []stateDay `json:"days"`
}

type stateDay struct {
	Date    string                 `json:"date"`
	Final   bool                   `json:"final,omitempty"`
	Dirty   bool                   `json:"dirty,omitempty"`
	Alive   string                 `json:"alive"`
	Sensors map[string]stateSensor `json:"sensors,omitempty"`
}

type stateSensor struct {
	IntervalS int64 `json:"interval_s"`
	// Reads are the climate readings' offsets from the day's start in ms, 4 bytes
	// little-endian each, in order; base64.
	Reads string `json:"reads,omitempty"`
	// Temps are the temperature readings: per reading 4 bytes little-endian,
	// offset from the day's start in ms << 1 | in band; base64.
	Temps   string `json:"temps,omitempty"`
	Serious string `json:"serious,omitempty"`
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

// encodeWords encodes n 32-bit words, word(i) each, as base64 of little-endian
// bytes ("" for none).
func encodeWords(n int, word func(i int) uint32) string {
	if n == 0 {
		return ""
	}
	buf := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(buf[4*i:], word(i))
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// decodeWords decodes what encodeWords wrote.
func decodeWords(s string) ([]uint32, error) {
	if s == "" {
		return nil, nil
	}
	buf, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(buf)%4 != 0 {
		return nil, fmt.Errorf("%d bytes, not a multiple of 4", len(buf))
	}
	out := make([]uint32, len(buf)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(buf[4*i:])
	}
	return out, nil
}

func encodeReads(rs []int32) string {
	return encodeWords(len(rs), func(i int) uint32 { return uint32(rs[i]) })
}

// decodeReads decodes the reading offsets of a day dayLen long; they must be in
// order, each once, and inside the day.
func decodeReads(s string, dayLen time.Duration) ([]int32, error) {
	ws, err := decodeWords(s)
	if err != nil || ws == nil {
		return nil, err
	}
	out := make([]int32, 0, len(ws))
	for i, w := range ws {
		r := int32(w)
		if r < 0 || time.Duration(r)*time.Millisecond >= dayLen {
			return nil, fmt.Errorf("reading %d at %dms, outside the day", i, r)
		}
		if n := len(out); n > 0 && r <= out[n-1] {
			return nil, fmt.Errorf("reading %d out of order", i)
		}
		out = append(out, r)
	}
	return out, nil
}

func encodeTemps(ts []temp) string {
	return encodeWords(len(ts), func(i int) uint32 {
		v := uint32(ts[i].off()) << 1 // the state file's bit is set when in band
		if ts[i].in() {
			v |= 1
		}
		return v
	})
}

// decodeTemps decodes the readings of a day dayLen long; they must be in order
// and inside the day.
func decodeTemps(s string, dayLen time.Duration) ([]temp, error) {
	ws, err := decodeWords(s)
	if err != nil || ws == nil {
		return nil, err
	}
	out := make([]temp, 0, len(ws))
	for i, v := range ws {
		t := newTemp(int32(v>>1), v&1 == 1)
		if time.Duration(t.off())*time.Millisecond >= dayLen {
			return nil, fmt.Errorf("reading %d at %dms, past the day's end", i, t.off())
		}
		if n := len(out); n > 0 && t <= out[n-1] {
			return nil, fmt.Errorf("reading %d out of order", i)
		}
		out = append(out, t)
	}
	return out, nil
}

// marshal encodes the ledger; c.mu is held.
func (c *Check) marshal() []byte {
	st := stateFile{Centre: c.opt.Centre, Timezone: c.opt.Location.String(), Saved: c.lastMinute.UTC(), Installed: c.ledger.installed.UTC()}
	if c.ledger.installed.IsZero() {
		st.Installed = time.Time{}
	}
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
				Reads: encodeReads(s.reads), Temps: encodeTemps(s.temps), Serious: encodeBits(s.serious)}
		}
		st.Days = append(st.Days, sd)
	}
	b, _ := c.file("").Marshal(st) // plain types: cannot fail
	return b
}

// file describes the state file at path.
func (c *Check) file(path string) statefile.File {
	return statefile.File{Path: path, Name: "score state", Version: 2, Fresh: "starting empty", Logger: c.log}
}

// writeState writes data to the state file atomically.
func (c *Check) writeState(data []byte) error { return c.writeStateTo(c.opt.StateFile, data) }

func (c *Check) writeStateTo(path string, data []byte) error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	return c.file(path).Write(data)
}

// Save writes the state file now (a no-op without one).
func (c *Check) Save() error {
	if c.opt.StateFile == "" {
		return nil
	}
	return c.SaveTo(c.opt.StateFile)
}

// SaveTo writes the state to the file at path, as Save does to the state file: a
// replay of the past hands its days to the gateway that goes on from them.
func (c *Check) SaveTo(path string) error {
	c.mu.Lock()
	data := c.marshal()
	c.mu.Unlock()
	return c.writeStateTo(path, data)
}

// load reads the state file into the ledger. A missing file is not an error; an
// unusable one is moved aside, logged and reported (statefile's policy).
func (c *Check) load() error {
	_, err := statefile.Load(c.file(c.opt.StateFile), c.parseState)
	return err
}

// parseState fills a fresh ledger from st, or fails without touching c.
func (c *Check) parseState(st *stateFile) error {
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
			}{{"serious", ss.Serious, &s.serious}} {
				if *f.dst, err = decodeBits(f.src, s.slots); err != nil {
					return fmt.Errorf("days[%d].sensors[%s].%s: %w", i, id, f.name, err)
				}
			}
			if s.reads, err = decodeReads(ss.Reads, d.end.Sub(d.start)); err != nil {
				return fmt.Errorf("days[%d].sensors[%s].reads: %w", i, id, err)
			}
			if s.temps, err = decodeTemps(ss.Temps, d.end.Sub(d.start)); err != nil {
				return fmt.Errorf("days[%d].sensors[%s].temps: %w", i, id, err)
			}
			d.sensors[id] = s
		}
	}
	l.installed = st.Installed
	if l.installed.IsZero() {
		l.installed = l.oldest()
	}
	c.ledger = l
	return nil
}
