package rounds

import (
	"flag"
	"path/filepath"
	"strings"
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
	files, err := corpus.Files("../decode/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		caps, err := corpus.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		changed := false
		for i := range caps {
			c := &caps[i]
			var got string
			switch c.Source {
			case "rounds-button":
				scan, err := decodeButton(c.Topic, []byte(c.Payload))
				got = renderScan(scan, "", err)
			case "rounds-rfid":
				uid, err := decodeTasmota(c.Topic, []byte(c.Payload))
				got = renderScan(uid != "", uid, err)
			default:
				continue
			}
			n++
			if len(c.Want) == 1 && got == c.Want[0] {
				continue
			}
			if *updateCorpus {
				c.Want, changed = []string{got}, true
				continue
			}
			t.Errorf("%s:%d %s:\n got: %s\nwant: %s", filepath.Base(f), c.Line, c.Name, got, strings.Join(c.Want, "\n      "))
		}
		if changed {
			if err := corpus.Write(f, caps); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no button or reader capture in the corpus")
	}
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
