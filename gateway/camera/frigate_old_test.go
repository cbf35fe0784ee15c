package camera

import "testing"

// TestFrigateStatsOf011: Frigate 0.12 and older keep the cameras at the top level of
// frigate/stats. Payload from a user's report on Frigate 0.11.0
// (https://github.com/blakeblackshear/frigate/issues/3778).
func TestFrigateStatsOf011(t *testing.T) {
	const payload = `{"citofono":{"camera_fps":10.5,"capture_pid":225,"detection_fps":0.0,"pid":222,"process_fps":10.5,"skipped_fps":0.0},"detection_fps":0.0,"detectors":{"coral":{"detection_start":0.0,"inference_speed":22.51,"pid":215}},"living":{"camera_fps":5.1,"capture_pid":228,"detection_fps":0.0,"pid":223,"process_fps":5.1,"skipped_fps":0.0},"service":{"latest_version":"0.10.1","storage":{"/dev/shm":{"free":264.3,"mount_type":"tmpfs","total":268.4,"used":4.1},"/media/frigate/clips":{"free":1262366.2,"mount_type":"nfs4","total":23880421.1,"used":22617933.2},"/media/frigate/recordings":{"free":1262366.2,"mount_type":"nfs4","total":23880421.1,"used":22617933.2},"/tmp/cache":{"free":999.6,"mount_type":"tmpfs","total":1000.0,"used":0.4}},"temperatures":{},"uptime":1926,"version":"0.11.0-c461c9e"}}`
	st, err := parseFrigateStats([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Cameras) != 2 || st.Cameras["citofono"].FPS != 10.5 || !st.Cameras["citofono"].Running ||
		st.Cameras["living"].FPS != 5.1 || st.Version != "0.11.0-c461c9e" {
		t.Errorf("stats %+v", st)
	}
	// The recordings mount has 5.3 % free: not low.
	if st.StorageLow {
		t.Error("storage reported low")
	}
	// Neither layout: still rejected.
	if _, err := parseFrigateStats([]byte(`{"detectors":{},"service":{"uptime":1}}`)); err == nil {
		t.Error("stats without any camera accepted")
	}
}
