package mqttsrc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// recConn is a net.Conn that records what is written to it, one call at a time.
type recConn struct {
	net.Conn // nil: only the methods below are used
	r        io.Reader

	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	delay  time.Duration // per Write, like a system call
	fail   error
	closed bool
}

func (c *recConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *recConn) Write(p []byte) (int, error) {
	time.Sleep(c.delay)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	c.writes++
	return c.buf.Write(p)
}

func (c *recConn) Close() error                     { c.mu.Lock(); c.closed = true; c.mu.Unlock(); return nil }
func (c *recConn) SetReadDeadline(time.Time) error  { return nil }
func (c *recConn) SetWriteDeadline(time.Time) error { return nil }

func (c *recConn) snapshot() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String(), c.writes
}

// TestConnCoalescesWritesInOrder: writes from several goroutines arrive whole and in
// each goroutine's order, in far fewer calls than writes.
func TestConnCoalescesWritesInOrder(t *testing.T) {
	rc := &recConn{r: strings.NewReader(""), delay: 50 * time.Microsecond}
	c := newConn(rc, time.Second)
	const writers, each = 4, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := fmt.Fprintf(c, "<%d:%d>", g, i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got, calls := rc.snapshot()
	next := make([]int, writers)
	n := 0
	for rec := range strings.SplitSeq(strings.TrimSuffix(strings.TrimPrefix(got, "<"), ">"), "><") {
		var g, i int
		if _, err := fmt.Sscanf(rec, "%d:%d", &g, &i); err != nil {
			t.Fatalf("torn record %q", rec)
		}
		if i != next[g] {
			t.Fatalf("writer %d: record %d after %d", g, i, next[g]-1)
		}
		next[g]++
		n++
	}
	if n != writers*each {
		t.Fatalf("%d records arrived, want %d", n, writers*each)
	}
	if calls > n/4 {
		t.Fatalf("%d write calls for %d writes: not coalesced", calls, n)
	}
	if !rc.closed {
		t.Fatal("underlying connection not closed")
	}
}

// TestConnCloseWritesPending: what was written just before Close (paho's DISCONNECT)
// still goes out.
func TestConnCloseWritesPending(t *testing.T) {
	rc := &recConn{r: strings.NewReader(""), delay: 10 * time.Millisecond}
	c := newConn(rc, time.Second)
	for _, s := range []string{"a", "b", "DISCONNECT"} {
		if _, err := io.WriteString(c, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := rc.snapshot(); got != "abDISCONNECT" {
		t.Fatalf("got %q", got)
	}
	if _, err := c.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

// TestConnWriteErrorSticks: after a failed write every Write reports the error, so
// paho treats the connection as lost.
func TestConnWriteErrorSticks(t *testing.T) {
	boom := errors.New("connection reset by peer")
	rc := &recConn{r: strings.NewReader(""), fail: boom}
	c := newConn(rc, time.Second)
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.Write([]byte("x"))
		if errors.Is(err, boom) {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("Write: %v, want %v", err, boom)
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := c.Write([]byte("y")); !errors.Is(err, boom) {
		t.Fatalf("second Write: %v", err)
	}
}

// TestConnWriteBackpressure: Write blocks, rather than buffering without bound, while
// the socket does not take data.
func TestConnWriteBackpressure(t *testing.T) {
	rc := &recConn{r: strings.NewReader(""), delay: 200 * time.Millisecond}
	c := newConn(rc, time.Second)
	defer c.Close()
	chunk := make([]byte, maxPending)
	start := time.Now()
	for range 4 {
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if time.Since(start) < 200*time.Millisecond {
		t.Fatalf("4 × %d bytes accepted in %v without waiting for the socket", maxPending, time.Since(start))
	}
}

// TestConnReadsThroughBuffer: reads return the stream unchanged.
func TestConnReadsThroughBuffer(t *testing.T) {
	want := strings.Repeat("0123456789", 10_000)
	c := newConn(&recConn{r: strings.NewReader(want)}, 0)
	defer c.Close()
	var got bytes.Buffer
	one := make([]byte, 1)
	for got.Len() < 100 { // byte by byte, as paho reads a header
		if _, err := io.ReadFull(c, one); err != nil {
			t.Fatal(err)
		}
		got.Write(one)
	}
	if _, err := io.Copy(&got, c); err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Fatalf("read %d bytes, stream differs", got.Len())
	}
}
