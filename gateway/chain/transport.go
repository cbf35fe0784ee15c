package chain

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Transport is an http.RoundTripper that signs every InfluxDB write request
// (POST to a path ending in /api/v2/write) with the next link of a Chain, and
// passes other requests (ping, health, queries) through unchanged.
//
// It must see the uncompressed body: put it outside any compressing transport.
// In gateway/influxsink.NewClient that is one line after the gzip wrapper:
//
//	hc := opts.HTTPClient()
//	hc.Transport = &gzipTransport{next: hc.Transport}
//	hc.Transport = &chain.Transport{Chain: ch, Next: hc.Transport} // sign, then compress
//
// (influxdb2.Options.HTTPClient returns the *http.Client the library will use;
// SetHTTPClient(&http.Client{Transport: ...}) works as well, but then the library
// does not apply its timeout and TLS options to it.) Do not also use the library's
// SetUseGZip(true): that compresses before the transport sees the body, and
// Transport refuses a compressed body with an error.
//
// Requests are sent one at a time (the chain's order is the order the ingest sees).
// After a 2xx the link is committed; after a 4xx other than 408 and 429 it is
// dropped as refused (the writer dead-letters the batch with the ingest's reason);
// after a transport error, 408, 429 or 5xx it stays pending, and the same body sent
// again is the same link.
type Transport struct {
	Chain *Chain
	Next  http.RoundTripper // nil: http.DefaultTransport

	mu sync.Mutex
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/api/v2/write") {
		return next.RoundTrip(req)
	}
	closeBody := func() {
		if req.Body != nil {
			_ = req.Body.Close()
		}
	}
	if ce := req.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		closeBody()
		return nil, fmt.Errorf("chain: write body is already %s-encoded; sign before compressing (do not use SetUseGZip with chain.Transport)", ce)
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		closeBody()
		if err != nil {
			return nil, fmt.Errorf("chain: read write body: %w", err)
		}
		body = b
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	link, err := t.Chain.Prepare(body, req.URL.Query().Get("precision"))
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	link.SetHeaders(r.Header)
	r.ContentLength = int64(len(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	resp, err := next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		err = t.Chain.Commit(link)
	case s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests:
		err = t.Chain.Refused(link)
	}
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// CloseIdleConnections closes the wrapped transport's idle connections.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.Next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

var _ http.RoundTripper = (*Transport)(nil)
