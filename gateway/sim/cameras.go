package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// Camera is one simulated camera behind a simulated Frigate.
type Camera struct {
	Config config.Camera
	// Flaky cameras drop out now and then (fps 0) and come back; one of them also
	// has its recording switched off for a while.
	Flaky bool
	// Down and RecordingOff are the camera's current faults.
	Down, RecordingOff bool
	fps                float64
	recordingSent      string // the retained recordings/state last published
}

// FrigatePrefix is the simulated Frigate's MQTT topic prefix.
const FrigatePrefix = "frigate"

// cameraPlan maps the demo centre's zones that need watching to cameras; the
// bathroom gets none (private).
var cameraPlan = []struct {
	id    string
	zones []string
	flaky bool
}{
	{"cam-101", []string{"room-101"}, false}, {"cam-102", []string{"room-102"}, false},
	{"cam-103", []string{"room-103"}, true}, {"cam-104", []string{"room-104"}, false},
	{"cam-201", []string{"room-201", "room-202"}, false}, {"cam-treatment", []string{"treatment"}, false},
	{"cam-dining", []string{"dining", "kitchen"}, false}, {"cam-play", []string{"play", "activity"}, false},
	{"cam-corridor-1", []string{"corridor-1"}, false}, {"cam-corridor-2", []string{"corridor-2"}, true},
	{"cam-entrance", []string{"entrance"}, false},
}

// addCameras gives the centre its Frigate cameras.
func (c *Centre) addCameras() {
	for _, p := range cameraPlan {
		cam := config.Camera{ID: p.id, Zones: p.zones, Source: config.CameraFrigate, Name: strings.ReplaceAll(p.id, "-", "_"),
			Topic: FrigatePrefix, StatsInterval: config.DefaultFrigateStats, MinFPS: config.DefaultCameraMinFPS}
		c.Config.Cameras = append(c.Config.Cameras, cam)
		c.Cameras = append(c.Cameras, &Camera{Config: cam, Flaky: p.flaky, fps: 5})
	}
}

// CameraAvailability returns Frigate's retained availability message, when the
// centre has cameras.
func (c *Centre) CameraAvailability() []Message {
	if len(c.Cameras) == 0 {
		return nil
	}
	return []Message{{Topic: FrigatePrefix + "/available", Payload: []byte("online"), Retained: true}}
}

// CameraTick advances the cameras (flaky ones fail and recover at random: down for
// a few minutes about once an hour at a 5 s period) and returns Frigate's stats
// message for them, plus the retained recordings/state of each camera whose
// recording changed.
func (c *Centre) CameraTick(t time.Time) []Message {
	if len(c.Cameras) == 0 {
		return nil
	}
	var msgs []Message
	var b strings.Builder
	b.WriteString(`{"cameras":{`)
	for i, cam := range c.Cameras {
		if cam.Flaky {
			switch {
			case !cam.Down && c.rng.Float64() < 0.002:
				cam.Down = true
			case cam.Down && c.rng.Float64() < 0.05:
				cam.Down = false
			}
			if i == len(c.Cameras)-2 { // the second flaky camera's recording fails too
				switch {
				case !cam.RecordingOff && c.rng.Float64() < 0.002:
					cam.RecordingOff = true
				case cam.RecordingOff && c.rng.Float64() < 0.05:
					cam.RecordingOff = false
				}
			}
		}
		fps, pid := 5.0+c.rng.Float64()*0.2-0.1, fmt.Sprint(400+i)
		if cam.Down {
			fps, pid = 0, "null"
		}
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%q:{"camera_fps":%.1f,"process_fps":%.1f,"skipped_fps":0.0,"detection_fps":0.2,"detection_enabled":true,"pid":%d,"capture_pid":%s,"ffmpeg_pid":%s,"audio_rms":0.0,"audio_dBFS":0.0}`,
			cam.Config.Name, fps, fps, 300+i, pid, pid)
		rec := "ON"
		if cam.RecordingOff {
			rec = "OFF"
		}
		if rec != cam.recordingSent {
			cam.recordingSent = rec
			msgs = append(msgs, Message{Topic: FrigatePrefix + "/" + cam.Config.Name + "/recordings/state", Payload: []byte(rec), Retained: true})
		}
	}
	fmt.Fprintf(&b, `},"detectors":{"cpu":{"inference_speed":42.0,"detection_start":0.0,"pid":200}},"service":{"uptime":%d,"version":"0.17.2","latest_version":"0.17.2","last_updated":%d,`+
		`"storage":{"/media/frigate/recordings":{"total":953869.7,"used":412000.1,"free":541869.6,"mount_type":"ext4"}}}}`, 3600, t.Unix())
	return append(msgs, Message{Topic: FrigatePrefix + "/stats", Payload: []byte(b.String())})
}
