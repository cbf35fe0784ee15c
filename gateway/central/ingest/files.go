package ingest

import (
	"container/list"
	"os"
	"sync"
)

// centreState serialises one centre's requests in this process and keeps the
// centre's files open between them: the descriptor its head lock is taken on, its
// head log (and the head it holds: heads.current) and the archive's day file.
// Opening, reading and closing them per request cost more than the rest of the
// request's file work; openFiles bounds how many centres keep them.
type centreState struct {
	mu   sync.Mutex
	lock *os.File // <heads>/<centre>.lock, nil when closed
	hf   *headFile
	head Head     // what hf holds, valid while hf is open
	day  string   // the UTC day of f
	f    *os.File // the archive's day file, nil when closed
	// made: directories with a new entry for f, synced with its next record.
	made []string
	elem *list.Element // in openFiles.lru while a file is open; guarded by openFiles.mu
}

// closeFiles closes the centre's files; the caller holds cs.mu.
func (cs *centreState) closeFiles() {
	if cs.lock != nil {
		cs.lock.Close()
		cs.lock = nil
	}
	cs.closeDay()
	cs.closeHead()
}

func (cs *centreState) closeHead() {
	if cs.hf != nil {
		cs.hf.Close()
		cs.hf = nil
	}
}

func (cs *centreState) closeDay() {
	if cs.f != nil {
		cs.f.Close()
		cs.f = nil
	}
}

// openFiles is the least recently used list of the centres with open files, at
// most max of them (three descriptors each).
type openFiles struct {
	mu  sync.Mutex
	lru list.List // of *centreState, most recent first
	max int
}

// touch records that cs (whose mu the caller holds) was just used, and closes the
// files of the least recently used centres beyond max, skipping those with a
// request under way.
func (o *openFiles) touch(cs *centreState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case cs.lock == nil && cs.f == nil && cs.hf == nil:
		if cs.elem != nil {
			o.lru.Remove(cs.elem)
			cs.elem = nil
		}
		return
	case cs.elem == nil:
		cs.elem = o.lru.PushFront(cs)
	default:
		o.lru.MoveToFront(cs.elem)
	}
	for e := o.lru.Back(); e != nil && o.lru.Len() > o.max; {
		prev := e.Prev()
		if v := e.Value.(*centreState); v != cs && v.mu.TryLock() {
			v.closeFiles()
			o.lru.Remove(e)
			v.elem = nil
			v.mu.Unlock()
		}
		e = prev
	}
}

// Close closes the files the Server keeps open between requests; call it once no
// request is under way (after http.Server.Shutdown).
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cs := range s.centres {
		cs.mu.Lock()
		cs.closeFiles()
		cs.mu.Unlock()
	}
	s.open.mu.Lock()
	defer s.open.mu.Unlock()
	for e := s.open.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*centreState).elem = nil
	}
	s.open.lru.Init()
	return nil
}
