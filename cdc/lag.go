package cdc

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/soomcare/soomcare/internal/tick"
)

// Invariant 12: a stall shows. soomcare_cdc_lag_seconds is now − the commit
// time of the oldest event not yet acknowledged (pending in the applier,
// being re-read, in the batch being written, or waiting for its checkpoint),
// and the age of the newest acknowledged heartbeat while nothing is pending.
// A goroutine of the worker's own (it outlives sessions) sets the gauge
// every flush interval, so the gauge grows second by second while the
// applier is blocked in a retry (a stuck read, an engine outage, a failing
// save), while the binlog stream delivers nothing at all (no heartbeat
// arrives), and while the worker has no session: MySQL down, the lock lost
// and being taken again. A worker that takes over starts from the
// checkpoint's save time (the last moment something was acknowledged). A
// standby (another worker holds the lock) reports the checkpoint's age as it
// last read it (once a lock poll): a few seconds while the active worker
// saves, and growing, second by second, when no worker does — the active one
// killed while MySQL is down, when no worker reaches MySQL to take over.

// lagClock is what the gauge is computed from: written by the applier's
// goroutine, read by the lag goroutine.
type lagClock struct {
	oldest   atomic.Int64 // commit time (Unix ns) of the oldest unacknowledged event; 0: none
	lastBeat atomic.Int64 // beat_at (Unix ns) of the newest acknowledged heartbeat; 0: none yet
}

// beat records an acknowledged heartbeat.
func (l *lagClock) beat(at time.Time) {
	if n := at.UnixNano(); n > l.lastBeat.Load() {
		l.lastBeat.Store(n)
	}
}

// seconds is the lag at now; false before anything was measured.
func (l *lagClock) seconds(now time.Time) (float64, bool) {
	from := l.oldest.Load()
	if from == 0 {
		from = l.lastBeat.Load()
	}
	if from == 0 {
		return 0, false
	}
	return max(0, now.Sub(time.Unix(0, from)).Seconds()), true
}

// since starts an idle clock at t (the checkpoint's save time) when no
// heartbeat was acknowledged yet: a worker that just took over lags at least
// as long as nothing was acknowledged.
func (l *lagClock) since(t time.Time) {
	if !t.IsZero() && l.lastBeat.Load() == 0 {
		l.beat(t)
	}
}

// reset forgets everything: this worker just became a standby, what it had
// pending belongs to the session that ended.
func (l *lagClock) reset(m *Metrics) {
	l.oldest.Store(0)
	l.lastBeat.Store(0)
	m.LagSeconds.Set(0)
}

// standby sets an idle clock at the checkpoint's save time, as a standby read
// it: the gauge then counts from the active worker's last save until the
// next read, and on through an outage in which nothing can be read.
func (l *lagClock) standby(saved time.Time) {
	if saved.IsZero() {
		return
	}
	l.oldest.Store(0)
	l.lastBeat.Store(saved.UnixNano())
}

// observe sets the gauge.
func (l *lagClock) observe(now time.Time, m *Metrics) {
	if s, ok := l.seconds(now); ok {
		m.LagSeconds.Set(s)
	}
}

// run observes every interval until ctx ends.
func (l *lagClock) run(ctx context.Context, every time.Duration, now func() time.Time, m *Metrics) {
	tick.Every(ctx, every, func() { l.observe(now(), m) })
}

// publishOldest tells the lag goroutine the oldest unacknowledged event's
// commit time: the pending set's or the in-flight batch's.
func (a *applier) publishOldest() {
	o := a.pendOldest
	if a.jobOldest != 0 && (o == 0 || a.jobOldest < o) {
		o = a.jobOldest
	}
	a.lag.oldest.Store(o)
}
