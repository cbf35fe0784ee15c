package gateway

import (
	"crypto/ed25519"
	"fmt"

	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/influxsink"
)

// influxClient returns the InfluxDB client: signing every write as a link of the
// gateway's chain when influx.sign is set (the ministry's ingest), plain otherwise.
// keyID is the key's fingerprint ("" when unsigned); the key itself is never logged.
func (g *Gateway) influxClient(token string) (c *influxsink.Client, keyID string, err error) {
	in := g.cfg.Influx
	if !in.Sign.Enabled() {
		return influxsink.NewClient(in.URL, token, in.Org, in.Bucket, in.Timeout.Std()), "", nil
	}
	key, err := chain.LoadPrivateKey(in.Sign.KeyFile)
	if err != nil {
		return nil, "", fmt.Errorf("gateway: influx.sign: %w", err)
	}
	ch, err := chain.Open(in.Sign.ChainFile, g.cfg.Centre.ID, key)
	if err != nil {
		return nil, "", fmt.Errorf("gateway: influx.sign: %w", err)
	}
	keyID = chain.Fingerprint(key.Public().(ed25519.PublicKey))
	seq, _ := ch.Head()
	_, _, pending := ch.Pending()
	g.log.Info("signing writes for the ministry's ingest", "key_fingerprint", keyID, "chain", in.Sign.ChainFile,
		"chain_seq", seq, "pending_link", pending)
	return influxsink.NewSignedClient(in.URL, token, in.Org, in.Bucket, in.Timeout.Std(), ch), keyID, nil
}
