package care

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/soomcare/soomcare/mysql"
)

// The care kit's SQL: the records version (see version.go), the plan's
// zone and the one-row statement helper the care stores share.

// PlanZone returns the time zone name of userID's action plan,
// DefaultTimeZone when the user has none.
func PlanZone(ctx context.Context, q mysql.Querier, userID uint64) (string, error) {
	var name sql.NullString
	err := q.QueryRowContext(ctx, `SELECT time_zone FROM care_plans WHERE user_id = ?`, userID).Scan(&name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("care: plan zone: %w", err)
	}
	if name.String == "" {
		return DefaultTimeZone, nil
	}
	return name.String, nil
}

// ExecOne runs a statement that changes one of the caller's rows (an
// update or delete with "id = ? AND user_id = ?"): no row changed is
// ErrNotFound.
func ExecOne(ctx context.Context, q mysql.Querier, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// BumpVersion increments the user's records version. Call it first in the
// write's transaction: the row lock it takes then orders every care write
// of that user the same way, so two of them cannot deadlock on other rows.
func BumpVersion(ctx context.Context, q mysql.Querier, userID uint64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO care_versions (user_id, version) VALUES (?, 1)
		ON DUPLICATE KEY UPDATE version = version + 1`, userID)
	if err != nil {
		return fmt.Errorf("care: bump version: %w", err)
	}
	return nil
}

// Version returns the user's records version (0 before the first write).
func Version(ctx context.Context, q mysql.Querier, userID uint64) (uint64, error) {
	var v uint64
	err := q.QueryRowContext(ctx, `SELECT version FROM care_versions WHERE user_id = ?`, userID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("care: version: %w", err)
	}
	return v, nil
}
