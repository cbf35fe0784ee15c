package doctor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	ihttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/saqshy/saqshy/gateway/config"
)

// TestMeasurement is the measurement of the test point doctor writes and reads
// back: tag centre, field nonce (a random integer).
const TestMeasurement = "doctor"

func checkInflux(ctx context.Context, cfg *config.Config, opt *Options) Check {
	c := Check{Name: "influx"}
	in := cfg.Influx
	if in.URL == "" {
		c.Status, c.Title = Warn, "No influx.url: readings stay in the spool on this Pi (up to spool.max_bytes)"
		c.Fix = "set influx.url, influx.bucket and influx.token_file once the ministry's InfluxDB is reachable from the centre"
		return c
	}
	token := opt.InfluxToken
	if token == "" {
		var err error
		if token, err = cfg.InfluxToken(); err != nil {
			c.Status, c.Title = Fail, fmt.Sprintf("InfluxDB token cannot be read: %v", err)
			c.Fix = "run doctor as root or as the saqshy user (sudo -u saqshy saqshy-gateway doctor …), and check influx.token_file"
			return c
		}
	}
	timeout := in.Timeout.Std()
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	secs := max(uint(timeout/time.Second), 1)
	client := influxdb2.NewClientWithOptions(in.URL, token, influxdb2.DefaultOptions().SetHTTPRequestTimeout(secs))
	defer client.Close()

	pctx, cancel := context.WithTimeout(ctx, timeout)
	ok, err := client.Ping(pctx)
	cancel()
	if err != nil || !ok {
		if err == nil {
			err = errors.New("no answer to /ping")
		}
		c.Status, c.Title = Fail, fmt.Sprintf("InfluxDB %s is not reachable: %v", in.URL, err)
		c.Fix = fmt.Sprintf("check the centre's uplink (curl -sI %s/ping should answer 204), the address in influx.url, and that InfluxDB runs; meanwhile the gateway keeps readings in its spool", in.URL)
		return c
	}
	if in.Sign.Enabled() {
		// The ministry's ingest takes signed writes only and answers no queries:
		// probe the key instead of writing and reading back a test point.
		return checkIngest(ctx, cfg, token, timeout)
	}

	nonce := rand.Int64N(1 << 40)
	p := write.NewPoint(TestMeasurement, map[string]string{"centre": cfg.Centre.ID},
		map[string]any{"nonce": nonce}, opt.Now())
	wctx, cancel := context.WithTimeout(ctx, timeout)
	err = client.WriteAPIBlocking(in.Org, in.Bucket).WritePoint(wctx, p)
	cancel()
	if err != nil {
		var he *ihttp.Error
		status := 0
		if errors.As(err, &he) {
			status = he.StatusCode
		}
		switch status {
		case 401, 403:
			c.Status, c.Title = Fail, fmt.Sprintf("InfluxDB %s refused the token (HTTP %d): %v", in.URL, status, err)
			c.Fix = fmt.Sprintf("put a token with write and read access to bucket %q in %s (InfluxDB 1.8: \"user:password\")",
				in.Bucket, orDefault(in.TokenFile, "influx.token_file"))
		case 404:
			c.Status, c.Title = Fail, fmt.Sprintf("InfluxDB %s has no bucket %q: %v", in.URL, in.Bucket, err)
			c.Fix = fmt.Sprintf("create it (InfluxDB 2.x: influx bucket create -n %s; 1.8: CREATE DATABASE for the part before '/'), or correct influx.bucket and influx.org", in.Bucket)
		default:
			c.Status, c.Title = Fail, fmt.Sprintf("InfluxDB %s did not take a test point in bucket %q: %v", in.URL, in.Bucket, err)
			c.Fix = "read the error above; the gateway keeps readings in its spool until InfluxDB takes them"
		}
		return c
	}

	q := fmt.Sprintf(`from(bucket: %s) |> range(start: -1h) |> filter(fn: (r) => r._measurement == %q and r._field == "nonce" and r.centre == %s) |> filter(fn: (r) => r._value == %d)`,
		strconv.Quote(in.Bucket), TestMeasurement, strconv.Quote(cfg.Centre.ID), nonce)
	var lastErr error
	deadline := time.Now().Add(timeout)
	for {
		found, err := queryFound(ctx, client, in.Org, q, timeout)
		if found {
			c.Status = Pass
			c.Title = fmt.Sprintf("InfluxDB %s is reachable, took the token, and bucket %q is writable (a %q point was written and read back)", in.URL, in.Bucket, TestMeasurement)
			return c
		}
		lastErr = err
		if fluxDisabled(err) {
			c.Status = Warn
			c.Title = fmt.Sprintf("InfluxDB %s is reachable, took the token, and bucket %q is writable (the gateway's writes work); "+
				"reads do not: Flux queries are disabled (%v), and saqshy-monitor and doctor's read-back need them", in.URL, in.Bucket, err)
			c.Fix = "on the InfluxDB 1.8 server, set flux-enabled = true in the [http] section of /etc/influxdb/influxdb.conf, then sudo systemctl restart influxdb (see docs/INSTALL.md)"
			return c
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	c.Status = Fail
	if lastErr != nil {
		c.Title = fmt.Sprintf("InfluxDB %s took a test point but it cannot be read back: %v", in.URL, lastErr)
	} else {
		c.Title = fmt.Sprintf("InfluxDB %s took a test point but did not return it within %s", in.URL, short(timeout))
	}
	c.Fix = "give the token read access to the bucket too (doctor reads the point back with a Flux query; InfluxDB 1.8 needs flux-enabled = true in [http])"
	return c
}

// fluxDisabled reports whether err is InfluxDB 1.8's answer to a Flux query when
// flux-enabled is false ("403 Forbidden: Flux query service disabled").
func fluxDisabled(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "flux query service disabled")
}

func queryFound(ctx context.Context, client influxdb2.Client, org, q string, timeout time.Duration) (bool, error) {
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := client.QueryAPI(org).Query(qctx, q)
	if err != nil {
		return false, err
	}
	defer res.Close()
	found := res.Next()
	if err := res.Err(); err != nil {
		return false, err
	}
	return found, nil
}
