package telemetry

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ReminderTick is one dispatcher pass (reminder.Stats and the pass's error;
// telemetry imports no domain package, cli maps one onto the other).
type ReminderTick struct {
	Planned, Sent, Retry, Failed, NoDevice, Recorded, LeaseLost, TokenDeleteFailed int
	Err                                                                            error
}

// Reminders holds the dispatcher's series; Observe takes each pass and Sent
// each reminder sent.
type Reminders struct {
	ticks      *prometheus.CounterVec
	planned    prometheus.Counter
	deliveries *prometheus.CounterVec
	leaseLost  prometheus.Counter
	tokenStuck prometheus.Counter // unregistered tokens that could not be deleted
	delay      prometheus.Histogram
	lastTick   prometheus.Gauge
	now        func() time.Time
}

// outcomes are the values of the outcome label (reminder.Stats fields).
var outcomes = []string{"sent", "retry", "failed", "no_device", "already_recorded"}

// NewReminders registers the dispatcher series on reg:
//
//	soomcare_reminder_ticks_total{result="ok|error"}
//	soomcare_reminder_planned_total
//	soomcare_reminder_deliveries_total{outcome="sent|retry|failed|no_device|already_recorded"}
//	soomcare_reminder_lease_lost_total
//	soomcare_reminder_token_delete_failed_total
//	soomcare_reminder_due_to_sent_seconds   (histogram)
//	soomcare_reminder_last_tick_timestamp_seconds
func NewReminders(reg prometheus.Registerer) *Reminders {
	const sub = "reminder"
	m := &Reminders{
		ticks: counterVec(sub, "ticks_total",
			"Dispatcher passes, by result (error: the pass failed and is retried next interval).", "result"),
		planned: counter(sub, "planned_total",
			"Due doses found by the planning step (each dose is counted by every pass that sees it within the grace)."),
		deliveries: counterVec(sub, "deliveries_total",
			"Outcomes recorded by this dispatcher: sent, retry (will be retried), failed (after max_attempts or a permanent FCM error), no_device, already_recorded.",
			"outcome"),
		leaseLost: counter(sub, "lease_lost_total",
			"Claims whose lease ran out before a send, or that another dispatcher re-claimed before the outcome was recorded."),
		tokenStuck: counter(sub, "token_delete_failed_total",
			"Device tokens FCM called unregistered that could not be deleted (the next send to one tries again; a rise means the MySQL writes of the dispatcher fail)."),
		delay: prometheus.NewHistogram(histogramOpts(sub, "due_to_sent_seconds",
			"Time from a dose's due instant to the recorded send of its reminder.",
			[]float64{1, 5, 15, 30, 60, 120, 300, 600, 1200})),
		lastTick: gauge(sub, "last_tick_timestamp_seconds", "Unix time of the last pass that completed without error."),
		now:      time.Now,
	}
	for _, o := range outcomes {
		m.deliveries.WithLabelValues(o) // every outcome exported from the start, so rate() sees the first one
	}
	m.ticks.WithLabelValues("ok")
	m.ticks.WithLabelValues("error")
	reg.MustRegister(m.ticks, m.planned, m.deliveries, m.leaseLost, m.tokenStuck, m.delay, m.lastTick)
	return m
}

// Observe adds one pass. A pass cut short by shutdown is not an error.
func (m *Reminders) Observe(st ReminderTick) {
	switch err := st.Err; {
	case err == nil:
		m.ticks.WithLabelValues("ok").Inc()
		m.lastTick.Set(float64(m.now().UnixNano()) / 1e9)
	case errors.Is(err, context.Canceled):
	default:
		m.ticks.WithLabelValues("error").Inc()
	}
	m.planned.Add(float64(st.Planned))
	for o, n := range map[string]int{"sent": st.Sent, "retry": st.Retry, "failed": st.Failed, "no_device": st.NoDevice, "already_recorded": st.Recorded} {
		m.deliveries.WithLabelValues(o).Add(float64(n))
	}
	m.leaseLost.Add(float64(st.LeaseLost))
	m.tokenStuck.Add(float64(st.TokenDeleteFailed))
}

// Sent records the time from a dose's due instant to its recorded send.
func (m *Reminders) Sent(dueToSent time.Duration) { m.delay.Observe(dueToSent.Seconds()) }
