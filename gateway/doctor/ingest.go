package doctor

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/config"
)

// probeBody is the body a signed probe's link names. The probe is sent with an
// empty body instead, so that the ingest verifies the key and the signature and
// then refuses the request for its body (before the chain, the archive and the
// database see it): the answer says which of key, signature and centre is wrong
// without changing anything at the ministry.
const probeBody = "saqshy doctor probe\n"

// reasonHeader is saqshy-ingest's reason header (influxsink.ReasonHeader).
const reasonHeader = "X-Saqshy-Reason"

// checkIngest checks a signed gateway against the ministry's ingest at in.URL: the
// key can be read, and the ingest knows it for this centre. It prints the key's
// fingerprint, never the key.
func checkIngest(ctx context.Context, cfg *config.Config, token string, timeout time.Duration) Check {
	c := Check{Name: "influx"}
	in := cfg.Influx
	key, err := chain.LoadPrivateKey(in.Sign.KeyFile)
	if err != nil {
		c.Status, c.Title = Fail, fmt.Sprintf("The gateway key cannot be used: %v", err)
		c.Fix = fmt.Sprintf("make it with saqshy-gateway keygen --key %s (as root; then chown saqshy:saqshy it), register the printed fingerprint with the ministry, or run doctor as the saqshy user", in.Sign.KeyFile)
		return c
	}
	fp := chain.Fingerprint(key.Public().(ed25519.PublicKey))
	link := chain.Link{Centre: cfg.Centre.ID, Seq: 1, Body: chain.BodyHash([]byte(probeBody)), Precision: "ns"}
	link.Sign(key)
	q := url.Values{"org": {in.Org}, "bucket": {in.Bucket}, "precision": {"ns"}}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodPost, strings.TrimRight(in.URL, "/")+"/api/v2/write?"+q.Encode(), http.NoBody)
	if err != nil {
		c.Status, c.Title = Fail, fmt.Sprintf("influx.url %s: %v", in.URL, err)
		return c
	}
	link.SetHeaders(req.Header)
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.Status, c.Title = Fail, fmt.Sprintf("The ministry's ingest %s is not reachable: %v (key fingerprint %s)", in.URL, err, fp)
		c.Fix = fmt.Sprintf("check the centre's uplink (curl -sI %s/ping should answer 204) and the address in influx.url; meanwhile the gateway keeps readings in its spool", in.URL)
		return c
	}
	defer resp.Body.Close()
	var msg struct {
		Message string `json:"message"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	if json.Unmarshal(raw, &msg) != nil || msg.Message == "" {
		msg.Message = strings.TrimSpace(string(raw))
	}
	reason := resp.Header.Get(reasonHeader)
	who := fmt.Sprintf("centre %s, key fingerprint %s", cfg.Centre.ID, fp)
	switch {
	case reason == "bad_signature" && strings.Contains(msg.Message, "body sha256"):
		c.Status = Pass
		c.Title = fmt.Sprintf("The ministry's ingest %s knows this gateway's key (%s) and verified a signed probe", in.URL, who)
	case reason == "unknown_key" && strings.Contains(msg.Message, "another key"):
		c.Status = Fail
		c.Title = fmt.Sprintf("The ministry's ingest %s refuses this gateway: the registry holds another key for centre %s (this key's fingerprint is %s): %s", in.URL, cfg.Centre.ID, fp, msg.Message)
		c.Fix = fmt.Sprintf("register this fingerprint (%s) with the ministry for centre %s, or, if this gateway belongs to another centre, correct centre.id (wrong centre)", fp, cfg.Centre.ID)
	case reason == "unknown_key":
		c.Status = Fail
		c.Title = fmt.Sprintf("The ministry's ingest %s does not know this gateway's key (%s): %s", in.URL, who, msg.Message)
		c.Fix = fmt.Sprintf("register this fingerprint (%s) with the ministry for centre %s (the public key is printed by saqshy-gateway keygen; check centre.id too)", fp, cfg.Centre.ID)
	case reason == "bad_signature":
		c.Status = Fail
		c.Title = fmt.Sprintf("The ministry's ingest %s could not verify this gateway's signature (%s): %s", in.URL, who, msg.Message)
		c.Fix = "bad signature: check that no proxy between the centre and the ministry rewrites requests, and that influx.sign.key_file is the key registered for this centre"
	case reason == "":
		c.Status = Fail
		c.Title = fmt.Sprintf("influx.url %s answered HTTP %d to a signed probe without a saqshy-ingest reason: it is not the ministry's ingest (key fingerprint %s)", in.URL, resp.StatusCode, fp)
		c.Fix = "with influx.sign set, influx.url must be the ministry's ingest (saqshy-ingest), not InfluxDB itself; or remove influx.sign for a private, unrated InfluxDB"
	default:
		c.Status = Fail
		c.Title = fmt.Sprintf("The ministry's ingest %s refused a signed probe (HTTP %d %s, %s): %s", in.URL, resp.StatusCode, reason, who, msg.Message)
		c.Fix = "read the ingest's message; centre.id must be the centre the key is registered for"
	}
	if last := lastRefusal(cfg); last != "" {
		c.Items = append(c.Items, Item{Status: Warn, Text: "the gateway's last refused batch (dead-letter file): " + last})
	}
	return c
}

// lastRefusal returns the reason line of the last batch the ingest refused, from
// the dead-letter file in the spool directory; "" if there is none.
func lastRefusal(cfg *config.Config) string {
	data, err := readTail(filepath.Join(cfg.Spool.Dir, "deadletter.lp"), 64<<10)
	if err != nil {
		return ""
	}
	last := ""
	for _, l := range bytes.Split(data, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("# ")) && bytes.Contains(l, []byte("ingest refused")) {
			last = string(l[2:])
		}
	}
	return last
}

// readTail returns at most the last n bytes of the file at path.
func readTail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(st.Size()-n, 0)
	buf := make([]byte, st.Size()-off)
	_, err = f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf, nil
}
