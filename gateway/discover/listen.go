package discover

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/saqshy/saqshy/gateway/decode"
	"github.com/saqshy/saqshy/gateway/internal/listen"
)

// Options say which broker to listen to and for how long.
type Options struct {
	URL, Username, Password   string
	CAFile, CertFile, KeyFile string
	// Duration is how long to listen (default 60s); ctx may end it sooner.
	Duration time.Duration
	// Progress, when set, gets a line every ProgressEvery (default 5s) saying how
	// much has been heard.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Location is the centre's time zone for payload times without an offset
	// (Tasmota); default UTC.
	Location *time.Location
}

// Listen subscribes to every topic for opt.Duration (or until ctx ends) and
// returns what it heard. An error means the broker could not be reached or refused
// the subscription; ending ctx is not an error (what was heard so far is returned).
func Listen(ctx context.Context, opt Options) (Result, error) {
	if opt.Duration <= 0 {
		opt.Duration = time.Minute
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 5 * time.Second
	}
	if opt.Progress == nil {
		opt.Progress = io.Discard
	}
	c := New(opt.Location)
	conn, err := listen.Dial(ctx, listen.Options{
		URL: opt.URL, Username: opt.Username, Password: opt.Password,
		CAFile: opt.CAFile, CertFile: opt.CertFile, KeyFile: opt.KeyFile,
		ClientPrefix: "saqshy-discover",
		Handle: func(m listen.Message) {
			c.Add(m.Topic, m.Payload, m.Retained, m.Received)
		},
	})
	if err != nil {
		return Result{}, fmt.Errorf("discover: %w", err)
	}
	defer conn.Close()
	// "#" carries Home Assistant discovery (homeassistant/+/+/config) too.
	if err := conn.Subscribe(ctx, Filters()); err != nil {
		return Result{}, fmt.Errorf("discover: %w", err)
	}
	start := time.Now()
	end := time.NewTimer(opt.Duration)
	defer end.Stop()
	tick := time.NewTicker(opt.ProgressEvery)
	defer tick.Stop()
	fmt.Fprintf(opt.Progress, "discover: listening to %s for %s (Ctrl-C stops early)…\n", opt.URL, opt.Duration)
	for {
		select {
		case <-ctx.Done():
			return c.Result(), nil
		case <-end.C:
			return c.Result(), nil
		case <-tick.C:
			// Shelly devices with BLU sensors of unknown quantity are asked, once.
			for _, dev := range c.bthome.toAsk() {
				topic, payload := decode.ShellyRPCRequest(dev, 1, 0)
				if err := conn.Publish(ctx, topic, payload); err != nil {
					fmt.Fprintf(opt.Progress, "discover: asking %s for its BLU sensors: %v\n", dev, err)
				}
			}
			r := c.Result()
			fmt.Fprintf(opt.Progress, "discover: %s of %s: %d messages, %d devices, %d cameras\n",
				time.Since(start).Round(time.Second), opt.Duration, r.Messages, len(r.Devices), len(r.Cameras))
		}
	}
}
