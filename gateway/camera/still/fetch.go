package still

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// FetchTimeout bounds a Fetch whose context has no sooner deadline.
const FetchTimeout = 10 * time.Second

// Fetch GETs one still from url and returns at most max bytes of it. For Frigate
// the URL is http://<frigate>:5000/api/<camera>/latest.jpg (the "Latest Frame"
// endpoint, GET /api/:camera_name/latest.:extension with extension jpg, jpeg, png
// or webp and an optional height query parameter:
// https://docs.frigate.video/integrations/api/latest-frame-camera-name-latest-extension-get/);
// for a plain IP camera it is the snapshot URL the prober knows. Authentication
// (digest or basic, as probe.Snapshot does) is the caller's client's business.
func Fetch(ctx context.Context, client *http.Client, url string, max int64) ([]byte, error) {
	if max <= 0 {
		return nil, fmt.Errorf("still: fetch %s: size limit %d is not positive", url, max)
	}
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("still: fetch %s: %w", url, err)
	}
	req.Header.Set("Accept", "image/jpeg, image/png")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("still: fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("still: fetch %s: status %s", url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "image/jpeg") && !strings.HasPrefix(ct, "image/png") {
		return nil, fmt.Errorf("still: fetch %s: content type %q is not image/jpeg or image/png", url, ct)
	}
	if resp.ContentLength > max {
		return nil, fmt.Errorf("still: fetch %s: %d bytes, more than the limit of %d", url, resp.ContentLength, max)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("still: fetch %s: read: %w", url, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("still: fetch %s: more than the limit of %d bytes", url, max)
	}
	return data, nil
}
