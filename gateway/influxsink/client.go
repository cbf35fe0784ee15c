package influxsink

import (
	"context"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
)

// Client is an InfluxDB connection for the Writer: the v2 write API, which InfluxDB
// 1.8+ (bucket "database/retention-policy", token "user:password" or empty), 2.x, Cloud
// and 3.x all accept.
type Client struct {
	c   influxdb2.Client
	api api.WriteAPIBlocking
}

// NewClient returns a client for url. Bodies are gzip-compressed (centres have slow
// uplinks); each request is bounded by timeout. It makes no connection until used.
func NewClient(url, token, org, bucket string, timeout time.Duration) *Client {
	secs := uint(timeout / time.Second)
	if secs == 0 {
		secs = 1
	}
	opts := influxdb2.DefaultOptions().
		SetUseGZip(true).
		SetHTTPRequestTimeout(secs).
		SetPrecision(time.Nanosecond)
	c := influxdb2.NewClientWithOptions(url, token, opts)
	return &Client{c: c, api: c.WriteAPIBlocking(org, bucket)}
}

// WritePoint writes points in one POST. It implements the writer's pointWriter.
func (c *Client) WritePoint(ctx context.Context, points ...*write.Point) error {
	return c.api.WritePoint(ctx, points...)
}

// Ping reports whether the server answers.
func (c *Client) Ping(ctx context.Context) (bool, error) { return c.c.Ping(ctx) }

// Close releases idle connections.
func (c *Client) Close() { c.c.Close() }

var _ pointWriter = (*Client)(nil)
