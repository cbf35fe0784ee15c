package config

import (
	"strings"
	"testing"
)

// TestInfluxSign: signing is off by default; with a key file the chain lives with
// the spool; a chain file without a key, or signing without a url, is an error
// naming the field.
func TestInfluxSign(t *testing.T) {
	cfg, err := Parse("x.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Influx.Sign.Enabled() || cfg.Influx.Sign.ChainFile != "" {
		t.Fatalf("signing on by default: %+v", cfg.Influx.Sign)
	}
	cfg, err = Parse("x.yaml", []byte(minimal+"influx: {url: \"https://ingest.example.org\", bucket: c, sign: {key_file: /etc/saqshy/gateway.key}}\nspool: {dir: /var/lib/s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Influx.Sign.Enabled() || cfg.Influx.Sign.ChainFile != "/var/lib/s/chain.json" {
		t.Fatalf("sign %+v, want the chain in the spool dir", cfg.Influx.Sign)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"influx: {url: \"https://i.example.org\", bucket: c, sign: {chain_file: /x/chain.json}}\n", "influx.sign.key_file: required when chain_file is set"},
		{"influx: {sign: {key_file: /etc/saqshy/gateway.key}}\n", "influx.sign: signing needs influx.url"},
		{"influx: {url: \"https://i.example.org\", bucket: c, sign: {key: /k}}\n", `unknown field "key"`},
	} {
		_, err := Parse("x.yaml", []byte(minimal+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", strings.TrimSpace(tc.yaml), err, tc.want)
		}
	}
}
