package influxsink

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"
)

// ReasonHeader is the header in which saqshy-ingest names why it refused a write
// (gateway/central/ingest).
const ReasonHeader = "X-Saqshy-Reason"

// IngestRefusal is a write the ministry's verifying ingest refused for good: 401,
// 403, 409 or 422 with a reason in [ReasonHeader]. Sending the same batch again
// cannot succeed, so the writer dead-letters it with the reason and moves on.
type IngestRefusal struct {
	Status  int
	Reason  string // the ingest's reason code, e.g. unknown_key
	Message string // the ingest's message
	Fix     string // what to do about it
}

func (e *IngestRefusal) Error() string {
	return fmt.Sprintf("the ministry's ingest refused the batch (HTTP %d %s): %s; fix: %s", e.Status, e.Reason, e.Message, e.Fix)
}

// ingestRefusal returns the refusal err carries, or nil when err is not one (a
// plain InfluxDB's 401 is retried: a token may be fixed without a restart).
func ingestRefusal(err error) *IngestRefusal {
	var he *http2.Error
	if !errors.As(err, &he) || he.Header == nil {
		return nil
	}
	reason := he.Header.Get(ReasonHeader)
	if reason == "" {
		return nil
	}
	switch he.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict, http.StatusUnprocessableEntity:
	default:
		return nil
	}
	msg := he.Message
	if msg == "" {
		msg = he.Error()
	}
	return &IngestRefusal{Status: he.StatusCode, Reason: reason, Message: msg}
}

// RefusalFix says what to do about an ingest's refusal reason; keyID is the
// fingerprint of the gateway's key ("" if unknown).
func RefusalFix(reason, keyID string) string {
	fp := "printed by saqshy-gateway keygen"
	if keyID != "" {
		fp = keyID
	}
	switch reason {
	case "unknown_key":
		return "register this gateway's key fingerprint " + fp + " with the ministry for this centre (and check centre.id)"
	case "bad_signature":
		return "the ingest could not verify the signature: check that influx.sign.key_file is this gateway's key, and that no proxy rewrites the request"
	case "unsigned":
		return "set influx.sign.key_file: the ingest takes only signed writes"
	case "wrong_centre_tag":
		return "centre.id must be the centre the key is registered for; points of another centre are never accepted"
	case "forbidden_measurement":
		return "the gateway wrote a measurement the ingest does not take: update saqshy-gateway or the ingest's list"
	case "replay", "fork":
		return "the chain state (influx.sign.chain_file) is out of step with the ministry's (restored from a backup, or deleted): ask the ministry to clear the sequence conflict; never restore the chain file"
	case "backdate":
		return "the points are older than the centre's last verified contact: check the clock (timedatectl) and never set it back"
	case "future":
		return "the points are ahead of the ministry's clock: check the clock (timedatectl)"
	}
	return "read the ingest's message; the points are in the dead-letter file (saqshy-gateway deadletter replay once fixed)"
}

// refusedByIngest dead-letters pts with the ingest's reason: never retried for
// ever, never silently dropped.
func (w *Writer) refusedByIngest(pts batch, ir *IngestRefusal) {
	ir.Fix = RefusalFix(ir.Reason, w.opt.KeyID)
	w.count(func(s *Stats) {
		s.Refused++
		s.DeadLettered += uint64(pts.len())
		s.RefusedWhy = fmt.Sprintf("HTTP %d %s: %s; fix: %s", ir.Status, ir.Reason, oneLine(ir.Message), ir.Fix)
	})
	w.log.Error("the ministry's ingest refused a batch; set aside in the dead-letter file, not retried",
		"status", ir.Status, "reason", ir.Reason, "err", ir.Message, "fix", ir.Fix,
		"points", pts.len(), "file", w.opt.DeadLetter)
	w.appendDeadLetter(pts, ir)
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }
