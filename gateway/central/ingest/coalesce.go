package ingest

import (
	"context"
	"errors"
	"sync"
	"time"
)

// coalescer is a Forwarder that joins the bodies of requests arriving while the
// database is busy into one write: at most slots writes are in flight, and whatever
// queued meanwhile (of one precision, up to maxBytes) goes in the next. A request
// with nothing queued before it is written at once, alone. Each request still
// returns only once the write carrying its points was answered. When the database
// refuses a joined write (a 4xx: one body's points are at fault), each body is
// written again alone, so that only the faulty request is refused.
type coalescer struct {
	next     Forwarder
	slots    int
	maxBytes int
	timeout  time.Duration // of one write to next

	mu    sync.Mutex
	queue []*fwdJob
	busy  int // writes in flight
}

type fwdJob struct {
	body      []byte
	precision string
	err       error
	done      chan struct{}
}

func newCoalescer(next Forwarder) *coalescer {
	return &coalescer{next: next, slots: 4, maxBytes: 8 << 20, timeout: time.Minute}
}

// Write implements Forwarder.
func (c *coalescer) Write(ctx context.Context, body []byte, precision string) error {
	j := &fwdJob{body: body, precision: precision, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, j)
	if c.busy < c.slots {
		c.busy++
		go c.run()
	}
	c.mu.Unlock()
	select {
	case <-j.done:
		return j.err
	case <-ctx.Done():
		return ctx.Err() // the write goes on; the request is answered as unavailable and resent
	}
}

// run writes batches while jobs queue, then frees its slot.
func (c *coalescer) run() {
	for {
		c.mu.Lock()
		batch := c.take()
		if len(batch) == 0 {
			c.busy--
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.write(batch)
	}
}

// take removes from the queue the oldest job and every later one of its precision
// that fits in maxBytes. The caller holds c.mu.
func (c *coalescer) take() []*fwdJob {
	if len(c.queue) == 0 {
		return nil
	}
	prec, size := c.queue[0].precision, 0
	var batch []*fwdJob
	rest := c.queue[:0]
	for _, j := range c.queue {
		if j.precision == prec && (len(batch) == 0 || size+len(j.body)+1 <= c.maxBytes) {
			batch = append(batch, j)
			size += len(j.body) + 1
			continue
		}
		rest = append(rest, j)
	}
	clear(c.queue[len(rest):])
	c.queue = rest
	return batch
}

func (c *coalescer) write(batch []*fwdJob) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	body := batch[0].body
	if len(batch) > 1 {
		n := 0
		for _, j := range batch {
			n += len(j.body) + 1
		}
		body = make([]byte, 0, n)
		for _, j := range batch {
			body = append(body, j.body...)
			if len(j.body) > 0 && j.body[len(j.body)-1] != '\n' {
				body = append(body, '\n')
			}
		}
	}
	err := c.next.Write(ctx, body, batch[0].precision)
	var fe *ForwardError
	if len(batch) > 1 && errors.As(err, &fe) && fe.Refusal() {
		for _, j := range batch { // whose points? each alone
			j.err = c.next.Write(ctx, j.body, j.precision)
			close(j.done)
		}
		return
	}
	for _, j := range batch {
		j.err = err
		close(j.done)
	}
}
