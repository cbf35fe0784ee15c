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
	// par bounds the fsyncs running at once in a round.
	par int

	mu      sync.Mutex
	next    []*syncReq // waiting for the next round
	running bool       // a round is running (its goroutine takes next when done)
}

type syncReq struct {
	files []*os.File
	err   error
	done  chan struct{}
}

func newSyncer() *syncer {
	return &syncer{fsync: (*os.File).Sync, par: 64}
}

// sync fsyncs files (nil ones are skipped) in the next round and returns the first
// error of theirs.
func (s *syncer) sync(files ...*os.File) error {
	r := &syncReq{files: files, done: make(chan struct{})}
	s.mu.Lock()
	s.next = append(s.next, r)
	if !s.running {
		s.running = true
		go s.rounds()
	}
	s.mu.Unlock()
	<-r.done
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

// round fsyncs every file of batch, par at a time, and wakes each request.
func (s *syncer) round(batch []*syncReq) {
	type job struct {
		r *syncReq
		f *os.File
	}
	var jobs []job
	for _, r := range batch {
		for _, f := range r.files {
			if f != nil {
				jobs = append(jobs, job{r, f})
			}
		}
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	work := make(chan int)
	for range min(s.par, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := s.fsync(jobs[i].f); err != nil {
					errs[i] = fmt.Errorf("fsync %s: %w", jobs[i].f.Name(), err)
				}
			}
		}()
	}
	for i := range jobs {
		work <- i
	}
	close(work)
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil && j.r.err == nil {
			j.r.err = errs[i]
		}
	}
	for _, r := range batch {
		close(r.done)
	}
}
