package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/mysql"
)

// Store is the records' SQL: the action plan and the four record tables.
// Every method takes the querier it runs on (the pool, or the transaction
// of care.WriteTx) and has "user_id = caller" in every statement; a row of
// another user is care.ErrNotFound like a missing one.
type Store struct {
	symptoms     table[Symptom]
	peakFlows    table[PeakFlow]
	actResults   table[ACTResult]
	healthEvents table[HealthEvent]
}

// NewStore returns the store.
func NewStore() Store {
	return Store{
		symptoms: table[Symptom]{name: "symptom_records", order: "recorded_at", scan: scanSymptom,
			columns: "id, recorded_at, severity, night_waking, activity_limited, triggers, memo"},
		peakFlows: table[PeakFlow]{name: "peak_flow_records", order: "recorded_at", scan: scanPeakFlow,
			columns: "id, recorded_at, value_lpm, slot, personal_best_lpm, percent_of_best, zone"},
		actResults: table[ACTResult]{name: "act_results", order: "recorded_at", scan: scanACT,
			columns: "id, recorded_at, q1, q2, q3, q4, q5, total"},
		healthEvents: table[HealthEvent]{name: "health_events", order: "start_date", dates: true, scan: ScanHealthEvent,
			columns: "id, kind, start_date, end_date, memo"},
	}
}

// Plan returns the user's plan (the default one when none was saved).
func (Store) Plan(ctx context.Context, q mysql.Querier, userID uint64) (Plan, error) {
	p := Plan{TimeZone: care.DefaultTimeZone}
	var best sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT personal_best_lpm, time_zone FROM care_plans WHERE user_id = ?`, userID).Scan(&best, &p.TimeZone)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("records: load plan: %w", err)
	}
	if best.Valid {
		n := int(best.Int64)
		p.PersonalBestLPM = &n
	}
	return p, nil
}

// SavePlan replaces the user's plan.
func (Store) SavePlan(ctx context.Context, q mysql.Querier, userID uint64, p Plan) error {
	_, err := q.ExecContext(ctx, `INSERT INTO care_plans (user_id, personal_best_lpm, time_zone) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE personal_best_lpm = VALUES(personal_best_lpm), time_zone = VALUES(time_zone)`,
		userID, p.PersonalBestLPM, p.TimeZone)
	if err != nil {
		return fmt.Errorf("records: save plan: %w", err)
	}
	return nil
}

// DeletePlan removes the user's plan: the default one applies again.
func (Store) DeletePlan(ctx context.Context, q mysql.Querier, userID uint64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM care_plans WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("records: delete plan: %w", err)
	}
	return nil
}

// PersonalBest returns the personal best a peak-flow reading is measured
// against (not valid: none). A new reading (id 0) takes the plan's, read
// with a shared lock so the stored zone matches the best it names; a
// stored one keeps the best of its first recording.
func (Store) PersonalBest(ctx context.Context, q mysql.Querier, userID, id uint64) (sql.NullInt64, error) {
	var best sql.NullInt64
	var err error
	if id == 0 {
		err = q.QueryRowContext(ctx, `SELECT personal_best_lpm FROM care_plans WHERE user_id = ? LOCK IN SHARE MODE`, userID).Scan(&best)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
	} else {
		err = q.QueryRowContext(ctx, `SELECT personal_best_lpm FROM peak_flow_records WHERE id = ? AND user_id = ?`, id, userID).Scan(&best)
	}
	if err != nil {
		return best, fmt.Errorf("records: personal best: %w", err)
	}
	return best, nil
}

// table is one record table: the columns read (id first), the column its
// lists are ordered and ranged by (a DATE when dates) and how a row is read.
type table[T any] struct {
	name    string
	columns string
	order   string
	dates   bool
	scan    func(mysql.Scanner) (T, error)
}

// column is one written column and its value.
type column struct {
	name  string
	value any
}

// list returns the user's rows with lo <= order < hi after the page's
// cursor, in (order, id) order, at most Limit+1 of them (care.Cut).
func (t table[T]) list(ctx context.Context, q mysql.Querier, userID uint64, lo, hi any, p care.Page) ([]T, error) {
	cond, after := p.Keyset(t.order)
	query := "SELECT " + t.columns + " FROM " + t.name + " WHERE user_id = ? AND " + t.order + " >= ? AND " + t.order + " < ?" +
		cond + " ORDER BY " + t.order + ", id LIMIT ?"
	args := append(append([]any{userID, lo, hi}, after...), p.Limit+1)
	items, err := mysql.QueryAll(ctx, q, t.scan, query, args...)
	if err != nil {
		return nil, fmt.Errorf("records: list %s: %w", t.name, err)
	}
	return items, nil
}

// get returns the user's row id.
func (t table[T]) get(ctx context.Context, q mysql.Querier, userID, id uint64) (T, error) {
	item, err := t.scan(q.QueryRowContext(ctx, "SELECT "+t.columns+" FROM "+t.name+" WHERE id = ? AND user_id = ?", id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return item, care.ErrNotFound
	}
	if err != nil {
		return item, fmt.Errorf("records: get %s: %w", t.name, err)
	}
	return item, nil
}

// insert adds a row of the user and returns its id.
func (t table[T]) insert(ctx context.Context, q mysql.Querier, userID uint64, cols []column) (uint64, error) {
	names, args := []string{"user_id"}, []any{userID}
	for _, c := range cols {
		names, args = append(names, c.name), append(args, c.value)
	}
	marks := strings.Repeat(", ?", len(cols))
	res, err := q.ExecContext(ctx, "INSERT INTO "+t.name+" ("+strings.Join(names, ", ")+") VALUES (?"+marks+")", args...)
	if err != nil {
		return 0, fmt.Errorf("records: insert %s: %w", t.name, err)
	}
	id, _ := res.LastInsertId()
	return uint64(id), nil
}

// lock locks the user's row id for update.
func (t table[T]) lock(ctx context.Context, q mysql.Querier, userID, id uint64) error {
	var found uint64
	err := q.QueryRowContext(ctx, "SELECT id FROM "+t.name+" WHERE id = ? AND user_id = ? FOR UPDATE", id, userID).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return care.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("records: lock %s: %w", t.name, err)
	}
	return nil
}

// update sets the columns of the user's row id.
func (t table[T]) update(ctx context.Context, q mysql.Querier, userID, id uint64, cols []column) error {
	sets, args := make([]string, len(cols)), make([]any, 0, len(cols)+2)
	for i, c := range cols {
		sets[i], args = c.name+" = ?", append(args, c.value)
	}
	_, err := q.ExecContext(ctx, "UPDATE "+t.name+" SET "+strings.Join(sets, ", ")+" WHERE id = ? AND user_id = ?", append(args, id, userID)...)
	if err != nil {
		return fmt.Errorf("records: update %s: %w", t.name, err)
	}
	return nil
}

// remove deletes the user's row id (care.ErrNotFound: none).
func (t table[T]) remove(ctx context.Context, q mysql.Querier, userID, id uint64) error {
	if err := care.ExecOne(ctx, q, "DELETE FROM "+t.name+" WHERE id = ? AND user_id = ?", id, userID); err != nil {
		return fmt.Errorf("records: remove %s: %w", t.name, err)
	}
	return nil
}
