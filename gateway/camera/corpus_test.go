package camera

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/saqshy/saqshy/gateway/internal/corpus"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the want lines of the frigate captures from the current output")

// corpusDir is the decoders' real-capture corpus, which holds Frigate's too.
const corpusDir = "../decode/testdata/corpus"

// TestFrigateCorpus reads every frigate capture of the corpus (Frigate's own
// fixtures and users' reports, both stats layouts) and compares what the gateway
// makes of it with its want lines. go test -run TestFrigateCorpus -update-corpus
// rewrites them; review the diff.
func TestFrigateCorpus(t *testing.T) {
	corpus.Check(t, corpusDir, *updateCorpus, func(c corpus.Capture) []string {
		return renderFrigate(c.Topic, []byte(c.Payload))
	}, "frigate")
}

// renderFrigate writes what the gateway reads of a Frigate message as want lines.
func renderFrigate(topic string, payload []byte) []string {
	if kind, _ := frigateTopic("frigate", topic); kind != "stats" {
		return []string{fmt.Sprintf("topic kind %q", kind)}
	}
	st, err := parseFrigateStats(payload)
	if err != nil {
		return []string{"reject " + telemetry.Reason(err)}
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(st.Cameras)) {
		c := st.Cameras[name]
		line := fmt.Sprintf("camera %s fps=%s running=%t", name, strconv.FormatFloat(c.FPS, 'f', -1, 64), c.Running)
		if c.Quality != "" {
			line += " quality=" + c.Quality
		}
		out = append(out, line)
	}
	return append(out, fmt.Sprintf("nvr version=%q storage_low=%t", st.Version, st.StorageLow))
}
