package camera

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// condLog records what the check raised and cleared, with the check's time.
type condLog struct {
	mu   sync.Mutex
	now  func() time.Time
	ops  []string
	open map[string]telemetry.Condition
}

func newCondLog(now func() time.Time) *condLog {
	return &condLog{now: now, open: map[string]telemetry.Condition{}}
}

func (l *condLog) Raise(c telemetry.Condition) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, fmt.Sprintf("%s raise %s %s %s since %s", hm(l.now()), c.Kind, c.Subject, c.Severity, hm(c.Since)))
	l.open[c.Kind+"/"+c.Subject] = c
}

func (l *condLog) Clear(kind, subject string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, fmt.Sprintf("%s clear %s %s", hm(at), kind, subject))
	delete(l.open, kind+"/"+subject)
}

func (l *condLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.ops
	l.ops = nil
	return out
}

// hm formats a time of the test day in Almaty.
func hm(t time.Time) string { return t.In(almaty).Format("15:04:05") }

var almaty = mustLoc("Asia/Almaty")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// testConfig returns a valid config with the given zones and cameras.
func testConfig(t testing.TB, zones []config.Zone, cams []config.Camera) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Centre.ID = "c1"
	cfg.Status.Listen = config.StatusOff
	cfg.Zones, cfg.Cameras = zones, cams
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func msg(topic, payload string, at time.Time) telemetry.Message {
	return telemetry.Message{Topic: topic, Payload: []byte(payload), Received: at}
}

// states renders the snapshot's cameras as "id=state/reason/covers".
func states(s Snapshot) string {
	var parts []string
	for _, c := range s.Cameras {
		cov := "-"
		if c.Covers {
			cov = "covers"
		}
		parts = append(parts, fmt.Sprintf("%s=%s/%s/%s", c.ID, c.State, c.Reason, cov))
	}
	return strings.Join(parts, " ")
}

// points renders point events as line-protocol-like strings, one per point.
func points(evs []telemetry.Event) []string {
	var out []string
	for _, e := range evs {
		p := e.Point
		var b strings.Builder
		b.WriteString(p.Measurement)
		for _, t := range p.Tags {
			fmt.Fprintf(&b, ",%s=%s", t.Key, t.Value)
		}
		for i, f := range p.Fields {
			if i == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteByte(',')
			}
			b.WriteString(f.String())
		}
		fmt.Fprintf(&b, " %s", hm(e.Time))
		out = append(out, b.String())
	}
	return out
}
