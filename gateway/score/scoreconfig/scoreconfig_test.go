package scoreconfig

import (
	"testing"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/score"
)

func TestScoreDefaultsAgree(t *testing.T) {
	if weights(config.DefaultScoreWeights) != score.DefaultWeights || config.DefaultWeightsVersion != score.DefaultWeightsVersion {
		t.Fatalf("config defaults %+v %s differ from the score's %v %s", config.DefaultScoreWeights,
			config.DefaultWeightsVersion, score.DefaultWeights, score.DefaultWeightsVersion)
	}
}
