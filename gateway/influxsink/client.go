package influxsink

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
	"github.com/klauspost/compress/gzip"

	"github.com/saqshy/saqshy/gateway/chain"
)

// Client is an InfluxDB connection for the Writer: the v2 write API, which InfluxDB
// 1.8+ (bucket "database/retention-policy", token "user:password" or empty), 2.x, Cloud
// and 3.x all accept.
type Client struct {
	c     influxdb2.Client
	api   api.WriteAPIBlocking
	chain *chain.Chain // nil: writes are not signed
}

// NewClient returns a client for url. Bodies are gzip-compressed (centres have slow
// uplinks); each request is bounded by timeout. It makes no connection until used.
func NewClient(url, token, org, bucket string, timeout time.Duration) *Client {
	return newClient(url, token, org, bucket, timeout, nil)
}

// NewSignedClient is NewClient for the ministry's verifying ingest: every write is
// the next link of ch (chain.Transport), signed over the uncompressed body and
// then compressed. The writer resends ch's pending link first ([Client.PendingBody]).
func NewSignedClient(url, token, org, bucket string, timeout time.Duration, ch *chain.Chain) *Client {
	return newClient(url, token, org, bucket, timeout, ch)
}

func newClient(url, token, org, bucket string, timeout time.Duration, ch *chain.Chain) *Client {
	secs := uint(timeout / time.Second)
	if secs == 0 {
		secs = 1
	}
	opts := influxdb2.DefaultOptions().
		SetUseGZip(false). // gzipTransport compresses instead
		SetHTTPRequestTimeout(secs).
		SetPrecision(time.Nanosecond)
	// The library's own HTTP client (timeout, proxy, TLS; closed by Close), with
	// compression added to its transport.
	hc := opts.HTTPClient()
	hc.Transport = &gzipTransport{next: hc.Transport}
	if ch != nil {
		hc.Transport = &chain.Transport{Chain: ch, Next: hc.Transport} // sign, then compress
	}
	c := influxdb2.NewClientWithOptions(url, token, opts)
	return &Client{c: c, api: c.WriteAPIBlocking(org, bucket), chain: ch}
}

// PendingBody returns the body of the chain's pending link: sent but not answered
// before a crash, or failed with a retryable error. The writer sends it again,
// byte for byte, before anything else, so that the chain has no gap. It implements
// the writer's pendingLink.
func (c *Client) PendingBody() (string, bool) {
	if c.chain == nil {
		return "", false
	}
	_, body, ok := c.chain.Pending()
	return string(body), ok
}

// WriteRecord writes line protocol in one POST: the lines of all arguments, which
// are joined with newlines. It implements the writer's lineWriter.
func (c *Client) WriteRecord(ctx context.Context, lines ...string) error {
	return c.api.WriteRecord(ctx, lines...)
}

// WritePoint writes points in one POST.
func (c *Client) WritePoint(ctx context.Context, points ...*write.Point) error {
	return c.api.WritePoint(ctx, points...)
}

// Ping reports whether the server answers.
func (c *Client) Ping(ctx context.Context) (bool, error) { return c.c.Ping(ctx) }

// Close releases idle connections.
func (c *Client) Close() { c.c.Close() }

// gzipLevel is the compression level of request bodies, with klauspost/compress's
// gzip (pure Go, the format unchanged). BenchmarkCompress, on the gateway's line
// protocol: a live trickle's batch (20 points) 20.5 bytes a point in ~7 µs, against
// the standard library's level 2 at 21.1 bytes in ~35 µs (most of it resetting its
// tables); a 10,000-point backlog batch 13.3 bytes a point in 2.3 ms against 12.0 in
// 3.6 ms (docs/BENCHMARKS.md). The uplink carries live batches; the CPU is the Pi's.
const gzipLevel = 1

// gzipTransport compresses request bodies with gzip at gzipLevel and sends them with
// Content-Encoding: gzip. It reuses its compressors: the library's SetUseGZip makes
// a new one, about 1 MB of state, for every POST and feeds it through a pipe and a
// goroutine, which cost a third of the time of a 10,000-point POST. It keeps one,
// not a sync.Pool of them: every garbage collection emptied the pool, and a drain
// made a new compressor for almost every POST (docs/BENCHMARKS.md, memory). The
// writer POSTs one batch at a time; mu serialises any other caller.
type gzipTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	zw   *gzip.Writer
	// copyBuf carries the body into zw (guarded by mu, as zw).
	copyBuf []byte
	size    atomic.Int64 // the last compressed body's size, to size the next buffer
}

// RoundTrip implements http.RoundTripper.
func (t *gzipTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.Header.Get("Content-Encoding") != "" {
		return t.next.RoundTrip(req)
	}
	buf := bytes.NewBuffer(make([]byte, 0, t.size.Load()+4096))
	t.mu.Lock()
	if t.zw == nil {
		t.zw, _ = gzip.NewWriterLevel(buf, gzipLevel) // the level is valid
	} else {
		t.zw.Reset(buf)
	}
	if t.copyBuf == nil {
		t.copyBuf = make([]byte, 32<<10)
	}
	// Through the buffer: the body's own WriteTo (a strings.Reader's) would hand
	// the compressor a copy of the whole batch as one []byte.
	_, err := io.CopyBuffer(t.zw, struct{ io.Reader }{req.Body}, t.copyBuf)
	_ = req.Body.Close() // a RoundTripper closes the body, also on errors
	if err == nil {
		err = t.zw.Close()
	}
	t.zw.Reset(io.Discard) // drop buf
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	t.size.Store(int64(buf.Len()))
	body := buf.Bytes()
	r := req.Clone(req.Context()) // a RoundTripper must not modify the request
	r.Header.Set("Content-Encoding", "gzip")
	r.ContentLength = int64(len(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return t.next.RoundTrip(r)
}

// CloseIdleConnections closes the wrapped transport's idle connections (Client.Close).
func (t *gzipTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

var (
	_ lineWriter        = (*Client)(nil)
	_ http.RoundTripper = (*gzipTransport)(nil)
)
