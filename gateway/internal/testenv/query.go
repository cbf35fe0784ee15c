package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// Series is one series of an InfluxQL result.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Query runs an InfluxQL statement against the database over the 1.x HTTP API and
// returns the first statement's series.
func (in *Influx) Query(ctx context.Context, q string) ([]Series, error) {
	u := fmt.Sprintf("%s/query?db=%s&epoch=ns&q=%s", in.URL(), url.QueryEscape(in.Database), url.QueryEscape(q))
	method := http.MethodGet
	if len(q) > 6 && (q[:6] == "CREATE" || q[:4] == "DROP") {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("influx query %q: %s: %s", q, resp.Status, body)
	}
	var r struct {
		Results []struct {
			Series []Series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&r); err != nil {
		return nil, fmt.Errorf("influx query %q: %w", q, err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("influx query %q: %s", q, r.Error)
	}
	if len(r.Results) == 0 {
		return nil, nil
	}
	if r.Results[0].Error != "" {
		return nil, fmt.Errorf("influx query %q: %s", q, r.Results[0].Error)
	}
	return r.Results[0].Series, nil
}

// Count returns the number of points of measurement that have field set, optionally
// filtered by an InfluxQL where clause ("" for none).
func (in *Influx) Count(tb testing.TB, measurement, field, where string) int64 {
	tb.Helper()
	q := fmt.Sprintf("SELECT count(%q) FROM %q", field, measurement)
	if where != "" {
		q += " WHERE " + where
	}
	series, err := in.Query(context.Background(), q)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	if len(series) == 0 || len(series[0].Values) == 0 {
		return 0
	}
	n, err := series[0].Values[0][1].(json.Number).Int64()
	if err != nil {
		tb.Fatalf("testenv: count %s: %v", measurement, err)
	}
	return n
}
