package medication

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/mysql"
)

// Store is the medication SQL: medications, schedules and intakes. Every
// method takes the querier it runs on (the pool, or the transaction of
// care.WriteTx) and has "user_id = caller" in every statement; a row of
// another user is care.ErrNotFound like a missing one. Deleted medications
// and schedules are rows with deleted_at set; "live" ones have none.
type Store struct{}

const (
	medicationColumns = "id, name, role, form, dose, dose_unit, created_at"
	scheduleColumns   = "id, medication_id, times, weekdays, time_zone, active_from"
	intakeColumns     = "id, medication_id, schedule_id, scheduled_at, status, recorded_at"
)

// medicationRow is what a medication body writes.
type medicationRow struct {
	name, role, form string
	dose             float64
	doseUnit         string
}

// scheduleRow is what a schedule body writes: times as "HH:MM,…", weekdays
// as bits (bit 0 Sunday).
type scheduleRow struct {
	medicationID uint64
	times        string
	weekdays     uint8
	timeZone     string
}

// intakeRow is what an intake body writes; scheduleID and scheduledAt are
// nil for an unscheduled dose.
type intakeRow struct {
	medicationID uint64
	scheduleID   *uint64
	scheduledAt  *time.Time
	status       string
	recordedAt   time.Time
}

// storedRule is a schedule row as its doses are computed (MakeRule).
type storedRule struct {
	medicationID uint64
	times        string
	weekdays     uint8
	timeZone     string
	from         time.Time
	to           sql.NullTime
}

// listLive returns a page of the user's live rows of table in id order,
// at most Limit+1 of them (care.Cut).
func listLive[T any](ctx context.Context, q mysql.Querier, table, columns string, scan func(mysql.Scanner) (T, error), userID uint64, p care.Page) ([]T, error) {
	cond, after := p.Keyset("")
	args := append(append([]any{userID}, after...), p.Limit+1)
	items, err := mysql.QueryAll(ctx, q, scan, "SELECT "+columns+" FROM "+table+
		" WHERE user_id = ? AND deleted_at IS NULL"+cond+" ORDER BY id LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("medication: list %s: %w", table, err)
	}
	return items, nil
}

// one reads one row with scan; no row is care.ErrNotFound.
func one[T any](scan func(mysql.Scanner) (T, error), r *sql.Row) (T, error) {
	x, err := scan(r)
	if errors.Is(err, sql.ErrNoRows) {
		return x, care.ErrNotFound
	}
	return x, err
}

// Medications returns a page of the user's live medications.
func (Store) Medications(ctx context.Context, q mysql.Querier, userID uint64, p care.Page) ([]Medication, error) {
	return listLive(ctx, q, "medications", medicationColumns, scanMedication, userID, p)
}

// Medication returns the user's live medication id, locked for update when lock.
func (Store) Medication(ctx context.Context, q mysql.Querier, userID, id uint64, lock bool) (Medication, error) {
	query := "SELECT " + medicationColumns + " FROM medications WHERE id = ? AND user_id = ? AND deleted_at IS NULL"
	if lock {
		query += " FOR UPDATE"
	}
	return one(scanMedication, q.QueryRowContext(ctx, query, id, userID))
}

// CreateMedication inserts a medication and returns its id.
func (Store) CreateMedication(ctx context.Context, q mysql.Querier, userID uint64, m medicationRow) (uint64, error) {
	res, err := q.ExecContext(ctx, "INSERT INTO medications (user_id, name, role, form, dose, dose_unit) VALUES (?, ?, ?, ?, ?, ?)",
		userID, m.name, m.role, m.form, m.dose, m.doseUnit)
	if err != nil {
		return 0, fmt.Errorf("medication: insert: %w", err)
	}
	id, _ := res.LastInsertId()
	return uint64(id), nil
}

// UpdateMedication replaces the user's live medication id.
func (Store) UpdateMedication(ctx context.Context, q mysql.Querier, userID, id uint64, m medicationRow) error {
	_, err := q.ExecContext(ctx, "UPDATE medications SET name = ?, role = ?, form = ?, dose = ?, dose_unit = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL",
		m.name, m.role, m.form, m.dose, m.doseUnit, id, userID)
	if err != nil {
		return fmt.Errorf("medication: update: %w", err)
	}
	return nil
}

// DeleteMedication soft-deletes the medication id and its schedules at now.
func (Store) DeleteMedication(ctx context.Context, q mysql.Querier, userID, id uint64, now time.Time) error {
	if _, err := q.ExecContext(ctx, "UPDATE medication_schedules SET deleted_at = ? WHERE medication_id = ? AND user_id = ? AND deleted_at IS NULL", now, id, userID); err != nil {
		return fmt.Errorf("medication: delete schedules: %w", err)
	}
	if _, err := q.ExecContext(ctx, "UPDATE medications SET deleted_at = ? WHERE id = ? AND user_id = ?", now, id, userID); err != nil {
		return fmt.Errorf("medication: delete: %w", err)
	}
	return nil
}

