package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Forwarder writes verified line protocol to the database.
type Forwarder interface {
	Write(ctx context.Context, body []byte, precision string) error
}

// ForwardError is a database's refusal: Status is its HTTP status.
type ForwardError struct {
	Status  int
	Message string
}

func (e *ForwardError) Error() string {
	return fmt.Sprintf("influxdb answered %d: %s", e.Status, e.Message)
}

// Refusal reports whether the database refused the data itself (a 4xx other than
// 408 and 429), so that sending it again cannot help.
func (e *ForwardError) Refusal() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// Influx forwards to an InfluxDB v2 write API (InfluxDB 1.8+, 2.x, Cloud, 3.x): the
// ingest's write token is the only one that can write the bucket.
type Influx struct {
	URL    string // e.g. http://127.0.0.1:8086
	Org    string
	Bucket string // InfluxDB 1.8: "database/retention-policy"
	Token  string // 2.x: an API token; 1.8: "user:password" or empty
	Client *http.Client
}

// Write implements Forwarder.
func (in *Influx) Write(ctx context.Context, body []byte, precision string) error {
	q := url.Values{"org": {in.Org}, "bucket": {in.Bucket}, "precision": {precision}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(in.URL, "/")+"/api/v2/write?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("influxdb: %w", err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if in.Token != "" {
		req.Header.Set("Authorization", "Token "+in.Token)
	}
	resp, err := in.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	var e struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	text := strings.TrimSpace(string(msg))
	if json.Unmarshal(msg, &e) == nil && (e.Message != "" || e.Error != "") {
		text = e.Message + e.Error
	}
	return &ForwardError{Status: resp.StatusCode, Message: text}
}

// do sends req with in.Client (nil: http.DefaultClient).
func (in *Influx) do(req *http.Request) (*http.Response, error) {
	c := in.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("influxdb: %w", err)
	}
	return resp, nil
}

// Ping reports whether InfluxDB answers /ping.
func (in *Influx) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(in.URL, "/")+"/ping", nil)
	if err != nil {
		return err
	}
	resp, err := in.do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("influxdb /ping: %s", resp.Status)
	}
	return nil
}
