package localsensor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Target is a probe and how often to read it.
type Target struct {
	Probe    Probe
	Interval time.Duration // > 0
}

// PollerOptions configure a [Poller]; the zero value is usable.
type PollerOptions struct {
	// Jitter spreads the reads: each wait is the target's interval times a
	// uniformly random factor in [1-Jitter, 1+Jitter], and the first read of each
	// target comes within Jitter·interval of the start. 0 to 0.5; 0 means none.
	Jitter float64
	// OnError is told about every failed read, with the probe's address and the
	// error (see the package's sentinels), and about samples emit failed to make
	// durable. It is called from Run's goroutine and must not block for long.
	// nil ignores failures.
	OnError func(device string, err error)
	// Now stamps the samples; nil means time.Now.
	Now func() time.Time
	// Sleep waits between rounds; nil means [Sleep]. Now and Sleep must tell the
	// same time (both real, or both fake).
	Sleep SleepFunc
}

// Poller reads a set of probes, each on its own interval, and emits the readings.
type Poller struct {
	targets []Target
	opt     PollerOptions
}

// NewPoller checks the targets and options and returns a Poller; Run starts it.
func NewPoller(targets []Target, opt PollerOptions) (*Poller, error) {
	if opt.Jitter < 0 || opt.Jitter > 0.5 {
		return nil, fmt.Errorf("localsensor: jitter %g: want 0 to 0.5", opt.Jitter)
	}
	for i, t := range targets {
		if t.Probe == nil {
			return nil, fmt.Errorf("localsensor: target %d has no probe", i)
		}
		if t.Interval <= 0 {
			return nil, fmt.Errorf("localsensor: %s: interval %v: want > 0", t.Probe, t.Interval)
		}
	}
	if opt.OnError == nil {
		opt.OnError = func(string, error) {}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.Sleep = orSleep(opt.Sleep)
	return &Poller{targets: append([]Target(nil), targets...), opt: opt}, nil
}

// Run polls until ctx is done, then returns nil.
//
// Each round reads, one after the other, every probe that is due, stamps each
// good sample with Now (Device is the probe's address) and passes them to emit in
// one call. A failed read goes to OnError and never stops the others or the
// Poller; neither does an emit error (the round's samples are then lost, each
// reported to OnError, and the next round proceeds). Reads run on Run's goroutine,
// so a slow probe delays the others: a DS18B20 takes up to 750 ms.
func (p *Poller) Run(ctx context.Context, emit Emit) error {
	if emit == nil {
		return errors.New("localsensor: Run needs an emit function")
	}
	start := p.opt.Now()
	next := make([]time.Time, len(p.targets))
	for i, t := range p.targets {
		next[i] = start.Add(p.firstDelay(t.Interval))
	}
	for len(p.targets) > 0 {
		due := next[0]
		for _, n := range next[1:] {
			if n.Before(due) {
				due = n
			}
		}
		if err := p.opt.Sleep(ctx, due.Sub(p.opt.Now())); err != nil {
			return nil
		}
		var batch []telemetry.Sample
		round := p.opt.Now()
		for i, t := range p.targets {
			if next[i].After(round) {
				continue
			}
			s, err := t.Probe.Read(ctx)
			if ctx.Err() != nil {
				return nil
			}
			now := p.opt.Now()
			if err != nil {
				p.opt.OnError(t.Probe.String(), err)
			} else {
				s.Device = t.Probe.String()
				s.Time = now
				batch = append(batch, s)
			}
			next[i] = next[i].Add(p.wait(t.Interval))
			if !next[i].After(now) { // fell behind: skip the missed reads
				next[i] = now.Add(p.wait(t.Interval))
			}
		}
		if len(batch) == 0 {
			continue
		}
		if err := emit(ctx, batch); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			for _, s := range batch {
				p.opt.OnError(s.Device, fmt.Errorf("reading not stored: %w", err))
			}
		}
	}
	<-ctx.Done()
	return nil
}

// firstDelay is a target's first delay: uniform in [0, Jitter·interval].
func (p *Poller) firstDelay(interval time.Duration) time.Duration {
	j := int64(p.opt.Jitter * float64(interval))
	if j <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(j + 1))
}

// wait is the time between two reads of a target: uniform in
// [interval - Jitter·interval, interval + Jitter·interval].
func (p *Poller) wait(interval time.Duration) time.Duration {
	j := int64(p.opt.Jitter * float64(interval))
	if j <= 0 {
		return interval
	}
	return interval + time.Duration(rand.Int64N(2*j+1)-j)
}
