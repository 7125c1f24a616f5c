// Package reminder sends medication reminders and notices as push
// notifications through FCM HTTP v1 (fcm.go), and serves device-token
// registration and the admin notice endpoint (api.go).
//
// Exactly once per (schedule, due time), with any number of dispatchers:
//
//  1. plan: each tick, every live schedule's doses due in
//     [now − reminders.grace, now] are INSERTed into reminder_deliveries,
//     whose UNIQUE (schedule_id, due_at) makes the second insert a no-op;
//  2. claim: a dispatcher takes a pending row with a conditional UPDATE
//     (status pending/retry, lease free) that only one dispatcher can win;
//  3. unless the dose is already recorded, send; then record the outcome:
//     sent, retry (with backoff, the lease released) or failed after
//     reminders.max_attempts.
//
// A dose the user has already recorded as taken or skipped for that due
// time (medication_intakes with the same schedule_id and scheduled_at =
// due_at, written by POST /v1/me/intakes) is not sent: the claimed row
// becomes already_recorded, a final state like sent, so it is decided once
// too. The check runs after the claim, right before each send attempt, so a
// dose recorded while its reminder waits for a retry is not sent either.
//
// The one gap is a crash between a successful send and step 3: the lease
// expires and the reminder is sent again (at-least-once for that instant;
// never twice otherwise). Doses due while every dispatcher was down longer
// than the grace are skipped, not sent late in a burst.
package reminder

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/soomcare/soomcare/medication"
	"github.com/soomcare/soomcare/records"
)

// Options configure a Dispatcher.
type Options struct {
	Interval    time.Duration // between ticks
	Grace       time.Duration // how late a due dose is still reminded
	Lease       time.Duration // how long a claimed delivery is reserved for its dispatcher
	MaxAttempts int
	Backoff     time.Duration // first retry delay; doubles per attempt
	Logger      *slog.Logger
	Now         func() time.Time
	ID          string // dispatcher name in claimed_by; random when empty
}

// Dispatcher finds due doses and sends their reminders.
type Dispatcher struct {
	db     *sql.DB
	sender Sender
	opts   Options
	zones  *records.Zones
}

