package status

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/statefile"
)

// The history's state file keeps the rings (never the raw messages, which may
// hold secrets) across restarts, so that the page's charts show the last day
// from the first minute. It is a statefile JSON object, version 1:
//
//	{"version":1,"bucket_s":600,"sensors":{"<sensor>":"<base64>",...}}
//
// where each sensor's value is its buckets holding readings, oldest first, 20
// bytes each, little-endian: the slot (Unix time / bucket_s, int32), the minimum,
// maximum and sum (float32 bits) and the number of readings (uint32). A sensor's
// full day is 2,880 bytes, 3,840 in base64.
const (
	historyVersion = 1
	bucketBytes    = 20
	// historyFileFixed and historyFileSensor bound the file's size: what a
	// sensor's full ring takes with the longest ID, JSON-escaped, and a margin.
	historyFileFixed  = 4 << 10
	historyFileSensor = 4<<10 + 6*64
	// historyFileSensors bounds the sensors of a file read by a history that keeps
	// every sensor (NewHistory without names); historyFileRemoved is the room left
	// for sensors saved but no longer kept (a config that dropped or renamed
	// some).
	historyFileSensors = 4096
	historyFileRemoved = 256
)

type historyState struct {
	BucketS int64             `json:"bucket_s"`
	Sensors map[string]string `json:"sensors"`
}

// historyFile describes the state file at path for a history keeping n sensors
// (0: any), with its size bound.
func historyFile(path string, n int) statefile.File {
	if n == 0 {
		n = historyFileSensors
	} else {
		n += historyFileRemoved
	}
	return statefile.File{Path: path, Name: "status page history", Version: historyVersion,
		MaxBytes: historyFileFixed + int64(n)*historyFileSensor}
}

// SaveTo writes the rings' buckets of the 24 h up to now (and any later: a clock
// set back) to the file at path, atomically (a power cut leaves the old file or
// the new one). With no such bucket it writes nothing and a file from before
// stays as it is (a ring restored from it is not yet refreshed, or it could not
// be read). The raw messages are not saved.
func (h *History) SaveTo(path string, now time.Time) error {
	oldest := int32(now.Unix()/int64(HistoryBucket/time.Second)) - HistoryBuckets + 1
	st := historyState{BucketS: int64(HistoryBucket / time.Second), Sensors: map[string]string{}}
	h.mu.Lock()
	n := len(h.allowed)
	var buf []byte
	for sensor, r := range h.rings {
		buf = appendRing(buf[:0], r, oldest)
		if len(buf) > 0 {
			st.Sensors[sensor] = base64.StdEncoding.EncodeToString(buf)
		}
	}
	h.mu.Unlock()
	if len(st.Sensors) == 0 {
		return nil
	}
	return historyFile(path, n).Save(&st)
}

// appendRing appends r's buckets holding readings from slot oldest on, in slot
// order, to buf.
func appendRing(buf []byte, r *ring, oldest int32) []byte {
	bs := make([]*bucket, 0, HistoryBuckets)
	for i := range r {
		// A bucket LoadFrom would refuse (a value float32 cannot hold) is not saved.
		if b := &r[i]; b.slot > 0 && b.slot >= oldest && b.n > 0 && finite(b.min) && finite(b.max) && finite(b.sum) {
			bs = append(bs, b)
		}
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].slot < bs[j].slot })
	for _, b := range bs {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(b.slot))
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(b.min))
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(b.max))
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(b.sum))
		buf = binary.LittleEndian.AppendUint32(buf, b.n)
	}
	return buf
}

// LoadFrom adds the rings saved by SaveTo at path, for the sensors the history
// keeps (others are skipped), and returns how many sensors it restored. A bucket
// replaces only an older one of its place in the ring. Buckets older than 24 h
// are kept but never shown, and are replaced like any other. A missing file is a
// first start: 0, nil. A file that cannot be used (truncated, not JSON, another
// version or bucket size, a bucket that is not one the rings could hold, larger
// than the sensors' rings can be) is moved aside to <path>.corrupt-<time> and
// reported as an error naming the file and what was wrong (errors.Is
// statefile.ErrCorrupt); the history then has nothing of it. Call it before the
// history is fed.
func (h *History) LoadFrom(path string) (int, error) {
	h.mu.Lock()
	n := len(h.allowed)
	h.mu.Unlock()
	st, err := statefile.Load(historyFile(path, n), validHistory)
	if err != nil || st == nil {
		return 0, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	restored := 0
	for sensor, enc := range st.Sensors {
		r := h.ring(sensor)
		if r == nil {
			continue // no longer configured
		}
		data, _ := base64.StdEncoding.DecodeString(enc) // validHistory decoded it
		for i := 0; i < len(data); i += bucketBytes {
			b := decodeBucket(data[i:])
			if p := &r[int(b.slot)%HistoryBuckets]; p.slot < b.slot {
				*p = b
			}
		}
		restored++
	}
	return restored, nil
}

func decodeBucket(p []byte) bucket {
	return bucket{
		slot: int32(binary.LittleEndian.Uint32(p)),
		min:  math.Float32frombits(binary.LittleEndian.Uint32(p[4:])),
		max:  math.Float32frombits(binary.LittleEndian.Uint32(p[8:])),
		sum:  math.Float32frombits(binary.LittleEndian.Uint32(p[12:])),
		n:    binary.LittleEndian.Uint32(p[16:]),
	}
}

// validHistory checks a loaded file: the bucket size, and for each sensor
// buckets in slot order, each in its own place of the ring, with readings and
// finite values.
func validHistory(st *historyState) error {
	if want := int64(HistoryBucket / time.Second); st.BucketS != want {
		return fmt.Errorf("buckets of %d s, want %d s", st.BucketS, want)
	}
	for sensor, enc := range st.Sensors {
		if err := validRing(enc); err != nil {
			return fmt.Errorf("sensor %q: %w", sensor, err)
		}
	}
	return nil
}

func validRing(enc string) error {
	data, err := base64.StdEncoding.DecodeString(enc)
	switch {
	case err != nil:
		return err
	case len(data) == 0:
		return errors.New("no buckets")
	case len(data)%bucketBytes != 0:
		return fmt.Errorf("%d bytes, not a multiple of %d", len(data), bucketBytes)
	case len(data) > HistoryBuckets*bucketBytes:
		return fmt.Errorf("%d buckets, more than the ring's %d", len(data)/bucketBytes, HistoryBuckets)
	}
	var used [HistoryBuckets]bool
	var last int32
	for i := 0; i < len(data); i += bucketBytes {
		b := decodeBucket(data[i:])
		k := i / bucketBytes
		switch {
		case b.slot <= last:
			return fmt.Errorf("bucket %d: slot %d not after %d", k, b.slot, last)
		case used[int(b.slot)%HistoryBuckets]:
			return fmt.Errorf("bucket %d: slot %d in the place of another", k, b.slot)
		case b.n == 0:
			return fmt.Errorf("bucket %d: no readings", k)
		case !finite(b.min) || !finite(b.max) || !finite(b.sum) || b.min > b.max:
			return fmt.Errorf("bucket %d: min %g, max %g, sum %g", k, b.min, b.max, b.sum)
		}
		used[int(b.slot)%HistoryBuckets], last = true, b.slot
	}
	return nil
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }
