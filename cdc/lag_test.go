package cdc

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/soomcare/soomcare/indexer/bulk"
)

// fakeClock is the applier's clock in tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Invariant 12: during any stall the lag gauge is now − the commit time of
// the oldest unacknowledged event, growing with the clock; while idle it is
// the age of the newest acknowledged heartbeat.
func TestApplierLagGrowsDuringStall(t *testing.T) {
	outage := errors.New("down")
	cases := []struct {
		name  string
		stall func(h *harness, on *bool, mu *sync.Mutex)
	}{
		{"stuck read", func(h *harness, on *bool, mu *sync.Mutex) {
			h.rows.fail = func() error { return failing(on, mu, outage) }
		}},
		{"engine outage", func(h *harness, on *bool, mu *sync.Mutex) {
			h.eng.script = func(int, []bulk.Op) (bulk.Result, error) { return bulk.Result{}, failing(on, mu, outage) }
		}},
		{"failing save", func(h *harness, on *bool, mu *sync.Mutex) {
			h.store.failSave = func() error { return failing(on, mu, outage) }
		}},
	}
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			clock := &fakeClock{t: t0.Add(time.Second)}
			h.now, h.at = clock.now, t0.UnixNano()
			var mu sync.Mutex
			on := true
			tc.stall(h, &on, &mu)
			h.start()
			h.post(1)
			h.post(2)
			for _, after := range []time.Duration{5 * time.Second, 6 * time.Second, 12 * time.Second} {
				clock.set(t0.Add(after))
				want := after.Seconds()
				eventually(t, "the lag gauge at "+after.String(), func() bool {
					return testutil.ToFloat64(h.app.metrics.LagSeconds) == want
				})
			}
			mu.Lock()
			on = false
			mu.Unlock()
			h.stop() // the final save's outcome is not this test's concern
		})
	}
}

func failing(on *bool, mu *sync.Mutex, err error) error {
	mu.Lock()
	defer mu.Unlock()
	if *on {
		return err
	}
	return nil
}

// Idle: the gauge is the age of the newest acknowledged heartbeat, so it
// grows when heartbeats stop arriving (the stream itself stalled).
func TestApplierLagIdleIsHeartbeatAge(t *testing.T) {
	h := newHarness(t)
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0.Add(300 * time.Millisecond)}
	h.now = clock.now
	h.start()
	h.in <- item{kind: itemBeat, beatAt: t0}
	eventually(t, "the heartbeat's latency", func() bool { return testutil.ToFloat64(h.app.metrics.LagSeconds) == 0.3 })
	clock.set(t0.Add(9 * time.Second)) // no heartbeat since
	eventually(t, "the heartbeat's age", func() bool { return testutil.ToFloat64(h.app.metrics.LagSeconds) == 9 })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// A standby's clock is the checkpoint's save time as last read: it replaces
// whatever was there (pending events of an ended session included) and a
// zero time (nothing read) leaves it alone.
func TestLagClockStandby(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		oldest  time.Time // pending before the reads
		reads   []time.Time
		at      time.Time
		want    float64
		wantSet bool
	}{
		{"one read", time.Time{}, []time.Time{t0}, t0.Add(7 * time.Second), 7, true},
		{"a newer save", time.Time{}, []time.Time{t0, t0.Add(5 * time.Second)}, t0.Add(7 * time.Second), 2, true},
		{"pending of an ended session dropped", t0.Add(-time.Hour), []time.Time{t0}, t0.Add(3 * time.Second), 3, true},
		{"nothing read", time.Time{}, []time.Time{{}}, t0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l lagClock
			if !tt.oldest.IsZero() {
				l.oldest.Store(tt.oldest.UnixNano())
			}
			for _, r := range tt.reads {
				l.standby(r)
			}
			got, ok := l.seconds(tt.at)
			if got != tt.want || ok != tt.wantSet {
				t.Errorf("seconds = %v, %v; want %v, %v", got, ok, tt.want, tt.wantSet)
			}
		})
	}
}
