package ingest_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
)

// gzipRT compresses request bodies like gateway/influxsink's gzipTransport.
type gzipRT struct{ next http.RoundTripper }

func (t *gzipRT) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return t.next.RoundTrip(req)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := io.Copy(zw, req.Body)
	req.Body.Close()
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Content-Encoding", "gzip")
	r.ContentLength = int64(buf.Len())
	r.Body = io.NopCloser(&buf)
	return t.next.RoundTrip(r)
}
