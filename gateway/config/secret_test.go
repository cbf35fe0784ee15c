package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mqtt.pass")
	if err := os.WriteFile(file, []byte("  s3cret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const env = "SAQSHY_TEST_SECRET"

	t.Setenv(env, "")
	if got, err := Secret(file, env); err != nil || got != "s3cret-from-file" {
		t.Errorf("from file: %q %v", got, err)
	}
	if got, err := Secret("", env); err != nil || got != "" {
		t.Errorf("nothing configured: %q %v", got, err)
	}
	missing := filepath.Join(dir, "missing.pass")
	_, err := Secret(missing, env)
	if err == nil || !strings.Contains(err.Error(), missing) || strings.Count(err.Error(), missing) != 1 {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Secret(empty, env); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}

	t.Setenv(env, "s3cret-from-env\n")
	if got, err := Secret(missing, env); err != nil || got != "s3cret-from-env" {
		t.Errorf("env wins: %q %v", got, err)
	}
}

func TestConfigSecrets(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "mqtt.pass")
	token := filepath.Join(dir, "influx.token")
	_ = os.WriteFile(pass, []byte("mqtt-pass\n"), 0o600)
	_ = os.WriteFile(token, []byte("influx-token"), 0o600)
	c := Default()
	c.MQTT.PasswordFile, c.Influx.TokenFile = pass, token
	t.Setenv(EnvMQTTPassword, "")
	t.Setenv(EnvInfluxToken, "")
	if p, err := c.MQTTPassword(); err != nil || p != "mqtt-pass" {
		t.Errorf("MQTTPassword = %q %v", p, err)
	}
	if p, err := c.InfluxToken(); err != nil || p != "influx-token" {
		t.Errorf("InfluxToken = %q %v", p, err)
	}
	t.Setenv(EnvInfluxToken, "from-env")
	if p, err := c.InfluxToken(); err != nil || p != "from-env" {
		t.Errorf("InfluxToken from env = %q %v", p, err)
	}
	if s := c.Summary(); strings.Contains(s, "mqtt-pass") || strings.Contains(s, "from-env") {
		t.Errorf("secret in summary:\n%s", s)
	}
}
