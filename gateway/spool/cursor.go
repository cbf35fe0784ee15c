package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"syscall"
)

// The cursor file holds the delivered cursor: magic "SQC1", the seq as uint64, and the
// CRC-32C of the preceding 12 bytes; 16 bytes, little endian.
const (
	cursorName = "cursor"
	cursorTemp = "cursor.tmp"
	cursorLen  = 16
)

var cursorMagic = [4]byte{'S', 'Q', 'C', '1'}

// errBadCursor is wrapped when the cursor file exists but cannot be trusted.
var errBadCursor = errors.New("bad cursor file")

func encodeCursor(seq uint64) []byte {
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorMagic[:]...)
	b = binary.LittleEndian.AppendUint64(b, seq)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeCursor(b []byte) (uint64, error) {
	if len(b) != cursorLen || !bytes.Equal(b[:4], cursorMagic[:]) ||
		crc32.Checksum(b[:12], castagnoli) != binary.LittleEndian.Uint32(b[12:]) {
		return 0, errBadCursor
	}
	return binary.LittleEndian.Uint64(b[4:12]), nil
}

// readCursor reads the cursor file in dir. A missing file returns an error satisfying
// errors.Is(err, fs.ErrNotExist); a damaged one wraps errBadCursor.
func readCursor(dir string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, cursorName))
	if err != nil {
		return 0, err
	}
	return decodeCursor(b)
}

// writeCursor durably replaces the cursor file in dir: write a temporary file, fsync
// it, rename it over the cursor file, fsync the directory.
func writeCursor(dir string, dirf *os.File, seq uint64, sync func(*os.File) error) error {
	tmp := filepath.Join(dir, cursorTemp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("write cursor: %w", err)
	}
	_, err = f.Write(encodeCursor(seq))
	if err == nil {
		err = sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		if isNoSpace(err) {
			// A full disk must not stop delivery: that is what frees it. The cursor
			// file exists (Open makes sure of it) and overwriting its 16 bytes in place
			// needs no new block. A write torn by a power cut fails the CRC and makes
			// delivery start again at the oldest record: records twice, never lost.
			if ierr := writeCursorInPlace(dir, seq, sync); ierr == nil {
				return nil
			} else {
				err = errors.Join(err, ierr)
			}
		}
		return fmt.Errorf("write cursor %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, cursorName)); err != nil {
		return fmt.Errorf("write cursor: %w", err)
	}
	if err := sync(dirf); err != nil {
		return fmt.Errorf("write cursor: sync dir %s: %w", dir, err)
	}
	return nil
}

// writeCursorInPlace overwrites the existing cursor file in dir in place and fsyncs it.
func writeCursorInPlace(dir string, seq uint64, sync func(*os.File) error) error {
	f, err := os.OpenFile(filepath.Join(dir, cursorName), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("rewrite cursor in place: %w", err)
	}
	_, err = f.WriteAt(encodeCursor(seq), 0)
	if err == nil {
		err = sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rewrite cursor in place: %w", err)
	}
	return nil
}

// isNoSpace reports whether err says the file system (or the user's quota) is full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
