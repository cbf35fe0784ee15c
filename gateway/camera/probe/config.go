package probe

import (
	"fmt"
	"log/slog"

	"github.com/saqshy/saqshy/gateway/config"
)

// FromConfig returns the prober of the centre's cameras the gateway probes itself
// (source saqshy with an RTSP or snapshot URL), or nil when there are none. A camera
// whose password file cannot be read is probed no less: its reports say so
// (offline, "password_file: ..."), on the status page too.
func FromConfig(cfg *config.Config, pub Publisher, log *slog.Logger) *Prober {
	var targets []Target
	for _, cam := range cfg.Cameras {
		if cam.Source != config.CameraSaqshy || !cam.Probed() {
			continue
		}
		pass, err := cam.CameraPassword()
		if err != nil {
			err = fmt.Errorf("password_file: %w", err)
		}
		targets = append(targets, Target{Camera: cam.ID, Topic: cam.Topic, RTSPURL: cam.RTSPURL, SnapshotURL: cam.SnapshotURL,
			Username: cam.Username, Password: pass, Interval: cam.Interval.Std(), Timeout: cam.Timeout.Std(), Err: err})
	}
	if len(targets) == 0 {
		return nil
	}
	return New(targets, pub, log)
}

// Name labels the prober among the gateway's checks; it reads nothing and only runs.
func (p *Prober) Name() string { return "camera_probe" }
