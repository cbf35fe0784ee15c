package spool

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// Record framing, all integers little endian:
//
//	magic   4 bytes  F5 7E 53 51 (0xF5 never occurs in UTF-8 text)
//	length  uint32   payload length in bytes
//	crc     uint32   CRC-32C (Castagnoli) of the payload
//	payload length bytes: the encoded event (see encodeEvent), then the seq as uint64
//
// The seq goes last so that an appender can checksum its encoded event in parallel
// and the writer, which assigns seqs, only extends that checksum over eight bytes.
const (
	headerLen  = 12
	seqLen     = 8
	minPayload = 1 + seqLen // version byte + seq
	maxPayload = 1 << 20    // far above any real event; bounds allocation on recovery
)

var (
	magic      = [4]byte{0xF5, 0x7E, 0x53, 0x51}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// checkRecord reports whether b starts with a whole, valid record, and its length.
// short is true when the header is plausible but b ends before the record does.
func checkRecord(b []byte) (n int, ok, short bool) {
	if len(b) < headerLen {
		return 0, false, true
	}
	if !bytes.Equal(b[:4], magic[:]) {
		return 0, false, false
	}
	l := binary.LittleEndian.Uint32(b[4:8])
	if l < minPayload || l > maxPayload {
		return 0, false, false
	}
	n = headerLen + int(l)
	if len(b) < n {
		return n, false, true
	}
	if crc32.Checksum(b[headerLen:n], castagnoli) != binary.LittleEndian.Uint32(b[8:12]) {
		return n, false, false
	}
	return n, true, false
}

// recordSeq returns the seq of the valid record rec.
func recordSeq(rec []byte) uint64 {
	return binary.LittleEndian.Uint64(rec[len(rec)-seqLen:])
}

// recordEvent returns the encoded event of the valid record rec.
func recordEvent(rec []byte) []byte {
	return rec[headerLen : len(rec)-seqLen]
}

// window reads a segment file through a buffer, so that scanning it costs a few large
// reads instead of one per record.
type window struct {
	r    io.ReaderAt
	size int64  // bytes of the file that may be read
	buf  []byte // the bytes at [off, off+len(buf))
	off  int64
}

// windowChunk is how much a window reads at once.
const windowChunk = 256 << 10

// at returns the n bytes at off, or fewer if the readable part of the file ends first.
// The result is valid until the next call.
func (w *window) at(off int64, n int) ([]byte, error) {
	end := min(off+int64(n), w.size)
	if off >= end {
		return nil, nil
	}
	if off >= w.off && end <= w.off+int64(len(w.buf)) {
		return w.buf[off-w.off : end-w.off], nil
	}
	rend := min(off+int64(max(n, windowChunk)), w.size)
	want := int(rend - off)
	if cap(w.buf) < want {
		w.buf = make([]byte, want)
	}
	w.buf = w.buf[:want]
	w.off = off
	if _, err := w.r.ReadAt(w.buf, off); err != nil {
		w.buf = w.buf[:0]
		return nil, fmt.Errorf("read at %d: %w", off, err)
	}
	return w.buf[:end-off], nil
}

// next returns the first valid record at or after off whose seq satisfies accept: its
// offset and bytes (valid until the next call). found is false when there is none
// before the end of the readable part. Damaged bytes are skipped by searching for the
// next magic that starts a record with a matching CRC.
func (w *window) next(off int64, accept func(seq uint64) bool) (at int64, rec []byte, found bool, err error) {
	for off < w.size {
		b, err := w.at(off, headerLen)
		if err != nil {
			return 0, nil, false, err
		}
		if len(b) < headerLen {
			return 0, nil, false, nil
		}
		if bytes.Equal(b[:4], magic[:]) {
			l := binary.LittleEndian.Uint32(b[4:8])
			if l >= minPayload && l <= maxPayload {
				b, err = w.at(off, headerLen+int(l))
				if err != nil {
					return 0, nil, false, err
				}
				if _, ok, _ := checkRecord(b); ok && accept(recordSeq(b)) {
					return off, b, true, nil
				}
			}
		}
		if off, err = w.findMagic(off + 1); err != nil {
			return 0, nil, false, err
		}
	}
	return 0, nil, false, nil
}

// findMagic returns the offset of the first magic at or after off, or w.size.
func (w *window) findMagic(off int64) (int64, error) {
	for off+int64(len(magic)) <= w.size {
		b, err := w.at(off, windowChunk)
		if err != nil {
			return 0, err
		}
		if i := bytes.Index(b, magic[:]); i >= 0 {
			return off + int64(i), nil
		}
		off += int64(len(b) - len(magic) + 1)
	}
	return w.size, nil
}
