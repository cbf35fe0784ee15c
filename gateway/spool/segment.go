package spool

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// segFile is what the spool needs from a segment file. *os.File implements it; tests
// wrap it to inject disk errors.
type segFile interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Close() error
}

// openFunc opens a segment file, like os.OpenFile with mode 0o640.
type openFunc func(path string, flag int) (segFile, error)

func osOpen(path string, flag int) (segFile, error) {
	f, err := os.OpenFile(path, flag, 0o640)
	if err != nil {
		return nil, err // *PathError names the file
	}
	return f, nil
}

const segSuffix = ".seg"

// segName returns the file name of the segment whose first seq is first.
func segName(first uint64) string { return fmt.Sprintf("%020d%s", first, segSuffix) }

// parseSegName returns the first seq named by a segment file name.
func parseSegName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

// indexEvery is the spacing, in bytes, of the sparse seq->offset index of a segment.
const indexEvery = 32 << 10

type indexEntry struct {
	seq uint64
	off int64
}

// hole is a damaged byte range [off, end) that recovery skipped.
type hole struct{ off, end int64 }

// segment is one segment file. All fields are guarded by Spool.mu, except that the
// writer goroutine reads the fields of the active segment, which only it changes,
// without the lock.
type segment struct {
	name    string
	first   uint64 // the seq in the file name: no record in the file has a smaller one
	lo      uint64 // seq of the first record; valid when records > 0
	next    uint64 // one past the seq of the last record; first when empty
	records int64  // valid records in the file
	size    int64  // bytes that are durable and may be read
	index   []indexEntry
	holes   []hole

	f       segFile // nil until needed; the active segment always has one
	refs    int     // reads in progress
	removed bool    // deleted from the directory; close f when refs drops to 0
}

// addIndex records that the record with seq starts at off.
func (g *segment) addIndex(seq uint64, off int64) {
	if n := len(g.index); n == 0 || off-g.index[n-1].off >= indexEvery {
		g.index = append(g.index, indexEntry{seq, off})
	}
}

// seek returns the offset at which to start looking for seq in g: the closest indexed
// record at or before it.
func (g *segment) seek(seq uint64) (indexEntry, bool) {
	i := sort.Search(len(g.index), func(i int) bool { return g.index[i].seq > seq })
	if i == 0 {
		if len(g.index) == 0 {
			return indexEntry{}, false
		}
		return g.index[0], true
	}
	return g.index[i-1], true
}

// isHole reports whether off starts a damaged range recovery already reported.
func (g *segment) isHole(off int64) bool {
	for _, h := range g.holes {
		if h.off == off {
			return true
		}
	}
	return false
}

// undelivered returns how many records of g have a seq at or above cursor. It is
// exact unless recovery found seq gaps inside g.
func (g *segment) undelivered(cursor uint64) int64 {
	switch {
	case g.records == 0 || g.next <= cursor:
		return 0
	case g.lo >= cursor:
		return g.records
	default:
		return min(int64(g.next-cursor), g.records)
	}
}

var _ segFile = (*os.File)(nil)
