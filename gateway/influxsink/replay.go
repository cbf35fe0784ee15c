package influxsink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// ReplayStats are the figures of a Replay.
type ReplayStats struct {
	Points  int // points read from the dead-letter file
	Sent    int // points InfluxDB accepted
	Refused int // points InfluxDB refused again (written to the refused writer)
}

// Replay sends the points of a dead-letter file (line protocol, with the writer's
// "# time reason" comment lines, which are skipped) to w in batches of batchSize.
// A batch refused as malformed is split down to single points; a point refused alone
// is written to refused with a comment naming the reason. Any other failure stops the
// replay with an error (nothing is lost: the file is only read). progress, if not nil,
// is called after each batch.
func Replay(ctx context.Context, w lineWriter, r io.Reader, refused io.Writer, batchSize int, progress func(ReplayStats)) (ReplayStats, error) {
	if batchSize <= 0 {
		batchSize = 5000
	}
	var (
		st    ReplayStats
		lines []string
	)
	flush := func() error {
		if len(lines) == 0 {
			return nil
		}
		err := replayBatch(ctx, w, lines, refused, &st)
		lines = lines[:0]
		if progress != nil {
			progress(st)
		}
		return err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		st.Points++
		lines = append(lines, l+"\n")
		if len(lines) == batchSize {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("read dead-letter file: %w", err)
	}
	return st, flush()
}

func replayBatch(ctx context.Context, w lineWriter, lines []string, refused io.Writer, st *ReplayStats) error {
	err := w.WriteRecord(ctx, strings.Join(lines, ""))
	if err == nil {
		st.Sent += len(lines)
		return nil
	}
	if s := statusOf(err); s != http.StatusBadRequest && s != http.StatusUnprocessableEntity {
		return fmt.Errorf("InfluxDB write failed (nothing was refused; replay again later): %w", err)
	}
	if len(lines) == 1 {
		st.Refused++
		_, werr := fmt.Fprintf(refused, "# refused again: %s\n%s", strings.ReplaceAll(err.Error(), "\n", " "), lines[0])
		return werr
	}
	h := len(lines) / 2
	return errors.Join(replayBatch(ctx, w, lines[:h], refused, st), replayBatch(ctx, w, lines[h:], refused, st))
}

// ReplayFile replays the dead-letter file path through w (see Replay), printing its
// progress to out. When the replay ends, path is renamed to path.replayed-TIME, and
// the points refused again are in path.refused-TIME with the reason. On an error
// other than a refusal, nothing is renamed: run it again later.
func ReplayFile(ctx context.Context, w lineWriter, path string, batchSize int, out io.Writer) (ReplayStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return ReplayStats{}, err
	}
	defer f.Close()
	stamp := time.Now().UTC().Format("20060102T150405")
	rf := &lazyFile{path: path + ".refused-" + stamp}
	defer rf.Close()
	st, err := Replay(ctx, w, f, rf, batchSize, func(st ReplayStats) {
		fmt.Fprintf(out, "sent %d, refused %d of %d points read\n", st.Sent, st.Refused, st.Points)
	})
	if err != nil {
		return st, err
	}
	if err := rf.Close(); err != nil {
		return st, err
	}
	f.Close()
	done := path + ".replayed-" + stamp
	if err := os.Rename(path, done); err != nil {
		return st, err
	}
	fmt.Fprintf(out, "done: %d points sent, %d refused again; %s renamed to %s\n", st.Sent, st.Refused, path, done)
	if st.Refused > 0 {
		fmt.Fprintf(out, "the points refused again, with InfluxDB's reason, are in %s\n", rf.path)
	}
	return st, nil
}

// lazyFile creates its file on the first write.
type lazyFile struct {
	path string
	f    *os.File
}

func (l *lazyFile) Write(p []byte) (int, error) {
	if l.f == nil {
		f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o640)
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	return l.f.Write(p)
}

func (l *lazyFile) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
