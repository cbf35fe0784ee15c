package rounds

import (
	"flag"
	"testing"

	"github.com/saqshy/saqshy/gateway/internal/corpus"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the want lines of the button and reader captures from the current output")

// TestRoundsCorpus reads every button (rounds-button) and RFID reader (rounds-rfid)
// capture of the decoders' corpus and compares what the rounds check makes of it
// with its want lines. go test -run TestRoundsCorpus -update-corpus rewrites them;
// review the diff.
func TestRoundsCorpus(t *testing.T) {
	corpus.Check(t, "../decode/testdata/corpus", *updateCorpus, func(c corpus.Capture) []string {
		if c.Source == "rounds-button" {
			scan, err := decodeButton(c.Topic, []byte(c.Payload))
			return []string{renderScan(scan, "", err)}
		}
		uid, err := decodeTasmota(c.Topic, []byte(c.Payload))
		return []string{renderScan(uid != "", uid, err)}
	}, "rounds-button", "rounds-rfid")
}

func renderScan(scan bool, uid string, err error) string {
	switch {
	case err != nil:
		return "reject " + telemetry.Reason(err)
	case !scan:
		return "no scan"
	case uid != "":
		return "scan uid=" + uid
	}
	return "scan"
}
