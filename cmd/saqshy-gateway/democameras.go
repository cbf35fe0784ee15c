//go:build !nodemo

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway"
)

// printCoverage prints a line about the cameras every period until ctx ends, so that
// a newcomer sees coverage move as the demo's flaky cameras fail and recover.
func printCoverage(ctx context.Context, w io.Writer, g *gateway.Gateway, period time.Duration) {
	if period <= 0 {
		return
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := g.Cameras()
		if len(s.Kinds) == 0 {
			continue
		}
		all := s.Kinds[len(s.Kinds)-1]
		var down []string
		for _, c := range s.Cameras {
			if !c.Covers {
				down = append(down, fmt.Sprintf("%s %s %s", c.ID, c.State, c.Reason))
			}
		}
		if len(down) == 0 {
			down = []string{"none"}
		}
		today := fmt.Sprintf("%.1f%% of today's required time (the time before the start counts as not covered)", 100*all.Today.Ratio())
		if s.DayStart.IsZero() {
			today = "time not accounted: the system clock is not synchronised"
		}
		fmt.Fprintf(w, "cameras: %d/%d required zones covered now, %s; not covering: %s\n",
			all.CoveredNow, all.Zones, today, strings.Join(down, "; "))
	}
}
