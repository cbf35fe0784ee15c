package gateway_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
)

// pki writes a CA, a server certificate for 127.0.0.1 and a client certificate into
// dir and returns their paths.
type pki struct{ ca, serverCert, serverKey, clientCert, clientKey string }

func newPKI(t *testing.T, dir string) pki {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "saqshy test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage, ip net.IP) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
		}
		if ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(key)
		certPath, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
		writePEM(t, certPath, "CERTIFICATE", der)
		writePEM(t, keyPath, "EC PRIVATE KEY", kb)
		return certPath, keyPath
	}
	p := pki{ca: filepath.Join(dir, "ca.crt")}
	writePEM(t, p.ca, "CERTIFICATE", caDER)
	p.serverCert, p.serverKey = issue("server", 2, x509.ExtKeyUsageServerAuth, net.ParseIP("127.0.0.1"))
	p.clientCert, p.clientKey = issue("gateway", 3, x509.ExtKeyUsageClientAuth, nil)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMQTTTLSClientCertAndPasswordFile: the gateway reaches a broker that demands
// TLS, a client certificate and a password read from password_file; with a wrong
// password it stays disconnected and keeps running instead of crashing.
func TestMQTTTLSClientCertAndPasswordFile(t *testing.T) {
	dir := t.TempDir()
	p := newPKI(t, dir)
	passwd := filepath.Join(dir, "passwd")
	if out, err := exec.Command("mosquitto_passwd", "-b", "-c", passwd, "saqshy", "s3cret").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
	}
	tlsPort := testenv.FreePort(t)
	mq := testenv.StartMosquitto(t, testenv.MosquittoOptions{Extra: fmt.Sprintf(`
listener %d 127.0.0.1
cafile %s
certfile %s
keyfile %s
require_certificate true
password_file %s
per_listener_settings false
allow_anonymous false
`, tlsPort, p.ca, p.serverCert, p.serverKey, passwd)})
	_ = mq
	c := sim.NewFleet("tls-c1", 1, 7)
	cfg := c.Config
	cfg.MQTT.URL = fmt.Sprintf("ssl://127.0.0.1:%d", tlsPort)
	cfg.MQTT.CAFile, cfg.MQTT.CertFile, cfg.MQTT.KeyFile = p.ca, p.clientCert, p.clientKey
	cfg.MQTT.Username = "saqshy"
	pwFile := filepath.Join(dir, "mqtt.pass")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.PasswordFile = pwFile
	cfg.Spool.Dir = t.TempDir()
	cfg.Status.Listen = "off"
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g, stop := startGateway(t, c)
	if !g.Stats().MQTTConnected {
		t.Fatal("not connected over TLS")
	}
	stop()

	// Wrong password: no connection, no crash, Run still returns cleanly.
	if err := os.WriteFile(pwFile, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Spool.Dir = t.TempDir()
	bad, err := gateway.New(cfg, gateway.Options{Logger: testLogger(t), Clock: gateway.FixedSync(true)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithTimeout(3 * time.Second)
	defer cancel()
	if err := bad.Run(ctx); err != nil {
		t.Fatalf("Run with a wrong password: %v", err)
	}
	if bad.Stats().MQTTConnected {
		t.Fatal("connected with a wrong password")
	}
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
