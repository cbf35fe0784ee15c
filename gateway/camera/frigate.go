package camera

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// frigateCamStats is one camera's part of a frigate/stats message (0.14 to 0.18).
type frigateCamStats struct {
	FPS     float64 // camera_fps; 0 for an offline camera ("camera_fps for any offline camera will be 0")
	Running bool    // the camera's processes have pids (pid and capture_pid not null or 0)
	Quality string  // connection_quality (0.18+): excellent, fair, poor, unusable; "" before
}

// frigateStats is what the gateway reads from one frigate/stats message.
type frigateStats struct {
	Cameras    map[string]frigateCamStats
	StorageLow bool   // the recordings mount has less than storageLowFraction free
	Version    string // service.version, for the status page
}

// storageLowFraction: the recordings mount with less free space than this fraction of
// its total is nearly full. Frigate deletes the oldest recordings at 1 hour of
// space left, so a mount this full is retention silently shrinking.
const storageLowFraction = 0.05

// rawFrigateStats mirrors the fields of /api/stats the gateway reads. Pointers tell
// null and absent from zero.
type rawFrigateStats struct {
	Cameras map[string]*rawFrigateCam `json:"cameras"`
	Service *struct {
		Version string `json:"version"`
		Storage map[string]*struct {
			Total *float64 `json:"total"`
			Free  *float64 `json:"free"`
		} `json:"storage"`
	} `json:"service"`
}

// rawFrigateCam is one camera's entry of /api/stats.
type rawFrigateCam struct {
	CameraFPS         *float64        `json:"camera_fps"`
	PID               json.RawMessage `json:"pid"`
	CapturePID        json.RawMessage `json:"capture_pid"`
	ConnectionQuality *string         `json:"connection_quality"`
}

// frigateQualities are the values of connection_quality.
var frigateQualities = []string{"excellent", "fair", "poor", "unusable"}

// parseFrigateStats decodes a frigate/stats payload. It rejects anything that is
// not a stats object with a cameras object ("bad_json"), camera entries of the
// wrong shape or with impossible values ("bad_value"), and oversized or empty
// payloads.
func parseFrigateStats(payload []byte) (frigateStats, error) {
	if err := checkPayload(payload); err != nil {
		return frigateStats{}, err
	}
	var raw rawFrigateStats
	if err := json.Unmarshal(payload, &raw); err != nil {
		return frigateStats{}, badJSON("frigate stats: %v", err)
	}
	if raw.Cameras == nil {
		// Frigate 0.12 and older keep each camera at the top level, beside
		// "detectors" and "service": a camera is a member with a camera_fps.
		var top map[string]json.RawMessage
		if err := json.Unmarshal(payload, &top); err != nil {
			return frigateStats{}, badJSON("frigate stats: %v", err)
		}
		for name, v := range top {
			if name == "service" || name == "detectors" || len(v) == 0 || v[0] != '{' {
				continue
			}
			var probe map[string]json.RawMessage
			if json.Unmarshal(v, &probe) != nil {
				continue
			}
			if _, ok := probe["camera_fps"]; !ok {
				continue
			}
			cam := new(rawFrigateCam)
			if err := json.Unmarshal(v, cam); err != nil {
				return frigateStats{}, badValue("frigate stats: camera %q: %v", clipStr(name), err)
			}
			if raw.Cameras == nil {
				raw.Cameras = map[string]*rawFrigateCam{}
			}
			raw.Cameras[name] = cam
		}
	}
	if raw.Cameras == nil {
		return frigateStats{}, badJSON("frigate stats: no cameras object, and no camera at the top level (Frigate 0.12 and older)")
	}
	st := frigateStats{Cameras: make(map[string]frigateCamStats, len(raw.Cameras))}
	for name, c := range raw.Cameras {
		if c == nil {
			return frigateStats{}, badValue("frigate stats: camera %q: null", clipStr(name))
		}
		if c.CameraFPS == nil {
			return frigateStats{}, badValue("frigate stats: camera %q: no camera_fps", clipStr(name))
		}
		fps := *c.CameraFPS
		if fps < 0 || fps > 1000 || math.IsNaN(fps) {
			return frigateStats{}, badValue("frigate stats: camera %q: camera_fps %g out of range", clipStr(name), fps)
		}
		cs := frigateCamStats{FPS: fps, Running: pidOK(c.PID) && pidOK(c.CapturePID)}
		if c.ConnectionQuality != nil {
			q := *c.ConnectionQuality
			if !slices.Contains(frigateQualities, q) {
				return frigateStats{}, badValue("frigate stats: camera %q: unknown connection_quality %q", clipStr(name), clipStr(q))
			}
			cs.Quality = q
		}
		st.Cameras[name] = cs
	}
	if raw.Service != nil {
		st.Version = clipStr(raw.Service.Version)
		for path, s := range raw.Service.Storage {
			// Only the recordings mount: /tmp/cache and /dev/shm run full by design.
			if !strings.Contains(path, "recordings") || s == nil || s.Total == nil || s.Free == nil || *s.Total <= 0 {
				continue
			}
			if *s.Free < storageLowFraction**s.Total {
				st.StorageLow = true
			}
		}
	}
	return st, nil
}

