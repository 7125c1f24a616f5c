package auth

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// throttleCount is a login_throttles row: the attempts a subject made in
// its window so far.
type throttleCount struct {
	failures int
	start    time.Time // window_start
	inserted bool      // the row was new (BumpThrottle)
}

// BumpThrottle counts one attempt of a subject and returns its count and
// window start after it, and whether its row is new. A window that started
// at or before cutoff is over and starts again at now with this attempt.
func (s store) BumpThrottle(ctx context.Context, q mysql.Querier, scope string, key []byte, now, cutoff time.Time) (throttleCount, error) {
	// Both IFs read the row's old window_start (failures is assigned first).
	res, err := q.ExecContext(ctx, `INSERT INTO login_throttles (scope, subject, failures, window_start) VALUES (?, ?, 1, ?)
		ON DUPLICATE KEY UPDATE failures = IF(window_start <= ?, 1, failures + 1), window_start = IF(window_start <= ?, ?, window_start)`,
		scope, key, now, cutoff, cutoff, now)
	if err != nil {
		return throttleCount{}, fmt.Errorf("auth: count login attempt: %w", err)
	}
	n, _ := res.RowsAffected()
	c, ok, err := s.ThrottleCount(ctx, q, scope, key)
	if err == nil && !ok {
		err = fmt.Errorf("auth: read login attempts: %w", sql.ErrNoRows) // counted just above: not expected
	}
	c.inserted = n == 1
	return c, err
}

// ThrottleCount reads a subject's count; ok false when it has no row.
func (store) ThrottleCount(ctx context.Context, q mysql.Querier, scope string, key []byte) (c throttleCount, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT failures, window_start FROM login_throttles WHERE scope = ? AND subject = ?`, scope, key).
		Scan(&c.failures, &c.start)
	ok, err = rowFound(err, "read login attempts")
	return c, ok, err
}

// PruneThrottles deletes up to 100 rows of the two scopes whose window
// started before before.
func (store) PruneThrottles(ctx context.Context, q mysql.Querier, scope1, scope2 string, before time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM login_throttles WHERE scope IN (?, ?) AND window_start < ? LIMIT 100`,
		scope1, scope2, before); err != nil {
		return fmt.Errorf("auth: prune login throttles: %w", err)
	}
	return nil
}

// ClearThrottle deletes a subject's count.
func (store) ClearThrottle(ctx context.Context, q mysql.Querier, scope string, key []byte) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM login_throttles WHERE scope = ? AND subject = ?`, scope, key); err != nil {
		return fmt.Errorf("auth: reset login attempts: %w", err)
	}
	return nil
}

// ReturnAttempt takes one attempt off a subject's count, only in the
// window that started at start and never below zero.
func (store) ReturnAttempt(ctx context.Context, q mysql.Querier, scope string, key []byte, start time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE login_throttles SET failures = failures - 1 WHERE scope = ? AND subject = ? AND window_start = ? AND failures > 0`,
		scope, key, start); err != nil {
		return fmt.Errorf("auth: return login attempt: %w", err)
	}
	return nil
}
