// Package clockx holds the small waits on the real clock that several packages
// share.
package clockx

import (
	"context"
	"time"
)

// Sleep waits d or until ctx is done, whichever comes first, and returns ctx.Err()
// in the latter case: a timer raced against ctx.Done. A d of zero or less returns
// at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
