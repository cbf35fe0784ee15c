package doctor

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/registry"
)

const (
	regCentre = "../../firmware-config/centres/shymkent-csu-2.yaml"
	regEntry  = "../../firmware-config/registry/shymkent-csu-2.yaml"
	regBundle = "../../firmware-config/registry/shymkent-csu-2.bundle"
	regPub    = "../../firmware-config/registry/demo-ministry.pub"
	regKey    = "../../firmware-config/registry/demo-ministry.key"
)

func TestCheckRegistry(t *testing.T) {
	cfg, err := config.Load(regCentre)
	if err != nil {
		t.Fatal(err)
	}
	opt := &Options{}
	opt.defaults()
	if c := checkRegistry(t.Context(), cfg, opt); c.Status != Skip || !strings.Contains(c.Title, "not rated") {
		t.Fatalf("no registry section: %+v", c)
	}

	cfg.Registry = config.Registry{PublicKeyFile: regPub, Dir: t.TempDir(), FetchEvery: config.Duration(time.Hour)}
	if c := checkRegistry(t.Context(), cfg, opt); c.Status != Warn || !strings.Contains(c.Title, "No registry bundle installed") {
		t.Fatalf("no bundle: %+v", c)
	}
	bundle, _ := os.ReadFile(regBundle)
	if err := os.WriteFile(cfg.Registry.BundlePath(), bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	if c := checkRegistry(t.Context(), cfg, opt); c.Status != Pass || !strings.Contains(c.Title, "Registry v1 in force for shymkent-csu-2") {
		t.Fatalf("bundle in force: %+v", c)
	}

	// A weakening local setting fails, naming the line.
	weak := *cfg
	weak.Score.Caps = "off"
	if c := checkRegistry(t.Context(), &weak, opt); c.Status != Fail || len(c.Items) == 0 || !strings.Contains(c.Items[0].Text, "score.caps") {
		t.Fatalf("caps off: %+v", c)
	}

	// registry.url: what the monitor serves, verified, not installed.
	priv, _ := os.ReadFile(regKey)
	key, err := registry.ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	e, err := registry.Load(regEntry)
	if err != nil {
		t.Fatal(err)
	}
	var serve []byte
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(serve) }))
	defer srv.Close()
	cfg.Registry.URL = srv.URL + "/registry/v1/shymkent-csu-2.bundle"
	opt.RegistryClient = srv.Client()
	e.Version = 2
	serve, _ = registry.Sign(e, key)
	c := checkRegistry(t.Context(), cfg, opt)
	if c.Status != Pass || len(c.Items) != 1 || !strings.Contains(c.Items[0].Text, "serves v2, newer") {
		t.Fatalf("newer served: %+v", c)
	}
	if got, _ := os.ReadFile(cfg.Registry.BundlePath()); string(got) != string(bundle) {
		t.Fatal("doctor installed the served bundle")
	}
	e.Centre.ID = "almaty-csu-1"
	serve, _ = registry.Sign(e, key)
	if c := checkRegistry(t.Context(), cfg, opt); c.Status != Fail || !strings.Contains(c.Items[0].Text, "another centre") {
		t.Fatalf("another centre's served: %+v", c)
	}
	srv.Close()
	if c := checkRegistry(t.Context(), cfg, opt); c.Status != Warn || !strings.Contains(c.Items[0].Text, "fetch: ") {
		t.Fatalf("monitor down: %+v", c)
	}

	// A bundle changed on disk is refused.
	if err := os.WriteFile(cfg.Registry.BundlePath(), []byte(strings.Replace(string(bundle), `"signature": "`, `"signature": "AAAA`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Registry.URL = ""
	if c := checkRegistry(t.Context(), cfg, opt); c.Status != Fail || !strings.Contains(c.Title, "refused") {
		t.Fatalf("tampered bundle: %+v", c)
	}
}
