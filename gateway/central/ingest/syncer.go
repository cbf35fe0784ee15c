package ingest

import (
	"fmt"
	"os"
	"sync"
)

// syncer makes files durable in groups (group commit): every request that asks
// while a round of fsyncs runs joins the next round, whose fsyncs run together, so
// the file system commits its journal once for many requests instead of once per
// request. sync returns only when the round covering its files has ended: a request
// is answered after the fsync that covers it, as when it fsynced alone.
type syncer struct {
	// fsync makes one file durable; (*os.File).Sync unless a test replaces it.
	fsync func(*os.File) error
	// par bounds the fsyncs running at once in a round (each holds a thread).
	par int

	mu      sync.Mutex
	next    []*syncReq // waiting for the next round
	running bool       // a round is running (its goroutine takes next when done)
}

type syncReq struct {
	files []*os.File
	dirs  []string // directories with a new entry (a file made), synced once a round
	err   error
	done  chan struct{}
}

func newSyncer() *syncer {
	return &syncer{fsync: (*os.File).Sync, par: 1024}
}

// sync fsyncs files (nil ones are skipped) and the directories dirs in the next
// round and returns the first error of theirs.
func (s *syncer) sync(dirs []string, files ...*os.File) error {
	r := &syncReq{files: files, dirs: dirs, done: make(chan struct{})}
	s.mu.Lock()
	s.next = append(s.next, r)
	if s.running {
		s.mu.Unlock()
		<-r.done
		return r.err
	}
	// No round runs: this request runs one itself (no goroutine to start and hand
	// over to), and leaves the rounds of those who queued meanwhile to rounds.
	s.running = true
	batch := s.next
	s.next = nil
	s.mu.Unlock()
	s.round(batch)
	s.mu.Lock()
	if len(s.next) > 0 {
		go s.rounds()
	} else {
		s.running = false
	}
	s.mu.Unlock()
	return r.err
}

// rounds runs rounds while requests wait, then ends.
func (s *syncer) rounds() {
	for {
		s.mu.Lock()
		batch := s.next
		s.next = nil
		if len(batch) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.round(batch)
	}
}

// round fsyncs every file and directory of batch, par at a time, and wakes each
// request.
func (s *syncer) round(batch []*syncReq) {
	type job struct {
		rs  []*syncReq
		f   *os.File
		dir string
	}
	var jobs []job
	dirJob := map[string]int{}
	for _, r := range batch {
		for _, f := range r.files {
			if f != nil {
				jobs = append(jobs, job{rs: []*syncReq{r}, f: f})
			}
		}
		for _, d := range r.dirs {
			if i, ok := dirJob[d]; ok {
				jobs[i].rs = append(jobs[i].rs, r)
				continue
			}
			dirJob[d] = len(jobs)
			jobs = append(jobs, job{rs: []*syncReq{r}, dir: d})
		}
	}
	errs := make([]error, len(jobs))
	if len(jobs) == 1 { // alone: no worker to start
		errs[0] = s.do(jobs[0].f, jobs[0].dir)
	} else {
		var wg sync.WaitGroup
		work := make(chan int)
		for range min(s.par, len(jobs)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					errs[i] = s.do(jobs[i].f, jobs[i].dir)
				}
			}()
		}
		for i := range jobs {
			work <- i
		}
		close(work)
		wg.Wait()
	}
	for i, j := range jobs {
		for _, r := range j.rs {
			if errs[i] != nil && r.err == nil {
				r.err = errs[i]
			}
		}
	}
	for _, r := range batch {
		close(r.done)
	}
}

// do fsyncs f, or the directory dir.
func (s *syncer) do(f *os.File, dir string) error {
	if f == nil {
		d, err := os.Open(dir)
		if err != nil {
			return fmt.Errorf("fsync %s: %w", dir, err)
		}
		defer d.Close()
		f = d
	}
	if err := s.fsync(f); err != nil {
		return fmt.Errorf("fsync %s: %w", f.Name(), err)
	}
	return nil
}