// FrigateFPS returns each camera's camera_fps from a frigate/stats payload, in
// either layout (under "cameras", 0.13 and later; at the top level, 0.12 and
// older), or why the payload is refused.
func FrigateFPS(payload []byte) (map[string]float64, error) {
	st, err := parseFrigateStats(payload)
	if err != nil {
		return nil, err
	}
	fps := make(map[string]float64, len(st.Cameras))
	for name, c := range st.Cameras {
		fps[name] = c.FPS
	}
	return fps, nil
}

// pidOK reports whether a pid field names a process: absent (older versions do not
// report capture_pid for every camera) counts as fine, null, 0 or anything but a
// number as none.
func pidOK(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return true
	}
	var pid float64
	return json.Unmarshal(raw, &pid) == nil && pid > 0
}

// frigateTopic classifies a topic under a Frigate prefix: kind is "available",
// "stats", "status/detect", "status/record", "recordings", "enabled", or "" for a
// topic the gateway does not read; cam is the Frigate camera name.
func frigateTopic(prefix, topic string) (kind, cam string) {
	rest, ok := strings.CutPrefix(topic, prefix+"/")
	if !ok {
		return "", ""
	}
	switch rest {
	case "available":
		return "available", ""
	case "stats":
		return "stats", ""
	}
	cam, sub, ok := strings.Cut(rest, "/")
	if !ok || cam == "" {
		return "", ""
	}
	switch sub {
	case "status/detect", "status/record":
		return sub, cam
	case "recordings/state":
		return "recordings", cam
	case "enabled/state":
		return "enabled", cam
	}
	return "", ""
}

// parseWord reads a plain-text payload that must be one of words (compared without
// case, surrounding space ignored) and returns it in lower case.
func parseWord(payload []byte, words ...string) (string, error) {
	if err := checkPayload(payload); err != nil {
		return "", err
	}
	w := strings.ToLower(string(bytes.TrimSpace(payload)))
	if !slices.Contains(words, w) {
		return "", badValue("%q is none of %s", clipStr(w), strings.Join(words, ", "))
	}
	return w, nil
}

// checkPayload rejects payloads that are too large or empty.
func checkPayload(payload []byte) error {
	if len(payload) > telemetry.MaxPayload {
		return &telemetry.RejectError{Source: "camera", Reason: "too_large", Err: fmt.Errorf("%d bytes, limit %d", len(payload), telemetry.MaxPayload)}
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		return &telemetry.RejectError{Source: "camera", Reason: "empty"}
	}
	return nil
}

func badJSON(format string, args ...any) error {
	return &telemetry.RejectError{Source: "camera", Reason: "bad_json", Err: fmt.Errorf(format, args...)}
}

func badValue(format string, args ...any) error {
	return &telemetry.RejectError{Source: "camera", Reason: "bad_value", Err: fmt.Errorf(format, args...)}
}

// clipStr shortens s for messages and reasons.
func clipStr(s string) string {
	const n = 48
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
