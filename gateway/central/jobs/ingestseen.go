package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// IngestSeen is a SeenSource read from the verifying ingest (saqshy-ingest's
// GET /centres): each centre's last verified contact, the time the ingest accepted
// the latest link of its signed chain. A heartbeat written straight into the bucket,
// forged or not, moves nothing here; only the gateway's key does (docs/RATING.md).
// Any replica of the ingest answers for every centre (they share the heads).
type IngestSeen struct {
	URL    string       // the ingest's base URL, e.g. http://127.0.0.1:8087
	Client *http.Client // nil: a client with a 30 s timeout
}

// maxCentresBody bounds the /centres answer (20,000 centres' heads are a few MB).
const maxCentresBody = 256 << 20

// ingestHead is the part of the ingest's Head (gateway/central/ingest) read here.
type ingestHead struct {
	Centre      string    `json:"centre"`
	LastContact time.Time `json:"last_contact"`
}

// LastSeen implements SeenSource: from is not used (the ingest keeps only the
// latest contact of each centre).
func (s *IngestSeen) LastSeen(ctx context.Context, _ time.Time) (map[string]time.Time, error) {
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	u := strings.TrimRight(s.URL, "/") + "/centres"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: %w", u, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("ingest %s answered %s: %s", u, resp.Status, strings.TrimSpace(string(msg)))
	}
	var heads []ingestHead
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxCentresBody)).Decode(&heads); err != nil {
		return nil, fmt.Errorf("ingest %s: not a list of centre heads: %w", u, err)
	}
	out := make(map[string]time.Time, len(heads))
	for i, h := range heads {
		if h.Centre == "" {
			return nil, fmt.Errorf("ingest %s: head %d has no centre", u, i)
		}
		if !h.LastContact.IsZero() {
			out[h.Centre] = h.LastContact
		}
	}
	return out, nil
}
