package reminder

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// queue is the dispatcher's SQL: the schedules that make doses due, the
// reminder_deliveries rows (planned, claimed under a lease, settled) and what
// a reminder needs to say and where to send it. Every write that follows a
// claim matches only while the claim holds (claimed_by and attempts).
type queue struct{ db *sql.DB }

// scheduleRow is one live schedule of a live medication.
type scheduleRow struct {
	id, userID uint64
	times, tz  string
	weekdays   uint8
	activeFrom time.Time
}

// schedules lists every live schedule of a live medication.
func (q queue) schedules(ctx context.Context) ([]scheduleRow, error) {
	out, err := mysql.QueryAll(ctx, q.db, func(rows mysql.Scanner) (scheduleRow, error) {
		var s scheduleRow
		err := rows.Scan(&s.id, &s.userID, &s.times, &s.weekdays, &s.tz, &s.activeFrom)
		return s, err
	}, `SELECT s.id, s.user_id, s.times, s.weekdays, s.time_zone, s.active_from
		FROM medication_schedules s JOIN medications m ON m.id = s.medication_id
		WHERE s.deleted_at IS NULL AND m.deleted_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("reminder: schedules: %w", err)
	}
	return out, nil
}

// plan inserts a pending delivery per due dose, 500 a statement. The unique
// key is the claim: a row already planned (by this or another dispatcher)
// stays as it is.
func (q queue) plan(ctx context.Context, dues []due) error {
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
		sb.WriteString(" ON DUPLICATE KEY UPDATE id = id")
		if _, err := q.db.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("reminder: plan: %w", err)
		}
	}
	return nil
}

// candidates lists up to 500 rows that were claimable at now.
func (q queue) candidates(ctx context.Context, now time.Time) ([]claim, error) {
	out, err := mysql.QueryAll(ctx, q.db, func(rows mysql.Scanner) (claim, error) {
		var r claim
		err := rows.Scan(&r.id, &r.scheduleID, &r.userID, &r.dueAt, &r.attempts)
		return r, err
	}, `SELECT d.id, d.schedule_id, d.user_id, d.due_at, d.attempts
		FROM reminder_deliveries d
		WHERE d.status IN ('pending', 'retry') AND d.next_attempt_at <= ? AND (d.claimed_until IS NULL OR d.claimed_until < ?)
		ORDER BY d.next_attempt_at LIMIT 500`, now, now)
	if err != nil {
		return nil, fmt.Errorf("reminder: pending: %w", err)
	}
	return out, nil
}

// claim takes r for by until `until` when, at `at`, it is still as read and
// its lease is free; false when it is not.
func (q queue) claim(ctx context.Context, r claim, by string, at, until time.Time) (bool, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE reminder_deliveries SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1
		WHERE id = ? AND attempts = ? AND status IN ('pending', 'retry') AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)`,
		by, until, r.id, r.attempts, at, at)
	return one(res, err, "claim")
}

// renew extends by's unexpired lease on c to `until`. (GREATEST makes the
// UPDATE change the row even when the clock has not moved, so the
// affected-row count tells a match.)
func (q queue) renew(ctx context.Context, c claim, by string, at, until time.Time) (bool, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE reminder_deliveries SET claimed_until = GREATEST(?, claimed_until + INTERVAL 1 MICROSECOND)
		WHERE id = ? AND claimed_by = ? AND attempts = ? AND status IN ('pending', 'retry') AND claimed_until >= ?`,
		until, c.id, by, c.attempts, at)
	return one(res, err, "renew lease")
}

// outcome is how a claimed delivery ends (or waits for its next attempt).
type outcome struct {
	status, lastErr string
	sentAt          any // time.Time when sent, nil otherwise
	next            time.Time
}

// settle records o on c while by still holds the claim (a lease that merely
// expired is still by's until someone re-claims the row); false when it
// does not.
func (q queue) settle(ctx context.Context, c claim, by string, o outcome) (bool, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE reminder_deliveries SET status = ?, sent_at = ?, last_error = NULLIF(?, ''), next_attempt_at = ?, claimed_until = NULL
		WHERE id = ? AND claimed_by = ? AND attempts = ?`, o.status, o.sentAt, o.lastErr, o.next, c.id, by, c.attempts)
	return one(res, err, "record outcome")
}

// one reports whether an UPDATE changed exactly one row.
func one(res sql.Result, err error, what string) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("reminder: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("reminder: %s: %w", what, err)
	}
	return n == 1, nil
}

// doseRecorded reports whether the dose of schedule due at dueAt has an
// intake (taken or skipped). Intakes of a scheduled dose carry the schedule
// and the due instant (medication validates it is one of the schedule's), so
// this is one lookup on uk_medication_intakes_dose.
func (q queue) doseRecorded(ctx context.Context, scheduleID uint64, dueAt time.Time) (bool, error) {
	var one int
	err := q.db.QueryRowContext(ctx, `SELECT 1 FROM medication_intakes WHERE schedule_id = ? AND scheduled_at = ? LIMIT 1`, scheduleID, dueAt.UTC()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reminder: intake of schedule %d at %s: %w", scheduleID, dueAt.UTC().Format(time.RFC3339), err)
	}
	return true, nil
}

// scheduledDose reads what a reminder of the schedule says.
func (q queue) scheduledDose(ctx context.Context, scheduleID uint64) (scheduledDose, error) {
	var s scheduledDose
	err := q.db.QueryRowContext(ctx, `SELECT m.name, m.dose, m.dose_unit, s.time_zone FROM medication_schedules s
		JOIN medications m ON m.id = s.medication_id WHERE s.id = ?`, scheduleID).Scan(&s.name, &s.dose, &s.unit, &s.tz)
	return s, err
}

// deviceTokens lists up to 20 device tokens of the user; any row that
// cannot be read fails the whole list, so a reminder never goes to some
// devices while others were silently left out.
func (q queue) deviceTokens(ctx context.Context, userID uint64) ([]string, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT token FROM device_tokens WHERE user_id = ? ORDER BY id LIMIT 20`, userID)
	if err != nil {
		return nil, fmt.Errorf("reminder: device tokens: %w", err)
	}
	defer rows.Close()
	return scanTokens(rows)
}
