// Package statefile keeps a check's versioned JSON state across restarts and
// power cuts, with one policy for a file that cannot be used.
//
// A state file is one JSON object: the state's own fields with a "version" key
// beside them, written first ({"version":1,"seq":7,...}). The state type must not
// have a "version" field of its own. Saves are atomic ([atomicfile.Write]: a
// temporary file, fsync, rename, fsync of the directory), so a power cut leaves
// the old file or the new one.
//
// Loading:
//   - a missing file is a fresh start (Load returns nil, nil);
//   - a file that cannot be used (zero-length or truncated by a power cut, not
//     JSON, another version, or refused by the caller's check) is moved aside to
//     <path>.corrupt-<UTC time> (never deleted: it is evidence), logged once with
//     the path and the reason, and reported to the caller as a [*Corrupt] error
//     (errors.Is ErrCorrupt); the caller starts fresh;
//   - a file that cannot be read at all (permissions, I/O error) is left where it
//     is and reported as a plain error naming it: it may be good;
//   - temporary files left by a write that a power cut interrupted are removed.
package statefile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// ErrCorrupt is matched (errors.Is) by every error for a file that was unusable
// and moved aside.
var ErrCorrupt = errors.New("state file unusable")

// File describes one state file.
type File struct {
	// Path is the file's path.
	Path string
	// Name says what the file holds, for logs and errors: "alert state".
	Name string
	// Version is the format's version, written into every save and required on
	// load. It is at least 1.
	Version int
	// ReadUnversioned accepts a file without a "version" key as Version (a format
	// that had none before).
	ReadUnversioned bool
	// Fresh says what starting fresh means for the centre, for the log line:
	// "starting with no open alerts". Optional.
	Fresh string
	// Logger gets the one line about a file moved aside (nil: none), at Level
	// (zero: slog.LevelWarn).
	Logger *slog.Logger
	Level  slog.Level
	// Now names the file moved aside (nil: time.Now).
	Now func() time.Time
	// MaxBytes, when set, bounds the file: a larger one is unusable like a
	// truncated one, and is not read into memory.
	MaxBytes int64
}

// Corrupt is the error for a state file that could not be used.
type Corrupt struct {
	Name, Path string
	Size       int   // bytes in the file
	Reason     error // why it could not be used
	MovedTo    string
	MoveErr    error // why it could not be moved aside (MovedTo is then "")
}

func (e *Corrupt) Error() string {
	s := fmt.Sprintf("%s %s (%d bytes) unusable: %v", e.Name, e.Path, e.Size, e.Reason)
	if e.MoveErr != nil {
		return s + "; could not move it aside: " + e.MoveErr.Error()
	}
	return s + "; moved to " + e.MovedTo
}

// Unwrap returns ErrCorrupt and the reason.
func (e *Corrupt) Unwrap() []error { return []error{ErrCorrupt, e.Reason} }

// Load reads the state file into a new T. valid (optional) checks what was read;
// its error makes the file unusable like a parse error. See the package comment
// for what Load does with each kind of file. It is meant for a check's start: it
// must not run while the same file is being saved.
func Load[T any](f File, valid func(*T) error) (*T, error) {
	removeTemps(f.Path)
	data, size, err := read(f)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", f.Name, f.Path, err)
	}
	var reason error
	if data == nil {
		reason = fmt.Errorf("%d bytes, more than the %d a %s may hold", size, f.MaxBytes, f.Name)
	} else if v, err := Decode(f, data, valid); err == nil {
		return v, nil
	} else {
		reason = err
	}
	e := &Corrupt{Name: f.Name, Path: f.Path, Size: size, Reason: reason}
	e.MovedTo, e.MoveErr = moveAside(f)
	if f.Logger != nil {
		level := f.Level
		if level == 0 {
			level = slog.LevelWarn
		}
		msg := f.Name + " unusable, moved aside"
		if f.Fresh != "" {
			msg += "; " + f.Fresh
		}
		args := []any{"file", f.Path, "bytes", size, "reason", reason.Error()}
		if e.MoveErr != nil {
			args = append(args, "move_err", e.MoveErr.Error())
		} else {
			args = append(args, "moved_to", e.MovedTo)
		}
		f.Logger.Log(context.Background(), level, msg, args...)
	}
	return nil, e
}

// read reads the file and returns its contents and size; nil contents (and no
// error) for a file larger than f.MaxBytes.
func read(f File) ([]byte, int, error) {
	if f.MaxBytes <= 0 {
		data, err := os.ReadFile(f.Path)
		return data, len(data), err
	}
	fh, err := os.Open(f.Path)
	if err != nil {
		return nil, 0, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, f.MaxBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(data)) > f.MaxBytes {
		size := len(data)
		if fi, err := fh.Stat(); err == nil {
			size = int(fi.Size())
		}
		return nil, size, nil
	}
	if data == nil {
		data = []byte{}
	}
	return data, len(data), nil
}

// Decode parses the contents of a state file (no file is touched): the version,
// then T, then valid. The error says why data is unusable.
func Decode[T any](f File, data []byte, valid func(*T) error) (*T, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		if len(data) == 0 {
			return nil, errors.New("empty file (truncated by a power cut?)")
		}
		return nil, errors.New("only blanks (truncated by a power cut?)")
	}
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(err)
	}
	switch {
	case head.Version == nil && f.ReadUnversioned:
	case head.Version == nil:
		return nil, errors.New("no version")
	case *head.Version > f.Version:
		return nil, fmt.Errorf("version %d, want %d: written by newer software", *head.Version, f.Version)
	case *head.Version != f.Version:
		return nil, fmt.Errorf("version %d, want %d", *head.Version, f.Version)
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, jsonError(err)
	}
	if valid != nil {
		if err := valid(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) || err.Error() == "unexpected end of JSON input" {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	return fmt.Errorf("not the expected JSON: %w", err)
}

// Marshal encodes v, which must encode as a JSON object, with the version first.
func (f File) Marshal(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", f.Name, err)
	}
	if len(data) < 2 || data[0] != '{' {
		return nil, fmt.Errorf("%s: encode: %T is not a JSON object", f.Name, v)
	}
	out := make([]byte, 0, len(data)+16)
	out = append(out, `{"version":`...)
	out = strconv.AppendInt(out, int64(f.Version), 10)
	if len(data) > 2 {
		out = append(out, ',')
	}
	return append(out, data[1:]...), nil
}

// Write replaces the file with data (from Marshal) atomically.
func (f File) Write(data []byte) error {
	if err := atomicfile.Write(f.Path, data); err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	return nil
}

// Save is Marshal and Write.
func (f File) Save(v any) error {
	data, err := f.Marshal(v)
	if err != nil {
		return err
	}
	return f.Write(data)
}

// moveAside renames the file to <path>.corrupt-<UTC time>, never over another.
func moveAside(f File) (string, error) {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	base := f.Path + ".corrupt-" + now().UTC().Format("20060102T150405.000000000Z")
	aside := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		aside = base + "-" + strconv.Itoa(i)
	}
	if err := os.Rename(f.Path, aside); err != nil {
		return "", err
	}
	atomicfile.SyncDir(f.Path)
	return aside, nil
}

// removeTemps removes what interrupted writes of path left (best effort).
func removeTemps(path string) {
	for _, p := range atomicfile.Leftovers(path) {
		os.Remove(p)
	}
}
