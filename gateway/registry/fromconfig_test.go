package registry

import (
	"testing"

	"github.com/saqshy/saqshy/gateway/config"
)

// TestFromConfig: the draft of a config validates, and the config it was drawn
// from obeys it (Check finds nothing, Apply changes no score-relevant setting).
func TestFromConfig(t *testing.T) {
	cfg, err := config.Load(centrePath)
	if err != nil {
		t.Fatal(err)
	}
	e := FromConfig(cfg, "turkistan", []Recipient{{Name: "Ministry duty officer", TelegramChat: "-1001000000002", CriticalWithin: Duration(30 * 60e9)}})
	if err := e.Validate(); err != nil {
		t.Fatalf("the draft does not validate:\n%v", err)
	}
	if errs := Check(cfg, e); len(errs) > 0 {
		t.Fatalf("the config weakens its own draft: %v", errs)
	}
	if got, want := EffectiveHash(Apply(cfg, e)), EffectiveHash(cfg); got != want {
		t.Errorf("Apply changed the config it was drawn from: hash %s, want %s", got, want)
	}
	if len(e.Zones) != len(cfg.Zones) || len(e.Sensors) != len(cfg.Sensors) || len(e.Rounds.Checkpoints) != len(cfg.Rounds.Checkpoints) {
		t.Errorf("draft has %d zones, %d sensors, %d checkpoints; config %d, %d, %d", len(e.Zones), len(e.Sensors), len(e.Rounds.Checkpoints),
			len(cfg.Zones), len(cfg.Sensors), len(cfg.Rounds.Checkpoints))
	}
}