// Schedules returns a page of the user's live schedules.
func (Store) Schedules(ctx context.Context, q mysql.Querier, userID uint64, p care.Page) ([]Schedule, error) {
	return listLive(ctx, q, "medication_schedules", scheduleColumns, scanSchedule, userID, p)
}

// Schedule returns the user's live schedule id.
func (Store) Schedule(ctx context.Context, q mysql.Querier, userID, id uint64) (Schedule, error) {
	return one(scanSchedule, q.QueryRowContext(ctx, "SELECT "+scheduleColumns+" FROM medication_schedules WHERE id = ? AND user_id = ? AND deleted_at IS NULL", id, userID))
}

// CloseSchedule soft-deletes the user's live schedule id at now, which ends
// its due doses (care.ErrNotFound: none).
func (Store) CloseSchedule(ctx context.Context, q mysql.Querier, userID, id uint64, now time.Time) error {
	if err := care.ExecOne(ctx, q, "UPDATE medication_schedules SET deleted_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL", now, id, userID); err != nil {
		return fmt.Errorf("medication: close schedule: %w", err)
	}
	return nil
}

// CreateSchedule inserts a schedule active from now and returns its id.
func (Store) CreateSchedule(ctx context.Context, q mysql.Querier, userID uint64, s scheduleRow, now time.Time) (uint64, error) {
	res, err := q.ExecContext(ctx, "INSERT INTO medication_schedules (user_id, medication_id, times, weekdays, time_zone, active_from) VALUES (?, ?, ?, ?, ?, ?)",
		userID, s.medicationID, s.times, s.weekdays, s.timeZone, now)
	if err != nil {
		return 0, fmt.Errorf("medication: insert schedule: %w", err)
	}
	id, _ := res.LastInsertId()
	return uint64(id), nil
}

// Rule returns the user's schedule id as its doses are computed, deleted
// ones included (a dose due before the schedule changed can still be
// recorded).
func (Store) Rule(ctx context.Context, q mysql.Querier, userID, id uint64) (storedRule, error) {
	var r storedRule
	err := q.QueryRowContext(ctx, "SELECT medication_id, times, weekdays, time_zone, active_from, deleted_at FROM medication_schedules WHERE id = ? AND user_id = ?", id, userID).
		Scan(&r.medicationID, &r.times, &r.weekdays, &r.timeZone, &r.from, &r.to)
	if errors.Is(err, sql.ErrNoRows) {
		return r, care.ErrNotFound
	}
	return r, err
}

// Intakes returns a page of the user's intakes recorded in the page's range.
func (Store) Intakes(ctx context.Context, q mysql.Querier, userID uint64, p care.Page) ([]Intake, error) {
	cond, after := p.Keyset("recorded_at")
	args := append(append([]any{userID, p.From, p.To}, after...), p.Limit+1)
	items, err := mysql.QueryAll(ctx, q, scanIntake, "SELECT "+intakeColumns+
		" FROM medication_intakes WHERE user_id = ? AND recorded_at >= ? AND recorded_at < ?"+cond+" ORDER BY recorded_at, id LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("medication: list intakes: %w", err)
	}
	return items, nil
}

// Intake returns the user's intake id.
func (Store) Intake(ctx context.Context, q mysql.Querier, userID, id uint64) (Intake, error) {
	return one(scanIntake, q.QueryRowContext(ctx, "SELECT "+intakeColumns+" FROM medication_intakes WHERE id = ? AND user_id = ?", id, userID))
}

// ErrDoseRecorded is CreateIntake's answer for a scheduled dose already recorded.
var ErrDoseRecorded = errors.New("medication: dose already recorded")

// CreateIntake inserts an intake and returns its id; a dose of a schedule
// recorded before is ErrDoseRecorded.
func (Store) CreateIntake(ctx context.Context, q mysql.Querier, userID uint64, x intakeRow) (uint64, error) {
	res, err := q.ExecContext(ctx, "INSERT INTO medication_intakes (user_id, medication_id, schedule_id, scheduled_at, status, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
		userID, x.medicationID, x.scheduleID, x.scheduledAt, x.status, x.recordedAt)
	if mysql.IsDuplicateKey(err) {
		return 0, ErrDoseRecorded
	}
	if err != nil {
		return 0, fmt.Errorf("medication: insert intake: %w", err)
	}
	id, _ := res.LastInsertId()
	return uint64(id), nil
}

// DeleteIntake deletes the user's intake id (care.ErrNotFound: none).
func (Store) DeleteIntake(ctx context.Context, q mysql.Querier, userID, id uint64) error {
	if err := care.ExecOne(ctx, q, "DELETE FROM medication_intakes WHERE id = ? AND user_id = ?", id, userID); err != nil {
		return fmt.Errorf("medication: delete intake: %w", err)
	}
	return nil
}
