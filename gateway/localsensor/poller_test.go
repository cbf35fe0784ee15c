package localsensor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// recorder collects what a Poller emits and reports.
type recorder struct {
	mu      sync.Mutex
	batches [][]telemetry.Sample
	errs    map[string][]error
	fail    error // returned by emit
}

func (r *recorder) emit(_ context.Context, s []telemetry.Sample) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, s)
	return r.fail
}

func (r *recorder) onError(device string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.errs == nil {
		r.errs = map[string][]error{}
	}
	r.errs[device] = append(r.errs[device], err)
}

// runPoller starts p in the bubble and returns a function that cancels it and
// checks that Run returned nil.
func runPoller(t *testing.T, p *Poller, r *recorder) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, r.emit) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v, want nil on cancellation", err)
		}
	}
}

// TestPollerFixture polls the fixture sysfs tree: three probes, one with a CRC
// the kernel rejected. One round emits exactly two readings and reports one
// failure.
func TestPollerFixture(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sensors := []config.Sensor{
			{ID: "fridge-1", Source: config.SourceDS18B20, Address: "28-0316a2795eff"},
			{ID: "fridge-2", Source: config.SourceDS18B20, Address: "28-0416B1C2D3E4"},
			{ID: "boiler", Source: config.SourceDS18B20, Address: " 28-00000a1b2c3d "},
			{ID: "room", Source: config.SourceZigbee2MQTT, Topic: "zigbee2mqtt/room"}, // not local: skipped
		}
		targets, err := Targets(sensors, Deps{W1Root: fixtureW1})
		if err != nil || len(targets) != 3 {
			t.Fatalf("Targets = %d, %v", len(targets), err)
		}
		for i, tg := range targets {
			if tg.Interval != 30*time.Second || tg.Probe.String() != sensors[i].Device() {
				t.Fatalf("target %d: %s every %v, want %s every 30s", i, tg.Probe, tg.Interval, sensors[i].Device())
			}
		}
		var r recorder
		start := time.Now()
		p, err := NewPoller(targets, PollerOptions{Jitter: 0.1, OnError: r.onError})
		if err != nil {
			t.Fatal(err)
		}
		stop := runPoller(t, p, &r)
		time.Sleep(10 * time.Second) // the first round comes within 10% of 30s
		synctest.Wait()
		stop()

		readings := 0
		for _, b := range r.batches {
			for _, s := range b {
				readings++
				if s.Time.Before(start) || s.Time.After(start.Add(3*time.Second)) {
					t.Errorf("%s stamped %v, start %v", s.Device, s.Time, start)
				}
				want := map[string]float64{"28-0316a2795eff": 21.875, "28-00000a1b2c3d": -10.125}[s.Device]
				if len(s.Values) != 1 || s.Values[0] != (telemetry.Value{Metric: telemetry.Temperature, V: want}) {
					t.Errorf("%s: %+v, want %g °C", s.Device, s.Values, want)
				}
			}
		}
		if readings != 2 {
			t.Fatalf("%d readings in %v, want 2", readings, r.batches)
		}
		if len(r.errs) != 1 || len(r.errs["28-0416b1c2d3e4"]) != 1 || !errors.Is(r.errs["28-0416b1c2d3e4"][0], ErrCRC) {
			t.Fatalf("errors %v, want one ErrCRC for 28-0416b1c2d3e4", r.errs)
		}
	})
}

// fakeProbe records when it is read and answers from a script.
type fakeProbe struct {
	name  string
	mu    sync.Mutex
	reads []time.Time
	err   error
	wait  time.Duration // a conversion time, waited with Sleep
}

func (f *fakeProbe) String() string { return f.name }

func (f *fakeProbe) Read(ctx context.Context) (telemetry.Sample, error) {
	if err := Sleep(ctx, f.wait); err != nil {
		return telemetry.Sample{}, err
	}
	f.mu.Lock()
	f.reads = append(f.reads, time.Now())
	f.mu.Unlock()
	if f.err != nil {
		return telemetry.Sample{}, f.err
	}
	return telemetry.Sample{Values: []telemetry.Value{{Metric: telemetry.Temperature, V: 20}}}, nil
}

func TestPollerJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := &fakeProbe{name: "i2c1:0x44"}, &fakeProbe{name: "28-0316a2795eff"}
		const jitter = 0.2
		targets := []Target{{a, 10 * time.Second}, {b, 7 * time.Second}}
		var r recorder
		p, err := NewPoller(targets, PollerOptions{Jitter: jitter, OnError: r.onError})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stop := runPoller(t, p, &r)
		time.Sleep(2000 * time.Second)
		synctest.Wait()
		stop()

		for _, tg := range targets {
			f := tg.Probe.(*fakeProbe)
			j := time.Duration(jitter * float64(tg.Interval))
			if first := f.reads[0].Sub(start); first < 0 || first > j {
				t.Errorf("%s: first read after %v, want within [0, %v]", f, first, j)
			}
			lo, hi := tg.Interval, tg.Interval
			for i := 1; i < len(f.reads); i++ {
				gap := f.reads[i].Sub(f.reads[i-1])
				if gap < tg.Interval-j || gap > tg.Interval+j {
					t.Fatalf("%s: gap %v, want within %v ± %v", f, gap, tg.Interval, j)
				}
				lo, hi = min(lo, gap), max(hi, gap)
			}
			if hi-lo < j { // 200 uniform draws span most of the window
				t.Errorf("%s: gaps only span [%v, %v]: no jitter?", f, lo, hi)
			}
			if n, want := len(f.reads), int(2000*time.Second/tg.Interval); n < want*9/10 || n > want*11/10 {
				t.Errorf("%s: %d reads, want about %d", f, n, want)
			}
		}
		if len(r.errs) != 0 {
			t.Fatalf("errors %v", r.errs)
		}
	})
}

func TestPollerNoJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &fakeProbe{name: "i2c1:0x76"}
		var r recorder
		p, _ := NewPoller([]Target{{a, time.Minute}}, PollerOptions{})
		start := time.Now()
		stop := runPoller(t, p, &r)
		time.Sleep(3*time.Minute + time.Second)
		synctest.Wait()
		stop()
		if len(a.reads) != 4 {
			t.Fatalf("%d reads, want 4", len(a.reads))
		}
		for i, at := range a.reads {
			if at.Sub(start) != time.Duration(i)*time.Minute {
				t.Fatalf("read %d at %v", i, at.Sub(start))
			}
		}
	})
}

func TestPollerCancel(t *testing.T) {
	t.Run("during a read", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			slow := &fakeProbe{name: "28-0316a2795eff", wait: 750 * time.Millisecond}
			var r recorder
			p, _ := NewPoller([]Target{{slow, time.Minute}}, PollerOptions{OnError: r.onError})
			start := time.Now()
			stop := runPoller(t, p, &r)
			time.Sleep(100 * time.Millisecond) // the conversion is under way
			stop()
			if d := time.Since(start); d != 100*time.Millisecond {
				t.Fatalf("Run returned after %v", d)
			}
			if len(r.batches) != 0 || len(r.errs) != 0 {
				t.Fatalf("emitted %v, errors %v: a cancelled read is neither", r.batches, r.errs)
			}
		})
	})
	t.Run("between rounds", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeProbe{name: "i2c1:0x44"}
			var r recorder
			p, _ := NewPoller([]Target{{f, time.Hour}}, PollerOptions{})
			stop := runPoller(t, p, &r)
			time.Sleep(time.Minute)
			synctest.Wait()
			stop() // would hang for an hour if the wait ignored ctx
			if len(r.batches) != 1 {
				t.Fatalf("%d batches, want 1", len(r.batches))
			}
		})
	})
	t.Run("no targets", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, _ := NewPoller(nil, PollerOptions{})
			stop := runPoller(t, p, &recorder{})
			time.Sleep(time.Second)
			stop()
		})
	})
}

// A failing probe is reported every round and never stops the others.
func TestPollerFailingProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		good := &fakeProbe{name: "i2c1:0x44"}
		bad := &fakeProbe{name: "28-0316a2795eff", err: ErrDisconnected}
		var r recorder
		p, _ := NewPoller([]Target{{bad, time.Minute}, {good, time.Minute}}, PollerOptions{OnError: r.onError})
		stop := runPoller(t, p, &r)
		time.Sleep(2*time.Minute + time.Second)
		synctest.Wait()
		stop()
		if len(r.batches) != 3 || len(r.errs[bad.name]) != 3 {
			t.Fatalf("%d batches, %d errors; want 3 and 3", len(r.batches), len(r.errs[bad.name]))
		}
		for _, b := range r.batches {
			if len(b) != 1 || b[0].Device != good.name {
				t.Fatalf("batch %+v", b)
			}
		}
	})
}

// When emit fails the round's samples are reported lost and polling goes on.
func TestPollerEmitError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeProbe{name: "i2c1:0x44"}
		spoolFull := errors.New("spool full")
		r := recorder{fail: spoolFull}
		p, _ := NewPoller([]Target{{f, time.Minute}}, PollerOptions{OnError: r.onError})
		stop := runPoller(t, p, &r)
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		stop()
		if len(r.batches) != 2 || len(r.errs[f.name]) != 2 || !errors.Is(r.errs[f.name][0], spoolFull) {
			t.Fatalf("%d batches, errors %v", len(r.batches), r.errs)
		}
	})
}

func TestNewPollerRejects(t *testing.T) {
	f := &fakeProbe{name: "x"}
	for name, tc := range map[string]struct {
		targets []Target
		opt     PollerOptions
	}{
		"jitter":   {[]Target{{f, time.Second}}, PollerOptions{Jitter: 0.6}},
		"negative": {[]Target{{f, time.Second}}, PollerOptions{Jitter: -0.1}},
		"interval": {[]Target{{f, 0}}, PollerOptions{}},
		"probe":    {[]Target{{nil, time.Second}}, PollerOptions{}},
	} {
		if _, err := NewPoller(tc.targets, tc.opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	p, _ := NewPoller(nil, PollerOptions{})
	if err := p.Run(context.Background(), nil); err == nil {
		t.Error("Run without emit accepted")
	}
}
