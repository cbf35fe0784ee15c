package mqttsrc

import (
	"bufio"
	"crypto/tls"
	"net"
	neturl "net/url"
	"os"
	"runtime"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// ownConn reports whether the source opens the connection to url itself (openConn):
// plain TCP and TLS brokers without a proxy from the environment. Other URLs (ws://,
// unix://, a SOCKS proxy) use paho's own dialling.
func ownConn(url string) bool {
	u, err := neturl.Parse(url)
	if err != nil {
		return false
	}
	for _, env := range []string{"ALL_PROXY", "all_proxy"} {
		if os.Getenv(env) != "" {
			return false
		}
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "mqtt+ssl", "tcps":
		return true
	}
	return false
}

// openConn dials the broker as paho does for tcp:// and ssl:// URLs and wraps the
// connection in a [conn]. It is paho's OpenConnectionFunc.
func openConn(uri *neturl.URL, o mqtt.ClientOptions) (net.Conn, error) {
	dialer := o.Dialer
	if dialer == nil {
		dialer = &net.Dialer{Timeout: 30 * time.Second}
	}
	var c net.Conn
	var err error
	switch uri.Scheme {
	case "tcp", "mqtt":
		c, err = dialer.Dial("tcp", uri.Host)
	default:
		c, err = tls.DialWithDialer(dialer, "tcp", uri.Host, o.TLSConfig)
	}
	if err != nil {
		return nil, err
	}
	return newConn(c, o.WriteTimeout), nil
}

// maxPending bounds the bytes Write accepts ahead of the socket; beyond it Write
// waits, as a plain connection's Write would.
const maxPending = 64 << 10

// closeFlush bounds how long Close waits for pending bytes (the DISCONNECT paho writes
// just before closing) to be written.
const closeFlush = time.Second

// conn is the broker connection with buffered I/O, to save system calls: a source
// draining 40,000 messages a second spent a fifth of its CPU time in read and write
// calls of a few bytes each (a bare paho subscriber, half).
//
//   - Reads go through a bufio.Reader. paho reads each packet's header a byte at a time
//     straight from the socket: three or four read calls per message without it, one
//     per many messages with it. paho reads from one goroutine (the CONNACK, then the
//     incoming loop), so buffered bytes are never lost.
//   - Writes are coalesced. Write appends to a pending buffer and returns; one
//     goroutine writes out whatever is pending, in one call. paho writes every
//     acknowledgement separately, so a batch of 256 PUBACKs took 256 write calls; now
//     about 30 PUBACKs leave per call while a backlog drains. The first write error is
//     returned by every later Write, as paho expects of a broken connection, and Close
//     writes what is pending before it closes (at most [closeFlush]). Write deadlines:
//     the writer goroutine applies the client's write timeout to each of its writes,
//     so SetWriteDeadline is not passed on.
type conn struct {
	net.Conn
	r            *bufio.Reader
	writeTimeout time.Duration

	mu      sync.Mutex
	cond    sync.Cond // broadcast when pending grows or shrinks, and on error and close
	pending []byte
	err     error // the first write error
	closed  bool
	done    chan struct{} // closed when the writer goroutine returns
}

func newConn(c net.Conn, writeTimeout time.Duration) *conn {
	cc := &conn{Conn: c, r: bufio.NewReaderSize(c, 32<<10), writeTimeout: writeTimeout, done: make(chan struct{})}
	cc.cond.L = &cc.mu
	go cc.writeLoop()
	return cc
}

// Read implements net.Conn.
func (c *conn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Write implements net.Conn: it queues p for the writer goroutine.
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.err == nil && !c.closed && len(c.pending) >= maxPending {
		c.cond.Wait()
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.closed {
		return 0, net.ErrClosed
	}
	c.pending = append(c.pending, p...)
	c.cond.Broadcast()
	return len(p), nil
}

func (c *conn) writeLoop() {
	defer close(c.done)
	var buf []byte
	c.mu.Lock()
	for {
		for len(c.pending) == 0 && !c.closed {
			c.cond.Wait()
		}
		if len(c.pending) == 0 { // closed, and everything written
			c.mu.Unlock()
			return
		}
		if len(c.pending) < 4096 && !c.closed {
			// Yield once, so that the goroutines passing on the rest of a batch of
			// acknowledgements add theirs before the system call: about 30 PUBACKs
			// per write during a drain instead of 4.
			c.mu.Unlock()
			runtime.Gosched()
			c.mu.Lock()
		}
		buf, c.pending = c.pending, buf[:0]
		c.cond.Broadcast()
		c.mu.Unlock()
		if c.writeTimeout > 0 {
			_ = c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
		}
		_, err := c.Conn.Write(buf)
		c.mu.Lock()
		if err != nil {
			c.err = err
			c.pending = nil
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
	}
}

// Close writes what is pending (for at most closeFlush), then closes the connection.
func (c *conn) Close() error {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	if first {
		t := time.NewTimer(closeFlush)
		select {
		case <-c.done:
		case <-t.C:
		}
		t.Stop()
	}
	return c.Conn.Close()
}

// SetDeadline sets the read deadline; see conn about write deadlines.
func (c *conn) SetDeadline(t time.Time) error { return c.Conn.SetReadDeadline(t) }

// SetWriteDeadline does nothing; see conn.
func (c *conn) SetWriteDeadline(time.Time) error { return nil }

var _ net.Conn = (*conn)(nil)
