package main

import (
	"path/filepath"
	"testing"
	"time"
)

// TestDeployConfigLoads: the example deploy/central/ingest.yaml is a valid config.
func TestDeployConfigLoads(t *testing.T) {
	c, err := loadConfig(filepath.Join("..", "..", "deploy", "central", "ingest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8087" || c.KeysFile == "" || c.Influx.TokenFile == "" || c.Grace != 10*time.Minute {
		t.Fatalf("config %+v", c)
	}
}