// NewDispatcher returns a dispatcher; zero options take defaults.
func NewDispatcher(db *sql.DB, sender Sender, opts Options) *Dispatcher {
	if opts.Interval <= 0 {
		opts.Interval = 30 * time.Second
	}
	if opts.Grace <= 0 {
		opts.Grace = 10 * time.Minute
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ID == "" {
		b := make([]byte, 6)
		rand.Read(b)
		opts.ID = "dispatcher-" + hex.EncodeToString(b)
	}
	return &Dispatcher{db: db, sender: sender, opts: opts, zones: &records.Zones{}}
}

// Run ticks until ctx ends; a failed tick is logged and retried next tick.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.opts.Interval)
	defer t.Stop()
	for {
		st, err := d.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			d.opts.Logger.Error("reminder tick failed", "err", err)
		} else if st.Claimed > 0 {
			d.opts.Logger.Info("reminders", "planned", st.Planned, "sent", st.Sent, "retry", st.Retry, "failed", st.Failed, "no_device", st.NoDevice, "already_recorded", st.Recorded)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Stats counts one tick's work.
type Stats struct {
	Planned, Claimed, Sent, Retry, Failed, NoDevice int
	Recorded                                        int // not sent: the dose was already recorded (already_recorded)
}

// Tick plans the due doses and delivers what is pending.
func (d *Dispatcher) Tick(ctx context.Context) (Stats, error) {
	var st Stats
	now := d.opts.Now().UTC()
	n, err := d.plan(ctx, now)
	st.Planned = n
	if err != nil {
		return st, err
	}
	return st, d.deliver(ctx, now, &st)
}

type due struct {
	scheduleID, userID uint64
	at                 time.Time
}

// plan inserts a pending delivery for every dose due in [now-grace, now].
func (d *Dispatcher) plan(ctx context.Context, now time.Time) (int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT s.id, s.user_id, s.times, s.weekdays, s.time_zone, s.active_from
		FROM medication_schedules s JOIN medications m ON m.id = s.medication_id
		WHERE s.deleted_at IS NULL AND m.deleted_at IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("reminder: schedules: %w", err)
	}
	var dues []due
	for rows.Next() {
		var id, uid uint64
		var times, tz string
		var bits uint8
		var from time.Time
		if err := rows.Scan(&id, &uid, &times, &bits, &tz, &from); err != nil {
			rows.Close()
			return 0, err
		}
		rule, err := medication.MakeRule(d.zones, times, bits, tz, from, sql.NullTime{})
		if err != nil {
			d.opts.Logger.Warn("reminder: bad schedule", "schedule_id", id, "err", err)
			continue
		}
		for _, at := range rule.Occurrences(now.Add(-d.opts.Grace), now.Add(time.Nanosecond)) {
			dues = append(dues, due{id, uid, at.UTC()})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for start := 0; start < len(dues); start += 500 {
		batch := dues[start:min(start+500, len(dues))]
		var sb strings.Builder
		args := make([]any, 0, 4*len(batch))
		sb.WriteString("INSERT INTO reminder_deliveries (schedule_id, user_id, due_at, next_attempt_at) VALUES ")
		for i, x := range batch {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?, ?, ?, ?)")
			args = append(args, x.scheduleID, x.userID, x.at, x.at)
		}
		// The unique key is the claim: a row already planned (by this or
		// another dispatcher) stays as it is.
		sb.WriteString(" ON DUPLICATE KEY UPDATE id = id")
		if _, err := d.db.ExecContext(ctx, sb.String(), args...); err != nil {
			return 0, fmt.Errorf("reminder: plan: %w", err)
		}
	}
	return len(dues), nil
}

// deliver claims pending rows one by one and sends them.
func (d *Dispatcher) deliver(ctx context.Context, now time.Time, st *Stats) error {
	rows, err := d.db.QueryContext(ctx, `SELECT d.id, d.schedule_id, d.user_id, d.due_at, d.attempts
		FROM reminder_deliveries d
		WHERE d.status IN ('pending', 'retry') AND d.next_attempt_at <= ? AND (d.claimed_until IS NULL OR d.claimed_until < ?)
		ORDER BY d.next_attempt_at LIMIT 500`, now, now)
	if err != nil {
		return fmt.Errorf("reminder: pending: %w", err)
	}
	type row struct {
		id, scheduleID, userID uint64
		dueAt                  time.Time
		attempts               int
	}
	var pending []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.scheduleID, &r.userID, &r.dueAt, &r.attempts); err != nil {
			rows.Close()
			return err
		}
		pending = append(pending, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range pending {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res, err := d.db.ExecContext(ctx, `UPDATE reminder_deliveries SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1
			WHERE id = ? AND status IN ('pending', 'retry') AND (claimed_until IS NULL OR claimed_until < ?)`,
			d.opts.ID, now.Add(d.opts.Lease), r.id, now)
		if err != nil {
			return fmt.Errorf("reminder: claim: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue // another dispatcher has it
		}
		st.Claimed++
		var status, lastErr string
		switch recorded, err := d.doseRecorded(ctx, r.scheduleID, r.dueAt); {
		case err != nil:
			status, lastErr = "retry", err.Error()
		case recorded:
			status = "already_recorded"
		default:
			status, lastErr = d.send(ctx, r.scheduleID, r.userID, r.dueAt)
		}
		attempts := r.attempts + 1
		next := now
		switch {
		case status == "retry" && attempts >= d.opts.MaxAttempts:
			status = "failed"
		case status == "retry":
			next = now.Add(d.opts.Backoff << min(attempts-1, 10))
		}
		var sentAt any
		switch status {
		case "sent":
			st.Sent++
			sentAt = now
		case "retry":
			st.Retry++
		case "failed":
			st.Failed++
		case "no_device":
			st.NoDevice++
		case "already_recorded":
			st.Recorded++
		}
		if len(lastErr) > 500 {
			lastErr = lastErr[:500]
		}
		// The outcome is written with a fresh context: a send that went out
		// must be recorded even while shutting down.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, err = d.db.ExecContext(wctx, `UPDATE reminder_deliveries SET status = ?, sent_at = ?, last_error = NULLIF(?, ''), next_attempt_at = ?, claimed_until = NULL
			WHERE id = ? AND claimed_by = ?`, status, sentAt, lastErr, next, r.id, d.opts.ID)
		cancel()
		if err != nil {
			return fmt.Errorf("reminder: record outcome: %w", err)
		}
	}
	return nil
}

// doseRecorded reports whether the dose of schedule due at dueAt has an
// intake (taken or skipped). Intakes of a scheduled dose carry the schedule
// and the due instant (medication validates it is one of the schedule's), so
// this is one lookup on uk_medication_intakes_dose.
func (d *Dispatcher) doseRecorded(ctx context.Context, scheduleID uint64, dueAt time.Time) (bool, error) {
	var one int
	err := d.db.QueryRowContext(ctx, `SELECT 1 FROM medication_intakes WHERE schedule_id = ? AND scheduled_at = ? LIMIT 1`, scheduleID, dueAt.UTC()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reminder: intake of schedule %d at %s: %w", scheduleID, dueAt.UTC().Format(time.RFC3339), err)
	}
	return true, nil
}

// send pushes one reminder to every device of the user: "sent" when at least
// one device got it, "retry" when every failure may pass, "failed" when none
// will, "no_device" when the user has no device.
func (d *Dispatcher) send(ctx context.Context, scheduleID, userID uint64, dueAt time.Time) (status, lastErr string) {
	var name, unit, tz string
	var dose float64
	err := d.db.QueryRowContext(ctx, `SELECT m.name, m.dose, m.dose_unit, s.time_zone FROM medication_schedules s
		JOIN medications m ON m.id = s.medication_id WHERE s.id = ?`, scheduleID).Scan(&name, &dose, &unit, &tz)
	if err != nil {
		return "retry", err.Error()
	}
	rows, err := d.db.QueryContext(ctx, `SELECT token FROM device_tokens WHERE user_id = ? ORDER BY id LIMIT 20`, userID)
	if err != nil {
		return "retry", err.Error()
	}
	var tokens []string
	for rows.Next() {
		var t string
		if rows.Scan(&t) == nil {
			tokens = append(tokens, t)
		}
	}
	rows.Close()
	if len(tokens) == 0 {
		return "no_device", ""
	}
	local := dueAt
	if loc, err := d.zones.Load(tz); err == nil {
		local = dueAt.In(loc)
	}
	msg := Message{
		Title: "복약 알림",
		Body:  fmt.Sprintf("%s %s%s 복용할 시간이에요 (%s)", name, trimDose(dose), unit, local.Format("15:04")),
		Data: map[string]string{
			"type": "medication_reminder", "schedule_id": fmt.Sprint(scheduleID), "due_at": dueAt.UTC().Format(time.RFC3339),
		},
	}
	sent, retryable := 0, false
	var errs []string
	for _, tok := range tokens {
		m := msg
		m.Token = tok
		err := d.sender.Send(ctx, m)
		var se *SendError
		switch {
		case err == nil:
			sent++
		case errors.Is(err, ErrUnregistered):
			_, _ = d.db.ExecContext(ctx, `DELETE FROM device_tokens WHERE token = ? AND user_id = ?`, tok, userID)
			errs = append(errs, err.Error())
		case errors.As(err, &se) && !se.Retryable:
			errs = append(errs, err.Error())
		default:
			retryable = true
			errs = append(errs, err.Error())
		}
	}
	switch {
	case sent > 0:
		return "sent", strings.Join(errs, "; ")
	case retryable:
		return "retry", strings.Join(errs, "; ")
	default:
		return "failed", strings.Join(errs, "; ")
	}
}

func trimDose(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
