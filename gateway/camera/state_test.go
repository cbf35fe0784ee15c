package camera

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/internal/statefile"
)

// TestRestart: a restart at 12:00 that comes back at 12:10 keeps the morning's
// accounting and counts the ten minutes as not covered; a state from the day
// before counts for yesterday only, not for today.
func TestRestart(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, almaty)
	cams := []config.Camera{{ID: "cam-v", Zones: []string{"room-1"}, Source: "generic", Topic: "v/state"}}
	cfg := testConfig(t, []config.Zone{{ID: "room-1", Kind: "living"}}, cams)
	run := func(c *Check, from, to time.Time) {
		if _, err := c.Message(msg("v/state", "online", from), true); err != nil {
			t.Fatal(err)
		}
		for now := from; !now.After(to); now = now.Add(time.Minute) {
			c.Tick(now, true)
		}
	}
	a, _ := New(cfg, newCondLog(time.Now), nil)
	run(a, day, day.Add(12*time.Hour))
	var saved bytes.Buffer
	if err := a.SaveState(&saved); err != nil {
		t.Fatal(err)
	}
	state := saved.Bytes()
	// Saved every minute on the Pi's SD card: twelve hours of steady coverage are
	// one run of minutes, not 720 (the first cut wrote ~100 KB a minute).
	if len(state) > 2048 {
		t.Errorf("the state file of a steady morning is %d bytes, want under 2 KiB", len(state))
	}

	b, _ := New(cfg, newCondLog(time.Now), nil)
	if err := b.LoadState(bytes.NewReader(state)); err != nil {
		t.Fatal(err)
	}
	run(b, day.Add(12*time.Hour+10*time.Minute), day.Add(13*time.Hour))
	if got, want := b.Snapshot().Zones[0].Today, (Span{Required: 13 * time.Hour, Covered: 12*time.Hour + 50*time.Minute}); got != want {
		t.Errorf("after the restart: %+v, want %+v", got, want)
	}
	// The rolling 24 hours go on from the saved minutes too (they restarted
	// empty: the live coverage and score read 3 % after a restart).
	end := day.Add(13 * time.Hour)
	if r, ok := b.CoverageRatio(end.Add(-24*time.Hour), end); !ok || math.Abs(r-(12*60+50)/(24*60.0)) > 1e-9 {
		t.Errorf("the last 24 hours after the restart: %.4f (known %v), want %.4f", r, ok, (12*60+50)/(24*60.0))
	}

	// Without the state, the morning is unknown.
	c, _ := New(cfg, newCondLog(time.Now), nil)
	run(c, day.Add(12*time.Hour+10*time.Minute), day.Add(13*time.Hour))
	if got, want := c.Snapshot().Zones[0].Today, (Span{Required: 13 * time.Hour, Covered: 50 * time.Minute}); got != want {
		t.Errorf("without state: %+v, want %+v", got, want)
	}

	// The next day the saved state is yesterday's: today starts empty.
	d, _ := New(cfg, newCondLog(time.Now), nil)
	if err := d.LoadState(bytes.NewReader(state)); err != nil {
		t.Fatal(err)
	}
	run(d, day.Add(24*time.Hour), day.Add(25*time.Hour))
	if got, want := d.Snapshot().Zones[0].Today, (Span{Required: time.Hour, Covered: time.Hour}); got != want {
		t.Errorf("next day: %+v, want %+v", got, want)
	}

	for _, bad := range []string{"{", `{"day_start":"2026-03-10T00:00:00+05:00","last":"2026-03-09T00:00:00+05:00"}`} {
		e, _ := New(cfg, newCondLog(time.Now), nil)
		if err := e.LoadState(bytes.NewReader([]byte(bad))); err == nil {
			t.Errorf("state %q accepted", bad)
		}
	}
}

// TestPersistTo: Run saves the state file at shutdown, and PersistTo loads it.
func TestPersistTo(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, almaty)
	cfg := testConfig(t, []config.Zone{{ID: "room-1", Kind: "living"}}, nil)
	path := filepath.Join(t.TempDir(), "camera-state.json")
	a, _ := New(cfg, newCondLog(time.Now), nil)
	if err := a.PersistTo(path); err != nil {
		t.Fatal(err)
	}
	a.Tick(day.Add(time.Hour), true)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.Contains(b, []byte(`"room-1"`)) {
		t.Fatalf("state file: %s, %v", b, err)
	}
	b, _ := New(cfg, newCondLog(time.Now), nil)
	if err := b.PersistTo(path); err != nil {
		t.Fatal(err)
	}
	b.Tick(day.Add(2*time.Hour), true)
	if got := b.Snapshot().Zones[0].Today.Required; got != 2*time.Hour {
		t.Errorf("required %s after reload, want 2h", got)
	}
}

// TestPersistToUnusable: a state file that cannot be used (here truncated by a
// power cut) is moved aside and reported naming the file; the day's coverage
// restarts and the next save writes a good file.
func TestPersistToUnusable(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, almaty)
	cfg := testConfig(t, []config.Zone{{ID: "room-1", Kind: "living"}}, nil)
	path := filepath.Join(t.TempDir(), "camera-state.json")
	if err := os.WriteFile(path, []byte(`{"version":1,"day_start":"2026-03-10T00:00:00+05:00","la`), 0o600); err != nil {
		t.Fatal(err)
	}
	a, _ := New(cfg, newCondLog(time.Now), nil)
	err := a.PersistTo(path)
	if !errors.Is(err, statefile.ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("PersistTo = %v; want an unusable file named", err)
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 1 {
		t.Errorf("not moved aside: %v", aside)
	}
	if a.restored != nil {
		t.Error("restored from an unusable file")
	}
	a.Tick(day.Add(time.Hour), true)
	if err := a.SaveTo(path); err != nil {
		t.Fatal(err)
	}
	b, _ := New(cfg, newCondLog(time.Now), nil)
	if err := b.PersistTo(path); err != nil {
		t.Fatalf("the next save is unusable: %v", err)
	}
}

// TestPersistToUnversioned: a state file written before the format had a version
// is read; a save before the first advance does not overwrite it.
func TestPersistToUnversioned(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, almaty)
	cfg := testConfig(t, []config.Zone{{ID: "room-1", Kind: "living"}}, nil)
	path := filepath.Join(t.TempDir(), "camera-state.json")
	old := `{"day_start":"2026-03-10T00:00:00+05:00","last":"2026-03-10T01:00:00+05:00","zones":{"room-1":[3600000000000,0]}}` + "\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	a, _ := New(cfg, newCondLog(time.Now), nil)
	if err := a.PersistTo(path); err != nil {
		t.Fatal(err)
	}
	if err := a.SaveTo(path); err != nil { // the clock not yet synchronised: nothing accounted
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != old {
		t.Errorf("saved before the first advance: %q", data)
	}
	a.Tick(day.Add(2*time.Hour), true)
	if got := a.Snapshot().Zones[0].Today.Required; got != 2*time.Hour {
		t.Errorf("required %s after reload, want 2h", got)
	}
	if err := a.SaveTo(path); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !bytes.HasPrefix(data, []byte(`{"version":1,`)) {
		t.Errorf("saved without a version: %s", data)
	}
}
