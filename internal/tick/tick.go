// Package tick runs periodic work: the one loop of every background poller
// (the CDC's lag gauge, heartbeat and dead-letter count, the reminder
// dispatcher, insights' refreshes, the benchmarks' scrapes).
package tick

import (
	"context"
	"time"
)

// Every runs fn now and then every d until ctx ends. fn runs on the caller's
// goroutine, so a slow fn delays the next run rather than overlapping it.
func Every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
